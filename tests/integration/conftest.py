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
SERVICES = ("mariadb", "wordpress", "nginx")

# The inventory variables the suite needs, rendered by Ansible in one call.
_SETTINGS_TEMPLATE = (
    "{{ {'login': inception_login, 'domain': inception_domain,"
    " 'site_title': inception_site_title, 'admin_user': inception_admin_user,"
    " 'user': inception_user, 'image_tag': inception_image_tag,"
    " 'https_port': target_https_forwarded_port | int,"
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

    @property
    def tree(self) -> str:
        return f"/home/{self.login}/inception"

    @property
    def data(self) -> str:
        return f"/home/{self.login}/data"

    @property
    def ca_path(self) -> Path:
        return Path(self.controller_dir) / "ca.crt"


@pytest.fixture(scope="module")
def target(host) -> Target:
    result = host.ansible("ansible.builtin.debug", f'msg="{_SETTINGS_TEMPLATE}"', check=False)
    return Target(**json.loads(result["msg"]) if isinstance(result["msg"], str) else result["msg"])


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
    assert all(len(value) >= 12 for value in secrets.values())
    return secrets


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


def https_get(target, path: str = "/", headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    """GET https://<domain><path> through the forwarded port, as a browser would."""
    connection = _SiteConnection(target, ssl.create_default_context(cafile=str(target.ca_path)))
    connection.request("GET", path, headers={"Host": target.domain, **(headers or {})})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


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
