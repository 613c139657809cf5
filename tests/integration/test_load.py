"""A minute of HTTPS load on the home page: every answer a 2xx, no restart.

wrk runs on the target itself (tests/support/load.py). The result goes to
artifacts/load-<host>.json.
"""

from __future__ import annotations

import pytest

from tests.support.load import SOCKET_ERRORS, run_wrk
from tests.support.site import save_artifact

pytestmark = pytest.mark.evaluation("load")

DURATION_S = 60
CONNECTIONS = 64


def restart_marks(docker, target) -> dict[str, str]:
    """Each container's restart count and start time: any restart changes it."""
    return {
        service: docker("inspect", "-f", "{{.RestartCount}} {{.State.StartedAt}}", service).strip()
        for service in target.services
    }


@pytest.fixture(scope="module")
def load_run(host, target, docker):
    before = restart_marks(docker, target)
    result = run_wrk(host, target, CONNECTIONS, DURATION_S)
    after = restart_marks(docker, target)
    save_artifact(f"load-{host.backend.host}.json", result)
    return result, before, after


def test_every_answer_under_load_is_a_2xx(load_run):
    result, _, _ = load_run
    assert sum(result["statuses"].values()) > 0
    assert {status for status in result["statuses"] if not 200 <= status < 300} == set(), result
    assert result["socket_errors"] == dict.fromkeys(SOCKET_ERRORS, 0)


def test_no_container_restarts_under_load(load_run):
    _, before, after = load_run
    assert after == before
