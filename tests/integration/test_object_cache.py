"""The object-cache drop-in (object-cache.php) against the real Redis and
the real WordPress: its own cases (tests/integration/php/
object_cache_cases.php) run through php-fpm in the wordpress container, with
APCu on as for the site; then Redis hung (SIGSTOP) under load, then back."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from tests.support.load import SOCKET_ERRORS, run_wrk
from tests.support.site import php_fpm_json, skip_unless_on, wait_until_healthy, write_php_script

pytestmark = pytest.mark.evaluation("11")

CASES = Path(__file__).parent / "php" / "object_cache_cases.php"
SCRIPT = "/tmp/inception-object-cache-cases.php"
# How long every php-fpm worker leaves a failed Redis alone (the drop-in's
# INCEPTION_REDIS_BACKOFF), and a margin.
BACKOFF_S = 10 + 2

PHASES = {
    "basic": [
        "set then get gives the value back, objects as copies",
        "a missing key is a miss",
        "add stores only what is not there",
        "add is atomic: a value another process stored wins",
        "a value Redis holds that this site did not sign is never unserialized",
        "replace changes only what is there",
        "delete removes from every level",
        "incr and decr count, never below zero",
        "groups keep their own values",
        "a group and a key with colons never meet another pair",
        "a non-persistent group stays in the request",
        "what is set reaches Redis, with a time to live",
        "an entry expires",
        "a transient keeps the lifetime it was given, past five minutes",
        "a transient given no end has none, APCu keeping a short copy",
        "keys that are not keys are refused, never fatal",
        "flush empties every level",
        "the site still reads its options through the cache",
    ],
    "before-failure": ["the stale probe is stored"],
    "redis-hung": [
        "a read waits no longer than the timeout",
        "the next requests leave Redis alone",
        "a delete Redis missed is remembered",
        "the site answers from APCu and the database",
    ],
    "redis-back": [
        "a value deleted while Redis was hung never comes back",
        "Redis is used again, the marks cleared",
    ],
}
CASE_IDS = [(phase, case) for phase, cases in PHASES.items() for case in cases]


def redis_signal(host, signal: str) -> None:
    host.check_output("docker kill --signal %s redis", signal)


@pytest.fixture(scope="module")
def outcomes(host, target, docker) -> dict[str, dict[str, object]]:
    """Every phase's answers, Redis hung (SIGSTOP) between the second and the
    last, and a burst of uncached pages served meanwhile."""
    skip_unless_on(target, "redis")
    write_php_script(host, SCRIPT, CASES.read_text())
    run = uuid.uuid4().hex[:8]

    def phase(name: str) -> dict[str, object]:
        return php_fpm_json(host, target, SCRIPT, f"phase={name}&run={run}")

    results: dict[str, dict[str, object]] = {
        "basic": phase("basic"),
        "before-failure": phase("before-failure"),
    }
    redis_signal(host, "STOP")
    try:
        results["redis-hung"] = phase("redis-hung")
        results["load"] = run_wrk(host, target, 8, 20, headers=["Cookie: wordpress_no_cache=1"])
    finally:
        redis_signal(host, "CONT")
    time.sleep(BACKOFF_S)
    results["redis-back"] = phase("redis-back")
    host.run("docker exec wordpress rm -f %s", SCRIPT)
    wait_until_healthy(host, target.services)
    return results


def test_every_case_of_the_php_suite_is_known(outcomes):
    assert {phase: sorted(outcomes[phase]) for phase in PHASES} == {
        phase: sorted(cases) for phase, cases in PHASES.items()
    }


@pytest.mark.parametrize(("phase", "case"), CASE_IDS, ids=[f"{p}: {c}" for p, c in CASE_IDS])
def test_the_drop_in(outcomes, phase, case):
    assert outcomes[phase].get(case) is True, outcomes[phase].get(case)


def test_a_hung_redis_never_takes_the_site_down(outcomes):
    """Uncached pages, 8 at a time for 20 s, while Redis is stopped (SIGSTOP):
    every answer a 2xx, and the slowest within 2 s."""
    load = outcomes["load"]
    assert sum(load["statuses"].values()) > 0
    assert {status for status in load["statuses"] if not 200 <= status < 300} == set(), load
    assert load["socket_errors"] == dict.fromkeys(SOCKET_ERRORS, 0)
    assert load["latency_p99_ms"] < 2000, load
