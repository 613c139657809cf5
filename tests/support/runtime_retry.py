"""A command the container runtime failed to start is run again.

Under heavy load (the test tiers side by side on two cores), runc sometimes
loses the process it is setting up for `docker exec` before it runs anything:
`docker exec` exits 126 with "OCI runtime exec failed: ... read init-p:
connection reset by peer". Nothing ran, so the command is run again, a few
times at most, and each retry is reported as a warning. Any other failure,
126 for a missing executable included, is returned at once, as it was.

The same loss can hit a container a longer command starts (`docker run`
exits 125 with "OCI runtime create failed: ... read init-p:"); `make up`
then fails half-way. Such a command is run again only where running it
twice is harmless: run_idempotent, for the tree's `make up`, which creates
only what is missing.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable
from typing import Any

import testinfra.host

ATTEMPTS = 3
PAUSE_SECONDS = 1.0


class RuntimeStartRetried(UserWarning):
    """A command was run again: the runtime had failed to start it."""


def runtime_failed_to_start(result) -> bool:
    """Whether `docker exec` failed before the command ran: runc's set-up
    process died (its pipe was reset)."""
    output = f"{result.stdout}{result.stderr}"
    return result.rc == 126 and "OCI runtime exec failed" in output and "read init-p:" in output


def runtime_failed_to_create(result) -> bool:
    """Whether a container the command started (`docker run`, compose) was
    lost by the runtime before its process ran, whatever the command's own
    exit code: runc's set-up process died while the container was created."""
    output = f"{result.stdout}{result.stderr}"
    return result.rc != 0 and "OCI runtime create failed" in output and "read init-p:" in output


def _retried(run_once: Callable[[], Any], lost: Callable[[Any], bool], what: str) -> Any:
    """run_once's result, run again while `lost` says the runtime lost it,
    ATTEMPTS times at most, a warning for each."""
    result = run_once()
    for attempt in range(1, ATTEMPTS):
        if not lost(result):
            break
        # Not the command: its arguments may hold a secret.
        warnings.warn(
            f"the container runtime failed to start {what} (attempt {attempt}); running it again",
            RuntimeStartRetried,
            stacklevel=3,
        )
        time.sleep(PAUSE_SECONDS)
        result = run_once()
    return result


def run_idempotent(run_once: Callable[[], Any]) -> Any:
    """An idempotent command's result (the tree's `make up`), run again while
    the runtime lost a container it started, or the command itself."""
    return _retried(
        run_once,
        lambda result: runtime_failed_to_start(result) or runtime_failed_to_create(result),
        "a container of an idempotent command",
    )


def run_again_when_the_runtime_failed_to_start(run):
    """`run` (testinfra's Host.run), retried while the runtime failed to start it."""

    @functools.wraps(run)
    def run_with_retries(self, command, *args, **kwargs):
        return _retried(
            functools.partial(run, self, command, *args, **kwargs), runtime_failed_to_start, "a command"
        )

    run_with_retries.retries_runtime_failures = True
    return run_with_retries


def install() -> None:
    """Every testinfra host's `run` (and so `check_output`, `run_expect` and
    the modules built on them) retries what the runtime failed to start; once."""
    if not getattr(testinfra.host.Host.run, "retries_runtime_failures", False):
        testinfra.host.Host.run = run_again_when_the_runtime_failed_to_start(testinfra.host.Host.run)
