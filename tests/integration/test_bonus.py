"""The bonus services, each shown doing its job (the evaluator's step 11).

Every bonus service is reached through NGINX on 443 like the site, runs in its
own hardened container, and is switched on in the inventory; a service
switched off is not running at all.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
from conftest import BONUS_SERVICES, https_get, https_request

pytestmark = pytest.mark.evaluation("11")

# Memory (MiB), CPUs, processes.
LIMITS = {"website": (32, 0.5, 20), "adminer": (128, 0.5, 20)}


def require(target, service: str) -> None:
    if service not in target.services:
        pytest.skip(f"{service} is switched off in the inventory")


@pytest.mark.parametrize("service", BONUS_SERVICES)
def test_bonus_service_runs_only_when_switched_on(docker, target, service):
    running = docker("ps", "--format", "{{.Names}}").split()
    assert (service in running) == (service in target.services)


@pytest.mark.parametrize("service", BONUS_SERVICES)
def test_bonus_service_is_healthy_hardened_and_unprivileged(host, docker, target, service):
    require(target, service)
    container = json.loads(docker("inspect", service))[0]
    config = container["HostConfig"]
    assert container["State"]["Health"]["Status"] == "healthy"
    assert container["Config"]["Image"] == f"{service}:{target.image_tag}"
    assert config["CapDrop"] == ["ALL"]
    assert not config["CapAdd"]
    assert config["ReadonlyRootfs"] is True
    assert "no-new-privileges:true" in config["SecurityOpt"]
    assert not config["PortBindings"]
    memory_mib, cpus, pids = LIMITS[service]
    assert (config["Memory"], config["NanoCpus"], config["PidsLimit"]) == (
        memory_mib * 2**20,
        int(cpus * 1e9),
        pids,
    )
    # Its main process runs as www-data and holds no capability at all.
    status = host.check_output("docker exec %s cat /proc/1/status", service)
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["Uid"].split()[0] == "33"
    assert fields["CapEff"].strip() == "0000000000000000"


def test_static_website_is_served_without_php(host, target):
    require(target, "website")
    page = https_get(target, "/site/")
    assert page.status == 200
    assert page.getheader("Content-Type").replace(" ", "") == "text/html;charset=utf-8"
    body = page.body.decode()
    assert f"<title>{target.site_title}: how this site runs</title>" in body
    assert f"<strong>{target.login}</strong>" in body
    assert page.getheader("Strict-Transport-Security")
    stylesheet = https_get(target, "/site/style.css")
    assert stylesheet.status == 200
    assert stylesheet.getheader("Content-Type").startswith("text/css")
    # Its own container, and no PHP in it.
    assert host.run("docker exec website sh -c 'command -v php'").rc != 0
    assert https_get(target, "/site").status == 301


def adminer_login(target, username: str, password: str) -> tuple[int, str, dict[str, str]]:
    """Log into Adminer as a person does: open the form, post it, follow the redirect."""
    cookies: dict[str, str] = {}

    def remember(response) -> None:
        for header in response.headers.get_all("Set-Cookie", []):
            name, _, value = header.split(";", 1)[0].partition("=")
            cookies[name] = value

    def cookie_header() -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}

    form = https_get(target, "/adminer/")
    assert form.status == 200
    assert b'name="auth[username]"' in form.body
    remember(form)
    fields = {
        "auth[driver]": "server",
        "auth[server]": "mariadb",
        "auth[username]": username,
        "auth[password]": password,
        "auth[db]": "wordpress",
    }
    posted = https_request(
        target,
        "POST",
        "/adminer/",
        {"Content-Type": "application/x-www-form-urlencoded", **cookie_header()},
        urllib.parse.urlencode(fields),
    )
    remember(posted)
    if posted.status != 302:
        return posted.status, posted.body.decode(errors="replace"), cookies
    # Adminer redirects relatively ("?server=...&db=..."), as a browser resolves it.
    location = urllib.parse.urlsplit(urllib.parse.urljoin("/adminer/", posted.getheader("Location")))
    landing = https_get(target, f"{location.path}?{location.query}", cookie_header())
    return landing.status, landing.body.decode(errors="replace"), cookies


def test_adminer_logs_into_the_wordpress_database(target, secret_values):
    require(target, "adminer")
    status, body, _ = adminer_login(target, "wordpress", secret_values["db_password"])
    assert status == 200
    # The database's tables, as Adminer lists them after the login.
    assert "wp_posts" in body
    assert "wp_users" in body


def test_adminer_cannot_reach_root_nor_be_served_from_the_cache(target, secret_values):
    require(target, "adminer")
    # root has no network account, so its real password is refused here too.
    status, body, _ = adminer_login(target, "root", secret_values["db_root_password"])
    assert "wp_posts" not in body
    assert "Access denied" in body or status != 200
    assert https_get(target, "/adminer/").getheader("X-Cache-Status") is None
