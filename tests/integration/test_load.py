"""A minute of HTTPS load on the home page: every answer a 2xx, no restart.

wrk (Debian's package) runs on the target itself and reaches the stack's 443
through the target's loopback, under the site's name (SNI). A Lua script
counts the answers per status code in every wrk thread, so "no non-2xx" is
read from the answers themselves, not from wrk's summary (which counts 3xx
as success). The result goes to artifacts/load-<host>.json.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.support.site import install_on_target, save_artifact

pytestmark = pytest.mark.evaluation("load")

DURATION_S = 60
CONNECTIONS = 64

# Each wrk thread tallies status codes; done() adds the threads up.
_STATUS_COUNTER = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  io.write("STATUSES {" .. table.concat(parts, ", ") .. "}\n")
  io.write(string.format("ERRORS %d %d %d %d %d\n", summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
  io.write(string.format("LATENCY_MS %.1f %.1f\n", latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
end
"""


def restart_marks(docker, target) -> dict[str, str]:
    """Each container's restart count and start time: any restart changes it."""
    return {
        service: docker("inspect", "-f", "{{.RestartCount}} {{.State.StartedAt}}", service).strip()
        for service in target.services
    }


@pytest.fixture(scope="module")
def load_run(host, target, docker):
    install_on_target(host, "wrk")
    script = "/tmp/inception-status-counter.lua"
    host.check_output("printf '%%s' %s > %s", _STATUS_COUNTER, script)
    before = restart_marks(docker, target)
    output = host.check_output(
        "wrk --threads 2 --connections %s --duration %ss --timeout 10s --script %s https://%s/",
        str(CONNECTIONS),
        str(DURATION_S),
        script,
        target.domain,
    )
    after = restart_marks(docker, target)
    statuses = {int(k): v for k, v in json.loads(re.search(r"^STATUSES (.*)$", output, re.M)[1]).items()}
    errors = [int(n) for n in re.search(r"^ERRORS (.*)$", output, re.M)[1].split()]
    p50, p99 = (float(n) for n in re.search(r"^LATENCY_MS (.*)$", output, re.M)[1].split())
    result = {
        "connections": CONNECTIONS,
        "duration_s": DURATION_S,
        "statuses": statuses,
        "requests_per_s": float(re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)[1]),
        "latency_p50_ms": p50,
        "latency_p99_ms": p99,
        "socket_errors": dict(zip(("connect", "read", "write", "status", "timeout"), errors, strict=True)),
    }
    save_artifact(f"load-{host.backend.host}.json", result)
    return result, before, after


def test_every_answer_under_load_is_a_2xx(load_run):
    result, _, _ = load_run
    assert sum(result["statuses"].values()) > 0
    assert {status for status in result["statuses"] if not 200 <= status < 300} == set(), result
    assert result["socket_errors"] == dict.fromkeys(("connect", "read", "write", "status", "timeout"), 0)


def test_no_container_restarts_under_load(load_run):
    _, before, after = load_run
    assert after == before
