"""Shared paths and helpers for the unit tests (no target needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.plugins.loader import init_plugin_loader

# Ansible's collection finder must be installed before anything imports
# `ansible_collections` as a plain package (test_toolchain does), or lookups
# from collections cannot be loaded in the same process afterwards.
init_plugin_loader()

PROJECT = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (PROJECT / "roles").iterdir() if (p / "tasks" / "main.yml").exists())


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text()) if path.exists() else None


@pytest.fixture(scope="session")
def project() -> Path:
    return PROJECT


def run_role_here(workdir: Path, role: str, role_vars: dict, timeout: int = 180) -> tuple[int, dict]:
    """Runs one of the project's roles on this machine (connection local).

    Returns ansible-playbook's exit code and its report (the json callback).
    """
    playbook = workdir / f"{role}.yml"
    play = {
        "name": role,
        "hosts": "localhost",
        "gather_facts": False,
        "roles": [{"role": role, "vars": role_vars}],
    }
    playbook.write_text(json.dumps([play]))  # JSON is YAML
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(PROJECT / "roles"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "-c", "local", str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=timeout,
    )
    # The timing callback (ansible.cfg) writes lines of its own around the report.
    report, _ = json.JSONDecoder().raw_decode(done.stdout[done.stdout.index("{") :])
    return done.returncode, report
