"""The test tiers run again a command the container runtime failed to start,
and an idempotent command (`make up`) a container of which it lost, and
nothing else (tests/support/runtime_retry.py).

runc's lost set-up process cannot be provoked on demand, so a shell script on
this machine, run through testinfra's local backend, answers as `docker exec`
does in that case: its runs are counted in a file."""

from __future__ import annotations

import functools
import inspect
import shlex

import pytest
import testinfra
import testinfra.host

from tests.support import runtime_retry

RUNC_LOST_ITS_INIT = (
    "OCI runtime exec failed: exec failed: unable to start container process: "
    "waiting for init preliminary setup: read init-p: connection reset by peer: unknown"
)
MISSING_EXECUTABLE = (
    "OCI runtime exec failed: exec failed: unable to start container process: "
    'exec: "mariadb": executable file not found in $PATH: unknown'
)


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setattr(runtime_retry, "PAUSE_SECONDS", 0)
    # testinfra's own run: tests/conftest.py already wrapped it for every tier.
    return runtime_retry.run_again_when_the_runtime_failed_to_start(inspect.unwrap(testinfra.host.Host.run))


@pytest.fixture
def host():
    return testinfra.get_host("local://")


def answering(tmp_path, failures: int, message: str, rc: int = 126) -> tuple[str, object]:
    """A command that fails `failures` times as `docker exec` would, then
    prints "ran"; and the file that counts its runs."""
    runs = tmp_path / "runs"
    script = (
        f"echo run >> {shlex.quote(str(runs))}; "
        f'if [ "$(wc -l < {shlex.quote(str(runs))})" -le {failures} ]; then '
        f"echo {shlex.quote(message)}; exit {rc}; fi; echo ran"
    )
    return f"sh -c {shlex.quote(script)}", runs


def test_a_command_the_runtime_failed_to_start_runs_again_with_a_warning(run, host, tmp_path):
    command, runs = answering(tmp_path, failures=1, message=RUNC_LOST_ITS_INIT)
    with pytest.warns(runtime_retry.RuntimeStartRetried, match="failed to start a command"):
        result = run(host, command)
    assert (result.rc, result.stdout.strip()) == (0, "ran")
    assert runs.read_text().count("run") == 2


def test_the_warning_does_not_show_the_command(run, host, tmp_path):
    command, _ = answering(tmp_path, failures=1, message=RUNC_LOST_ITS_INIT)
    with pytest.warns(runtime_retry.RuntimeStartRetried) as warned:
        run(host, command + " # s3cret-value")
    assert all("s3cret-value" not in str(warning.message) for warning in warned)


def test_a_lasting_failure_is_returned_after_the_last_attempt(run, host, tmp_path):
    command, runs = answering(tmp_path, failures=10, message=RUNC_LOST_ITS_INIT)
    with pytest.warns(runtime_retry.RuntimeStartRetried):
        result = run(host, command)
    assert result.rc == 126
    assert runs.read_text().count("run") == runtime_retry.ATTEMPTS


@pytest.mark.parametrize(
    ("message", "rc"),
    [(MISSING_EXECUTABLE, 126), (RUNC_LOST_ITS_INIT, 1), ("mariadb: access denied", 126)],
    ids=["missing-executable", "other-exit-code", "other-message"],
)
def test_any_other_failure_is_returned_at_once(run, host, tmp_path, message, rc, recwarn):
    command, runs = answering(tmp_path, failures=10, message=message, rc=rc)
    result = run(host, command)
    assert result.rc == rc
    assert runs.read_text().count("run") == 1
    assert not recwarn.list


def test_install_wraps_every_host_once(monkeypatch, host, tmp_path):
    original = inspect.unwrap(testinfra.host.Host.run)
    monkeypatch.setattr(testinfra.host.Host, "run", original)
    monkeypatch.setattr(runtime_retry, "PAUSE_SECONDS", 0)
    runtime_retry.install()
    runtime_retry.install()
    assert testinfra.host.Host.run.__wrapped__ is original
    command, runs = answering(tmp_path, failures=1, message=RUNC_LOST_ITS_INIT)
    with pytest.warns(runtime_retry.RuntimeStartRetried):
        assert host.check_output(command) == "ran"
    assert runs.read_text().count("run") == 2


RUNC_LOST_A_CONTAINER = (
    "docker: Error response from daemon: failed to create task for container: failed to create shim task: "
    "OCI runtime create failed: runc create failed: unable to start container process: "
    "waiting for init preliminary setup: read init-p: connection reset by peer: unknown."
)


def test_an_idempotent_command_whose_container_the_runtime_lost_runs_again(monkeypatch, host, tmp_path):
    """`make up` failing (2) because `docker run` inside it lost its container (125)."""
    monkeypatch.setattr(runtime_retry, "PAUSE_SECONDS", 0)
    command, runs = answering(tmp_path, failures=1, message=RUNC_LOST_A_CONTAINER, rc=2)
    with pytest.warns(runtime_retry.RuntimeStartRetried, match="an idempotent command"):
        result = runtime_retry.run_idempotent(functools.partial(host.run, command))
    assert (result.rc, result.stdout.strip()) == (0, "ran")
    assert runs.read_text().count("run") == 2


def test_a_lost_container_does_not_make_any_other_command_run_again(run, host, tmp_path, recwarn):
    """Only a command declared idempotent is run twice: another may have done half its work."""
    command, runs = answering(tmp_path, failures=10, message=RUNC_LOST_A_CONTAINER, rc=2)
    result = run(host, command)
    assert result.rc == 2
    assert runs.read_text().count("run") == 1
    assert not recwarn.list


@pytest.mark.parametrize(
    ("message", "rc"),
    [("make: *** [Makefile:47: up] Error 1", 2), (RUNC_LOST_A_CONTAINER, 0)],
    ids=["other-failure", "succeeded"],
)
def test_an_idempotent_command_is_run_once_unless_the_runtime_lost_it(
    monkeypatch, host, tmp_path, recwarn, message, rc
):
    monkeypatch.setattr(runtime_retry, "PAUSE_SECONDS", 0)
    command, runs = answering(tmp_path, failures=10, message=message, rc=rc)
    result = runtime_retry.run_idempotent(functools.partial(host.run, command))
    assert result.rc == rc
    assert runs.read_text().count("run") == 1
    assert not recwarn.list
