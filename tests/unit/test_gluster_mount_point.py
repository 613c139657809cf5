"""The gluster_volume role's first check (tasks/mount_point.yml), run on this
machine: a volume is never mounted over a folder that holds files, which
the mount would hide (a site from before Swarm mode, backups from before
they were replicated). A missing or empty folder, or one that is a mount
point already (a second run), passes; a folder that holds a file is refused
by name, and the file is left where it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.ansible_run import ansible_playbook
from tests.support.project import PROJECT


def check_mount_point(workdir: Path, mount_point: Path) -> tuple[int, str]:
    """The role's mount_point entry point on this machine: its exit code and output."""
    playbook = workdir / "mount-point.yml"
    play = {
        "name": "mount point",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Check the mount point",
                "ansible.builtin.include_role": {"name": "gluster_volume", "tasks_from": "mount_point"},
                "vars": {"gluster_volume_name": "backups", "gluster_volume_mount_point": str(mount_point)},
            }
        ],
    }
    playbook.write_text(json.dumps([play]))  # JSON is YAML
    env = {
        "ANSIBLE_ROLES_PATH": str(PROJECT / "roles"),
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
    }
    done = ansible_playbook(["-c", "local", str(playbook)], env, timeout=120)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("state", ["missing", "empty", "a mount point that holds files"])
def test_a_folder_with_nothing_to_hide_passes(tmp_path, state):
    mount_point = {
        "missing": tmp_path / "backups",
        "empty": tmp_path / "backups",
        # /proc is one on every Linux machine, and holds files.
        "a mount point that holds files": Path("/proc"),
    }[state]
    if state == "empty":
        mount_point.mkdir()
    returncode, output = check_mount_point(tmp_path, mount_point)
    assert returncode == 0, output


def test_a_folder_that_holds_files_is_refused_by_name_and_kept(tmp_path):
    mount_point = tmp_path / "backups"
    kept = mount_point / "20261205T010000Z" / "database.sql.gz"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"a backup from before")
    returncode, output = check_mount_point(tmp_path, mount_point)
    assert returncode != 0
    assert f"{mount_point} on localhost holds files and is not mounted" in output, output
    assert "GlusterFS volume backups mounted there would hide them" in output
    assert kept.read_bytes() == b"a backup from before"
