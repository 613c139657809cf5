"""scripts/up: which target it chooses, and why, on a machine without a hypervisor."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import PROJECT

# What the script needs besides the tools it looks for (vagrant, virsh, docker).
BASIC_TOOLS = ("bash", "dirname", "grep", "sed", "cat")


def run_up(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """scripts/up with a PATH that has only the basic tools: no Vagrant, no Docker."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in BASIC_TOOLS:
        (bin_dir / tool).symlink_to(shutil.which(tool))
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
