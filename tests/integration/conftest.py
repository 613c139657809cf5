"""Fixtures shared by the testinfra suite.

The same files run against the molecule instance, the persistent container
target and the VM: everything target-specific (login, domain, the port the
target's 443 is forwarded to on this machine, the CA's location) is read from
the Ansible inventory, templated by Ansible itself.
"""

from __future__ import annotations

import http.client
import json
import shlex
import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

LOOPBACK = "127.0.0.1"
PROJECT = Path(__file__).resolve().parents[2]
# Measurements and screenshots the suite leaves for people to read.
ARTIFACTS = PROJECT / "artifacts"
SERVICES = ("mariadb", "wordpress", "nginx")
BONUS_SERVICES = ("website", "adminer", "redis", "vsftpd", "backup")

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
}


def pytest_addoption(parser):
    parser.addoption(
        "--rehearsal",
        action="store_true",
        help="end with one PASS/FAIL line per evaluation step",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "evaluation(step): the evaluation step a test proves")
    config.pluginmanager.register(_Rehearsal(config.getoption("--rehearsal")), "inception-rehearsal")


class _Rehearsal:
    """Maps each test to its evaluation step and, when asked, reports per step."""

    def __init__(self, report: bool):
        self.report = report
        self.outcomes: dict[str, dict[str, str]] = {step: {} for step in EVALUATION_STEPS}
        self.step_of: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items):
        for item in items:
            marker = item.get_closest_marker("evaluation")
            if marker is None or marker.args[0] not in EVALUATION_STEPS:
                raise pytest.UsageError(f"{item.nodeid}: mark it @pytest.mark.evaluation(<step>)")
            self.step_of[item.nodeid] = marker.args[0]
            self.outcomes[marker.args[0]][item.nodeid] = "not run"

    def pytest_runtest_logreport(self, report):
        step = self.step_of.get(report.nodeid)
        # A failure in setup or teardown counts; otherwise the call's outcome.
        if (
            step
            and self.outcomes[step][report.nodeid] != "failed"
            and (report.failed or report.when == "call")
        ):
            self.outcomes[step][report.nodeid] = report.outcome

    def pytest_terminal_summary(self, terminalreporter):
        if not self.report:
            return
        terminalreporter.section("evaluation rehearsal")
        for step, title in EVALUATION_STEPS.items():
            results = list(self.outcomes[step].values())
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


# The inventory variables the suite needs, rendered by Ansible in one call.
_SETTINGS_TEMPLATE = (
    "{{ {'login': inception_login, 'domain': inception_domain,"
    " 'site_title': inception_site_title, 'admin_user': inception_admin_user,"
    " 'user': inception_user, 'image_tag': inception_image_tag,"
    " 'https_port': target_https_forwarded_port | int,"
    " 'bonus': inception_bonus_on,"
    " 'ftp_user': inception_ftp_user, 'ftp_passive_ports': inception_ftp_passive_ports | map('int') | list,"
    " 'ftp_port': target_ftp_forwarded_port | default(0) | int,"
    " 'controller_dir': inception_controller_dir} | to_json }}"
)


@dataclass(frozen=True)
class Target:
    """What the tests know about one provisioned target."""

    login: str
    domain: str
    site_title: str
    admin_user: str
    user: str
    image_tag: str
    https_port: int
    controller_dir: str
    bonus: tuple[str, ...] = ()
    ftp_user: str = ""
    ftp_passive_ports: tuple[int, int] = (0, 0)
    ftp_port: int = 0  # where the target's 21 is published here; 0: not published

    @property
    def services(self) -> tuple[str, ...]:
        """The mandatory services, then the bonus services switched on."""
        return SERVICES + tuple(self.bonus)

    @property
    def tree(self) -> str:
        return f"/home/{self.login}/inception"

    @property
    def data(self) -> str:
        return f"/home/{self.login}/data"

    @property
    def ca_path(self) -> Path:
        return Path(self.controller_dir) / "ca.crt"


