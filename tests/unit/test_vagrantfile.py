"""The Vagrantfile: valid for both providers, and strict about what it reads.

`vagrant validate` loads the Vagrantfile and checks every provider block
(VirtualBox included, which cannot run on the machines this is tested on);
the VM tier (tests/vm) proves the libvirt path in a real VM.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import PROJECT


def vagrant_validate(project: Path, **env: str) -> subprocess.CompletedProcess:
    vagrant = shutil.which("vagrant")
    assert vagrant, "vagrant is not installed (apt-get install vagrant vagrant-libvirt)"
    return subprocess.run(
        [vagrant, "validate"],
        check=False,
        cwd=project,
        env={**os.environ, "VAGRANT_CHECKPOINT_DISABLE": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """The Vagrantfile and the inventory it reads, in a folder a test may change."""
    shutil.copy(PROJECT / "Vagrantfile", tmp_path / "Vagrantfile")
    shutil.copytree(PROJECT / "inventory", tmp_path / "inventory")
    return tmp_path


def test_vagrantfile_validates():
    result = vagrant_validate(PROJECT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout


@pytest.mark.parametrize("driver", ["kvm", "qemu"])
def test_both_libvirt_drivers_are_accepted(driver):
    result = vagrant_validate(PROJECT, INCEPTION_LIBVIRT_DRIVER=driver)
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_libvirt_driver_is_refused_by_name():
    result = vagrant_validate(PROJECT, INCEPTION_LIBVIRT_DRIVER="xen")
    assert result.returncode != 0
    assert "INCEPTION_LIBVIRT_DRIVER must be kvm or qemu, not xen" in result.stdout + result.stderr


def test_memory_that_is_not_a_number_is_refused():
    result = vagrant_validate(PROJECT, INCEPTION_MEMORY="2G")
    assert result.returncode != 0
    assert "2G" in result.stdout + result.stderr


def test_domain_templated_beyond_the_login_is_refused(project_copy):
    settings = project_copy / "inventory" / "group_vars" / "all.yml"
    text = settings.read_text()
    templated_by_login = 'inception_domain: "{{ inception_login }}.42.fr"'
    assert templated_by_login in text
    settings.write_text(text.replace(templated_by_login, 'inception_domain: "{{ site_name }}.42.fr"'))
    result = vagrant_validate(project_copy)
    assert result.returncode != 0
    assert "inception_domain must be plain text" in result.stdout + result.stderr


def test_missing_vm_port_is_named(project_copy):
    hosts = project_copy / "inventory" / "vm" / "hosts.yml"
    hosts.write_text(hosts.read_text().replace("target_https_forwarded_port: 8443", ""))
    result = vagrant_validate(project_copy)
    assert result.returncode != 0
    assert "target_https_forwarded_port" in result.stdout + result.stderr
