"""A command the container runtime failed to start is run again.

Under heavy load (the test tiers side by side on two cores), runc sometimes
loses the process it is setting up for `docker exec` before it runs anything:
`docker exec` exits 126 with "OCI runtime exec failed: ... read init-p:
connection reset by peer". Nothing ran, so the command is run again, a few
times at most, and each retry is reported as a warning. Any other failure,
126 for a missing executable included, is returned at once, as it was.
"""

from __future__ import annotations

import functools
import time
import warnings

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


def run_again_when_the_runtime_failed_to_start(run):
    """`run` (testinfra's Host.run), retried while the runtime failed to start it."""

    @functools.wraps(run)
    def run_with_retries(self, command, *args, **kwargs):
        result = run(self, command, *args, **kwargs)
        for attempt in range(1, ATTEMPTS):
            if not runtime_failed_to_start(result):
                break
            # Not the command: its arguments may hold a secret.
            warnings.warn(
                f"the container runtime failed to start a command (attempt {attempt}); running it again",
                RuntimeStartRetried,
                stacklevel=2,
            )
            time.sleep(PAUSE_SECONDS)
            result = run(self, command, *args, **kwargs)
        return result

    run_with_retries.retries_runtime_failures = True
    return run_with_retries


def install() -> None:
    """Every testinfra host's `run` (and so `check_output`, `run_expect` and
    the modules built on them) retries what the runtime failed to start; once."""
    if not getattr(testinfra.host.Host.run, "retries_runtime_failures", False):
        testinfra.host.Host.run = run_again_when_the_runtime_failed_to_start(testinfra.host.Host.run)
