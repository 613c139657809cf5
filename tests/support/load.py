"""HTTPS load on a target with wrk (Debian's package), run on the target
itself through its loopback under the site's name (SNI). A Lua script counts
the answers per status code in every wrk thread, so "no non-2xx" is read from
the answers themselves, not from wrk's summary (which counts 3xx as success)."""

from __future__ import annotations

import json
import re
import shlex

from tests.support.site import install_on_target

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

SOCKET_ERRORS = ("connect", "read", "write", "status", "timeout")


def run_wrk(host, target, connections: int, duration_s: int, path: str = "/", headers=()) -> dict:
    """wrk on the target for duration_s seconds; the statuses, rate and latencies it measured."""
    install_on_target(host, "wrk")
    script = "/tmp/inception-status-counter.lua"
    host.check_output("printf '%%s' %s > %s", _STATUS_COUNTER, script)
    command = [
        "wrk",
        "--threads",
        "2",
        "--connections",
        str(connections),
        "--duration",
        f"{duration_s}s",
        "--timeout",
        "10s",
        "--script",
        script,
        *(part for header in headers for part in ("--header", header)),
        f"https://{target.domain}{path}",
    ]
    output = host.check_output(shlex.join(command))
    statuses = {int(k): v for k, v in json.loads(re.search(r"^STATUSES (.*)$", output, re.M)[1]).items()}
    errors = [int(n) for n in re.search(r"^ERRORS (.*)$", output, re.M)[1].split()]
    p50, p99 = (float(n) for n in re.search(r"^LATENCY_MS (.*)$", output, re.M)[1].split())
    return {
        "connections": connections,
        "duration_s": duration_s,
        "statuses": statuses,
        "requests_per_s": float(re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)[1]),
        "latency_p50_ms": p50,
        "latency_p99_ms": p99,
        "socket_errors": dict(zip(SOCKET_ERRORS, errors, strict=True)),
    }
