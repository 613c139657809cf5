"""The gluster_volume role's first check (tasks/mount_point.yml), run on this
machine: a volume is never mounted over a folder that holds files, which
the mount would hide (a site from before Swarm mode, backups from before
they were replicated). A missing or empty folder, or one that is a mount
point already (a second run), passes; a folder that holds a file is refused
by name, and the file is left where it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.ansible_run import run_role_here


def check_mount_point(workdir: Path, mount_point: Path) -> tuple[int, str]:
    """The role's mount_point entry point on this machine: its exit code and
    what its tasks reported (their messages)."""
    returncode, report = run_role_here(
        workdir,
        "gluster_volume",
        {"gluster_volume_name": "backups", "gluster_volume_mount_point": str(mount_point)},
        timeout=120,
        tasks_from="mount_point",
    )
    messages = [
        str(task["hosts"]["localhost"].get("msg", "")) for play in report["plays"] for task in play["tasks"]
    ]
    return returncode, "\n".join(messages)


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
