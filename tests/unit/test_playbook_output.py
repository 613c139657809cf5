"""first_failure reads a real ansible-playbook run's output (the project's
ansible.cfg: YAML results, the timing callback), as the VM tier does when a
Vagrant command fails."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.support.ansible_run import ansible_playbook
from tests.support.playbook_output import first_failure


def _play(workdir: Path, tasks: list[dict]) -> str:
    playbook = workdir / "play.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    arguments = ["-c", "local", "-i", "localhost,", "-e", f"ansible_python_interpreter={sys.executable}"]
    return ansible_playbook([*arguments, str(playbook)], {"ANSIBLE_LOCALHOST_WARNING": "false"}, 120).stdout


def test_the_task_that_stopped_the_play_is_named_with_its_error(tmp_path):
    output = _play(
        tmp_path,
        [
            {"name": "A failure the play ignores", "ansible.builtin.command": "false", "ignore_errors": True},
            {"name": "Say something", "ansible.builtin.debug": {"msg": "between"}},
            {
                "name": "Wait for the stack",
                "ansible.builtin.shell": "echo 'container inception-mariadb-1 is unhealthy' >&2; exit 1",
                "changed_when": False,
            },
            {"name": "Never reached", "ansible.builtin.debug": {"msg": "after"}},
        ],
    )
    assert "...ignoring" in output  # the ignored failure is in the output, before the real one
    summary = first_failure(output)
    assert summary is not None
    assert summary.startswith("task [Wait for the stack] ")
    assert "container inception-mariadb-1 is unhealthy" in summary
    assert "\n" not in summary


def test_a_long_result_is_cut_and_a_run_without_failure_has_none(tmp_path):
    failed = _play(tmp_path, [{"name": "Fail long", "ansible.builtin.fail": {"msg": "x" * 1000}}])
    summary = first_failure(failed, limit=100)
    assert summary is not None
    assert len(summary) == 100
    assert summary.endswith("…")
    passed = _play(tmp_path, [{"name": "Pass", "ansible.builtin.debug": {"msg": "fine"}}])
    assert "ok: [localhost]" in passed
    assert first_failure(passed) is None
