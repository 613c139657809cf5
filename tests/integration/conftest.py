"""Fixtures shared by the testinfra suite.

The same files run against the molecule instance, the persistent container
target and the VM: everything target-specific (login, domain, the port the
target's 443 is forwarded to on this machine, the CA's location) is read from
the Ansible inventory, templated by Ansible itself.
"""

from __future__ import annotations

import shlex

import pytest

from tests.support.site import SWITCHED_OFF, Target, read_target
from tests.support.target_files import missing_paths, read_files

# What an evaluator does (SUBJECT.md), then what a careful operator adds.
# Every test says which of these it proves: @pytest.mark.evaluation("<step>").
EVALUATION_STEPS = {
    "1": "No credential in git outside the secrets",
    "2": "Every container, image, volume and network removed, then `make` rebuilds",
    "3": "Nothing forbidden in compose, Makefile, Dockerfiles and scripts",
    "4": "https://<domain> serves the configured site over TLS 1.2/1.3; port 80 fails",
    "5": "Dockerfiles FROM debian:bookworm, images named after services, network, compose ps",
    "6": "Both named volumes keep their data under /home/<login>/data",
    "7": "The user comments and the administrator edits a page, in a browser",
    "8": "The database is not empty; its accounts are as they should be",
    "9": "Reboot: everything comes back, earlier changes still there",
    "10": "A configuration change is rebuilt and works",
    "11": "Bonus services work",
    "crash": "Each container is back and healthy within 10 s of a kill -9",
    "load": "60 s of HTTPS load: only 2xx answers, no restart",
    "performance": "Page cache never serves a personal page; compression, HTTP/2",
    "hardening": "Secrets, privileges, limits, read-only filesystems, TLS grade",
    "docs": "README, USER_DOC and DEV_DOC in the tree, as the subject asks",
    "submission": "The tree's make keeps or makes every secret; a clone beside it runs the same stack",
    "operations": "Healthchecks that mean it: a site without its database; failed or overdue backups;"
    " WordPress's scheduled work runs",
}


def pytest_addoption(parser):
    parser.addoption(
        "--rehearsal",
        action="store_true",
        help="end with one PASS/FAIL line per evaluation step",
    )
    parser.addoption(
        "--steps",
        default="",
        help="run only the tests of these evaluation steps (comma-separated), e.g. for a tree-only target",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "evaluation(step): the evaluation step a test proves")
    steps = [step for step in config.getoption("--steps").split(",") if step]
    unknown = sorted(set(steps) - set(EVALUATION_STEPS))
    if unknown:
        raise pytest.UsageError(f"--steps: unknown step(s) {', '.join(unknown)}")
    rehearsal = _Rehearsal(config.getoption("--rehearsal"), steps or list(EVALUATION_STEPS))
    config.pluginmanager.register(rehearsal, "inception-rehearsal")


class _Rehearsal:
    """Maps each test to its evaluation step, keeps the steps asked for and,
    when asked, reports per step."""

    def __init__(self, report: bool, steps: list[str]):
        self.report = report
        self.outcomes: dict[str, dict[str, str]] = {step: {} for step in steps}
        self.step_of: dict[str, str] = {}

    def pytest_collection_modifyitems(self, config, items):
        kept, left_out = [], []
        for item in items:
            marker = item.get_closest_marker("evaluation")
            if marker is None or marker.args[0] not in EVALUATION_STEPS:
                raise pytest.UsageError(f"{item.nodeid}: mark it @pytest.mark.evaluation(<step>)")
            if marker.args[0] not in self.outcomes:
                left_out.append(item)
                continue
            kept.append(item)
            self.step_of[item.nodeid] = marker.args[0]
            self.outcomes[marker.args[0]][item.nodeid] = "not run"
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = kept

    def pytest_runtest_logreport(self, report):
        step = self.step_of.get(report.nodeid)
        if step and report.skipped and SWITCHED_OFF in str(report.longrepr):
            # A service the inventory switched off: not part of what is deployed.
            self.outcomes[step].pop(report.nodeid, None)
            return
        # A failure in setup or teardown counts; otherwise the call's outcome.
        if (
            step
            and report.nodeid in self.outcomes[step]
            and self.outcomes[step][report.nodeid] != "failed"
            and (report.failed or report.when == "call")
        ):
            self.outcomes[step][report.nodeid] = report.outcome

    def pytest_terminal_summary(self, terminalreporter):
        if not self.report:
            return
        terminalreporter.section("evaluation rehearsal")
        for step, outcomes in self.outcomes.items():
            title = EVALUATION_STEPS[step]
            results = list(outcomes.values())
            if not results:
                verdict = "NO TEST"
            elif "failed" in results:
                verdict = "FAIL"
            elif all(r == "passed" for r in results):
                verdict = "PASS"
            else:
                verdict = "INCOMPLETE"
            counted = f"{results.count('passed')}/{len(results)} passed"
            terminalreporter.write_line(f"{verdict:<10} {step:>11}  {title}  ({counted})")


@pytest.fixture(scope="module")
def target(host) -> Target:
    return read_target(host)


@pytest.fixture(scope="module")
def docker(host):
    """Run a docker command on the target; fail the test on error."""

    def run(*args: str) -> str:
        return host.check_output("docker " + " ".join(shlex.quote(a) for a in args))

    return run


@pytest.fixture(scope="module")
def secret_values(host, target) -> dict[str, str]:
    """Every secret the target holds, to prove none of them leaks."""
    folder = f"{target.tree}/secrets"
    # The bonus services' own, when they are on.
    optional = [f"{folder}/{name}.txt" for name in ("redis_password", "ftp_password", "adminer_password")]
    absent = set(missing_paths(host, *optional))
    names = ["db_password", "db_root_password"] + [
        path.removeprefix(f"{folder}/").removesuffix(".txt") for path in optional if path not in absent
    ]
    files = read_files(host, f"{folder}/credentials.txt", *(f"{folder}/{name}.txt" for name in names))
    secrets = {name: files[f"{folder}/{name}.txt"].strip() for name in names}
    for line in files[f"{folder}/credentials.txt"].splitlines():
        key, _, value = line.partition("=")
        secrets[key] = value
    assert all(len(value) >= 12 for value in secrets.values())
    return secrets