def read_target(host) -> Target:
    """The target's settings, as Ansible renders them from its inventory."""
    result = host.ansible("ansible.builtin.debug", f'msg="{_SETTINGS_TEMPLATE}"', check=False)
    settings = json.loads(result["msg"]) if isinstance(result["msg"], str) else dict(result["msg"])
    settings["bonus"] = tuple(settings["bonus"])
    settings["ftp_passive_ports"] = tuple(settings["ftp_passive_ports"])
    return Target(**settings)


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
    secrets = {}
    for name in ("db_password", "db_root_password"):
        secrets[name] = host.file(f"{target.tree}/secrets/{name}.txt").content_string.strip()
    for line in host.file(f"{target.tree}/secrets/credentials.txt").content_string.splitlines():
        key, _, value = line.partition("=")
        secrets[key] = value
    for name in ("redis_password", "ftp_password"):  # the bonus services', when on
        secret = host.file(f"{target.tree}/secrets/{name}.txt")
        if secret.exists:
            secrets[name] = secret.content_string.strip()
    assert all(len(value) >= 12 for value in secrets.values())
    return secrets


def save_artifact(name: str, data: object) -> None:
    """Write a measurement as JSON under artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_text(json.dumps(data, indent=2) + "\n")


def install_on_target(host, *packages: str) -> None:
    """Install Debian packages on the target, for a test's own tools."""
    install = host.run(
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
        + shlex.join(packages)
    )
    assert install.rc == 0, install.stderr


def mariadb_query(host, sql: str) -> list[list[str]]:
    """Run SQL as MariaDB's root, through the server's socket inside its container."""
    out = host.check_output("docker exec mariadb mariadb --batch --skip-column-names wordpress -e %s", sql)
    return [row.split("\t") for row in out.splitlines() if row]


class _SiteConnection(http.client.HTTPSConnection):
    """HTTPS to the forwarded loopback port, presenting the site's name (SNI)."""

    def __init__(self, target, context: ssl.SSLContext):
        super().__init__(LOOPBACK, target.https_port, context=context, timeout=30)
        self._site_name = target.domain

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self._site_name)


def https_request(
    target,
    method: str,
    path: str = "/",
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> http.client.HTTPResponse:
    """One request to https://<domain><path> through the forwarded port, as a browser sends it."""
    connection = _SiteConnection(target, ssl.create_default_context(cafile=str(target.ca_path)))
    connection.request(method, path, body=body, headers={"Host": target.domain, **(headers or {})})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def response_cookies(response) -> dict[str, str]:
    """The cookies an answer sets, by name."""
    pairs = (header.split(";", 1)[0].partition("=") for header in response.headers.get_all("Set-Cookie", []))
    return {name: value for name, _, value in pairs}


def https_get(target, path: str = "/", headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    return https_request(target, "GET", path, headers)


# Written as www-data through WordPress's own API, like an author's post and
# a visitor's approved comment (when one is given).
_WRITE_POST = r"""
require '/var/www/html/wp-load.php';
$post = wp_insert_post(['post_title' => $argv[1], 'post_content' => $argv[2],
    'post_status' => 'publish', 'post_author' => 1], true);
if (is_wp_error($post)) { fwrite(STDERR, $post->get_error_message()); exit(1); }
if ($argv[3] !== '') {
    $comment = wp_insert_comment(['comment_post_ID' => $post, 'comment_content' => $argv[3],
        'comment_author' => 'reader', 'comment_approved' => 1]);
    if (!$comment) { fwrite(STDERR, 'comment not saved'); exit(1); }
}
echo $post;
"""


def write_post(host, title: str, content: str, comment: str = "") -> int:
    """Publishes a post (and an approved comment on it) on the target; returns its id."""
    return int(
        host.check_output(
            "docker exec -u www-data wordpress php -r %s %s %s %s", _WRITE_POST, title, content, comment
        )
    )


def wait_until_healthy(host, services=SERVICES, timeout: float = 300) -> float:
    """Wait until every service's container is running and healthy; return the seconds it took."""
    started = time.monotonic()
    while True:
        states = host.run(
            "docker inspect -f '{{.State.Status}} {{.State.Health.Status}}' " + " ".join(services)
        ).stdout.split("\n")
        if [s.strip() for s in states if s.strip()] == ["running healthy"] * len(services):
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, f"not healthy after {timeout} s: {states}"
        time.sleep(0.2)
