"""scripts/up: which target it chooses, and why, and what it then runs: on a
machine without a hypervisor, and with stand-in tools that answer like
VirtualBox, libvirt, Vagrant and Ansible and write down how they were called."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.support.project import PROJECT

# What the script needs besides the tools it looks for (vagrant, virsh, docker).
BASIC_TOOLS = ("bash", "dirname", "grep", "sed", "cat")


def run_up(tmp_path, stand_ins: dict[str, str] | None = None, **env: str) -> subprocess.CompletedProcess:
    """scripts/up with a PATH that has only the basic tools (no Vagrant, no
    Docker), plus the given stand-ins: each a tool's name and the shell code
    it runs after writing its name and arguments to calls.log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in BASIC_TOOLS:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    for tool, body in (stand_ins or {}).items():
        stand_in = bin_dir / tool
        stand_in.write_text(f'#!/bin/bash\necho "{tool} $*" >> {tmp_path}/calls.log\n{body}\n')
        stand_in.chmod(0o755)
    return subprocess.run(
        [str(PROJECT / "scripts" / "up")],
        check=False,
        capture_output=True,
        text=True,
        env={"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/root"), **env},
        timeout=60,
    )


def test_without_vagrant_it_chooses_the_container_target_and_says_why(tmp_path):
    result = run_up(tmp_path)
    assert "up: target: container (vagrant is not installed)" in result.stdout
    # ... and stops clearly, since there is no Docker engine either.
    assert result.returncode != 0
    assert "the container target needs a running Docker engine" in result.stderr


def test_asking_for_a_vm_where_none_can_run_is_refused_with_the_reason(tmp_path):
    result = run_up(tmp_path, INCEPTION_TARGET="vm")
    assert result.returncode != 0
    assert "INCEPTION_TARGET=vm, but no VM can run here: vagrant is not installed" in result.stderr


@pytest.mark.parametrize("choice", ["VM", "docker", "both"])
def test_unknown_target_is_refused_by_name(tmp_path, choice):
    result = run_up(tmp_path, INCEPTION_TARGET=choice)
    assert result.returncode != 0
    assert f"INCEPTION_TARGET must be vm or container, not '{choice}'" in result.stderr


def calls(tmp_path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


# What Ansible prints for the settings scripts/up asks it for.
ANSIBLE = "echo '    msg: jdoe.42.fr:8443:jdoe'"
NOT_RUNNING = "[ \"$1\" = status ] && echo '1,default,state,not_created'; exit 0"
LIBVIRT = {
    "virsh": "exit 0",
    "vagrant": "[ \"$1 $2\" = 'plugin list' ] && echo 'vagrant-libvirt (0.11.2, system)'\n" + NOT_RUNNING,
    "ansible": ANSIBLE,
}


def test_where_virtualbox_runs_it_brings_up_a_virtualbox_vm(tmp_path):
    stand_ins = {"VBoxManage": "exit 0", "vagrant": NOT_RUNNING, "ansible": ANSIBLE}
    result = run_up(tmp_path, stand_ins)
    assert result.returncode == 0, result.stderr
    assert "up: target: Vagrant VM with VirtualBox (VirtualBox runs here)" in result.stdout
    assert "vagrant up --provider virtualbox" in calls(tmp_path)
    assert (
        "Site:         https://jdoe.42.fr (the target's 443 is https://127.0.0.1:8443 here)" in result.stdout
    )
    assert "Trust the CA: .inception/inception-vm/ca.crt" in result.stdout


def test_without_virtualbox_it_brings_up_a_libvirt_vm_and_says_it_is_emulated(tmp_path):
    result = run_up(tmp_path, LIBVIRT, INCEPTION_LIBVIRT_DRIVER="qemu", INCEPTION_BOX="inception/trixie64")
    assert result.returncode == 0, result.stderr
    assert (
        "up: target: Vagrant VM with libvirt, driver qemu (no VirtualBox; libvirt answers)" in result.stdout
    )
    assert "software emulation, 5-10x slower than a host" in result.stdout
    assert "vagrant up --provider libvirt" in calls(tmp_path)
    assert "vagrant provision" not in calls(tmp_path)


def test_a_running_vm_is_provisioned_again_not_brought_up(tmp_path):
    running = dict(LIBVIRT, vagrant="[ \"$1\" = status ] && echo '1,default,state,running'; exit 0")
    running["vagrant"] = (
        "[ \"$1 $2\" = 'plugin list' ] && echo 'vagrant-libvirt (0.11.2, system)'\n" + running["vagrant"]
    )
    result = run_up(tmp_path, running, INCEPTION_LIBVIRT_DRIVER="kvm", INCEPTION_BOX="inception/trixie64")
    assert result.returncode == 0, result.stderr
    assert "vagrant provision" in calls(tmp_path)
    assert not [call for call in calls(tmp_path) if call.startswith("vagrant up")]
    assert "software emulation" not in result.stdout


def test_libvirt_without_its_vagrant_plugin_means_the_container_target(tmp_path):
    stand_ins = {"virsh": "exit 0", "vagrant": "exit 0"}
    result = run_up(tmp_path, stand_ins)
    assert (
        "up: target: container (libvirt is installed but the vagrant-libvirt plugin is not)" in result.stdout
    )
    assert not [call for call in calls(tmp_path) if call.startswith("vagrant up")]
