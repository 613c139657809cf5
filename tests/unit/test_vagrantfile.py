"""The Vagrantfile: valid for both providers, and strict about what it reads.

`vagrant validate` loads the Vagrantfile and checks every provider block
(VirtualBox included, which cannot run on the machines this is tested on);
the VM tier (tests/vm) proves the libvirt path in a real VM.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.project import PROJECT, load_yaml


def run_vagrant(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    vagrant = shutil.which("vagrant")
    assert vagrant, "vagrant is not installed (apt-get install vagrant vagrant-libvirt)"
    return subprocess.run(
        [vagrant, *args],
        check=False,
        cwd=project,
        env={**os.environ, "VAGRANT_CHECKPOINT_DISABLE": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def vagrant_validate(project: Path, **env: str) -> subprocess.CompletedProcess:
    return run_vagrant(project, "validate", **env)


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """The Vagrantfile and what it asks Ansible to read, in a folder a test may change.

    Every test validates a copy: the project's own .vagrant/ belongs to the VM
    tier, which may be running at the same time (`make vm` in another shell,
    or a lane given to scripts/test-tiers)."""
    shutil.copy(PROJECT / "Vagrantfile", tmp_path / "Vagrantfile")
    shutil.copy(PROJECT / "ansible.cfg", tmp_path / "ansible.cfg")
    shutil.copy(PROJECT / "swarm.yml", tmp_path / "swarm.yml")
    shutil.copytree(PROJECT / "inventory", tmp_path / "inventory")
    shutil.copytree(PROJECT / "Vagrantfile.d", tmp_path / "Vagrantfile.d")
    (tmp_path / ".venv").symlink_to(PROJECT / ".venv")
    return tmp_path


def cached_settings(project: Path) -> dict:
    return json.loads((project / ".vagrant" / "inventory-settings.json").read_text())["settings"]


def test_vagrantfile_validates(project_copy):
    result = vagrant_validate(project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout


@pytest.mark.parametrize("driver", ["kvm", "qemu"])
def test_both_libvirt_drivers_are_accepted(project_copy, driver):
    result = vagrant_validate(project_copy, INCEPTION_LIBVIRT_DRIVER=driver)
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_libvirt_driver_is_refused_by_name(project_copy):
    result = vagrant_validate(project_copy, INCEPTION_LIBVIRT_DRIVER="xen")
    assert result.returncode != 0
    assert "INCEPTION_LIBVIRT_DRIVER must be kvm or qemu, not xen" in result.stdout + result.stderr


def test_memory_that_is_not_a_number_is_refused(project_copy):
    result = vagrant_validate(project_copy, INCEPTION_MEMORY="2G")
    assert result.returncode != 0
    assert "2G" in result.stdout + result.stderr


@pytest.mark.parametrize("seconds", ["15m", "0", "-300"])
def test_a_boot_timeout_that_is_no_number_of_seconds_is_refused_by_name(project_copy, seconds):
    result = vagrant_validate(project_copy, INCEPTION_BOOT_TIMEOUT=seconds)
    assert result.returncode != 0
    refusal = f"INCEPTION_BOOT_TIMEOUT must be a number of seconds, not {seconds}"
    assert refusal in result.stdout + result.stderr


@pytest.mark.parametrize("nodes", ["1", "3"])
def test_a_console_log_passes_libvirts_own_validation(project_copy, nodes):
    # vagrant-libvirt refuses a file console without a path: it must get one,
    # for the one VM and for each node. The VM tier reads the log itself.
    result = vagrant_validate(
        project_copy, INCEPTION_CONSOLE_LOG="artifacts/console.log", INCEPTION_NODES=nodes
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_settings_are_resolved_by_ansible_like_the_playbook_sees_them(project_copy):
    settings = project_copy / "inventory" / "group_vars" / "all.yml"
    text = settings.read_text()
    templated_by_login = 'inception_domain: "{{ inception_login }}.42.fr"'
    assert templated_by_login in text
    # Any Jinja the playbook accepts, not one pattern re-implemented in Ruby.
    settings.write_text(
        text.replace(templated_by_login, 'inception_domain: "{{ inception_login | upper }}-wp.42.fr"')
    )
    result = vagrant_validate(project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert cached_settings(project_copy)["inception_domain"] == "JDOE-wp.42.fr"
    assert cached_settings(project_copy)["inception_ftp_passive_ports"] == [21000, 21010]


def test_a_changed_inventory_is_asked_again(project_copy):
    assert vagrant_validate(project_copy).returncode == 0
    assert cached_settings(project_copy)["target_https_forwarded_port"] == 8443
    inventory = project_copy / "inventory" / "vm"
    inventory.write_text(
        inventory.read_text().replace(
            "target_https_forwarded_port: 8443", "target_https_forwarded_port: 9445"
        )
    )
    assert vagrant_validate(project_copy).returncode == 0
    assert cached_settings(project_copy)["target_https_forwarded_port"] == 9445


def test_a_setting_ansible_cannot_resolve_is_refused_by_name(project_copy):
    settings = project_copy / "inventory" / "group_vars" / "all.yml"
    text = settings.read_text()
    settings.write_text(text.replace('"{{ inception_login }}.42.fr"', '"{{ site_name }}.42.fr"'))
    result = vagrant_validate(project_copy)
    assert result.returncode != 0
    assert "could not resolve the VM's settings" in result.stdout + result.stderr
    assert "site_name" in result.stdout + result.stderr


def test_missing_vm_port_is_named(project_copy):
    inventory = project_copy / "inventory" / "vm"
    inventory.write_text(inventory.read_text().replace("target_https_forwarded_port: 8443", ""))
    result = vagrant_validate(project_copy)
    assert result.returncode != 0
    assert "target_https_forwarded_port" in result.stdout + result.stderr


def test_the_vm_tiers_overlay_reaches_vagrant_and_the_playbook_alike(project_copy):
    """CI's overlay (tests/vm/inventory) switches the bonus services off and has
    the controller build the images, for Vagrant's forwarded ports as for the
    playbook; inventory/vm alone keeps every default."""
    shutil.copytree(
        PROJECT / "tests" / "vm" / "inventory", project_copy / "tests" / "vm" / "inventory", symlinks=True
    )
    default = vagrant_validate(project_copy)
    assert default.returncode == 0, default.stdout + default.stderr
    assert "vsftpd" in cached_settings(project_copy)["inception_bonus_on"]

    overlaid = vagrant_validate(project_copy, INCEPTION_INVENTORY="tests/vm/inventory")
    assert overlaid.returncode == 0, overlaid.stdout + overlaid.stderr
    assert cached_settings(project_copy)["inception_bonus_on"] == []
    builder = subprocess.run(
        [
            *(str(PROJECT / ".venv" / "bin" / "ansible"), "-i", "tests/vm/inventory", "inception-vm"),
            *("--connection", "local", "-e", "ansible_become=false", "-m", "ansible.builtin.debug"),
            *("-a", "msg={{ [inception_image_builder, inception_project_dir] | to_json }}"),
        ],
        cwd=project_copy,
        env={**os.environ, "ANSIBLE_CONFIG": str(project_copy / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f'["controller", "{project_copy.resolve()}"]' in builder.replace('\\"', '"'), builder


def test_an_inventory_that_is_not_there_is_named(project_copy):
    result = vagrant_validate(project_copy, INCEPTION_INVENTORY="inventory/vms")
    assert result.returncode != 0
    assert "INCEPTION_INVENTORY: no inventory at inventory/vms" in result.stdout + result.stderr


def test_swarm_mode_defines_one_vm_per_node_with_the_inventorys_ports_and_address(project_copy):
    """INCEPTION_NODES=3 vagrant up: the nodes of inventory/swarm, each with the
    ports and address Ansible resolves for it. Validated only: three VMs under
    software emulation do not fit CI here (the cluster is tested on container
    targets, molecule/swarm)."""
    result = vagrant_validate(project_copy, INCEPTION_NODES="3")
    assert result.returncode == 0, result.stdout + result.stderr
    status = run_vagrant(project_copy, "status", "--machine-readable", INCEPTION_NODES="3")
    assert status.returncode == 0, status.stdout + status.stderr
    machines = sorted({line.split(",")[1] for line in status.stdout.splitlines() if ",state," in line})
    nodes = load_yaml(PROJECT / "inventory" / "swarm")["all"]["children"]["swarm_managers"]["hosts"]
    assert machines == sorted(nodes)
    for name, node in nodes.items():
        cached = json.loads((project_copy / ".vagrant" / f"inventory-settings.{name}.json").read_text())
        assert cached["settings"] == {
            "ansible_port": node["ansible_port"],
            "target_https_forwarded_port": node["target_https_forwarded_port"],
            "swarm_cluster_advertise_address": node["swarm_cluster_advertise_address"],
        }


@pytest.mark.parametrize("nodes", ["2", "three"])
def test_a_node_count_that_is_no_cluster_is_refused_by_name(project_copy, nodes):
    result = vagrant_validate(project_copy, INCEPTION_NODES=nodes)
    assert result.returncode != 0
    assert (
        f"INCEPTION_NODES must be 1 (one VM) or 3 and more (a Swarm), not {nodes}"
        in result.stdout + result.stderr
    )


def test_a_node_count_the_inventory_does_not_have_is_refused_with_its_nodes(project_copy):
    result = vagrant_validate(project_copy, INCEPTION_NODES="5")
    assert result.returncode != 0
    assert "INCEPTION_NODES=5, but inventory/swarm has 3 nodes" in result.stdout + result.stderr
