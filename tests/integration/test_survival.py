"""The stack survives what an evaluator and a careful operator do to it.

Runs after the static checks (file order) and leaves the target as it found
it: crash every container, change a setting and change it back, wipe every
Docker object and rebuild with the tree's own `make`, reboot the target.
A post and a comment written first must be served after each step.
The measured times go to artifacts/survival-<host>.json.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest

from tests.support.project import BONUS_SERVICES, PROJECT, SERVICES
from tests.support.site import (
    https_get,
    make,
    run_site_playbook,
    save_artifact,
    skip_unless_on,
    wait_until_healthy,
    write_post,
)

CRASH_RECOVERY_LIMIT = 10.0


@pytest.fixture(scope="module")
def measurements(host):
    results: dict[str, object] = {}
    yield results
    save_artifact(f"survival-{host.backend.host}.json", results)


@pytest.fixture(scope="module")
def written(host):
    """A post and an approved comment, made before anything is broken."""
    marker = uuid.uuid4().hex[:12]
    title, comment = f"Survival post {marker}", f"Survival comment {marker}"
    post_id = write_post(host, title, "Written before the survival tests.", comment)
    return {"id": post_id, "title": title, "comment": comment}


def assert_still_served(target, written):
    page = https_get(target, f"/?p={written['id']}")
    assert page.status == 200
    body = page.body.decode()
    assert written["title"] in body
    assert written["comment"] in body


def container_ids(docker, target) -> dict[str, str]:
    return {s: docker("inspect", "-f", "{{.Id}}", s).strip() for s in target.services}


@pytest.mark.evaluation("8")
def test_written_content_is_served(target, written):
    assert_still_served(target, written)


@pytest.mark.evaluation("crash")
@pytest.mark.parametrize("service", SERVICES + BONUS_SERVICES)
def test_killed_main_process_comes_back_healthy_within_10_s(
    host, docker, target, written, measurements, service
):
    skip_unless_on(target, service)
    old_pid = docker("inspect", "-f", "{{.State.Pid}}", service).strip()
    # From the target, as a crash would: `kill 1` inside is ignored by the
    # kernel and `docker kill` would switch the restart policy off.
    host.check_output("kill -9 %s", old_pid)
    killed = time.monotonic()
    while docker("inspect", "-f", "{{.State.Pid}}", service).strip() in (old_pid, "0"):
        assert time.monotonic() - killed < CRASH_RECOVERY_LIMIT, f"{service} was not restarted"
        time.sleep(0.1)
    wait_until_healthy(host, (service,), timeout=60)
    recovery = time.monotonic() - killed
    measurements.setdefault("crash_recovery_seconds", {})[service] = round(recovery, 2)
    assert recovery <= CRASH_RECOVERY_LIMIT
    wait_until_healthy(host, target.services)
    assert_still_served(target, written)


@pytest.mark.evaluation("10")
def test_configuration_change_rebuilds_only_what_depends_on_it(host, docker, target, written, measurements):
    before = container_ids(docker, target)
    started = time.monotonic()
    run_site_playbook(host, "inception_php_fpm_port=9001")
    measurements["config_change_seconds"] = round(time.monotonic() - started, 1)
    after = container_ids(docker, target)
    # php-fpm's port concerns wordpress and nginx only.
    assert {s for s in target.services if after[s] != before[s]} == {"wordpress", "nginx"}
    site = host.file(f"{target.tree}/srcs/requirements/nginx/conf/inception.conf").content_string
    assert "fastcgi_pass wordpress:9001;" in site
    assert host.run("docker exec wordpress bash -c ': > /dev/tcp/127.0.0.1/9001'").rc == 0
    # Still nothing published but NGINX's 443.
    assert docker("port", "wordpress").strip() == ""
    assert_still_served(target, written)
    # And back, so the target ends as the inventory describes it.
    run_site_playbook(host)
    assert container_ids(docker, target)["mariadb"] == before["mariadb"]
    assert_still_served(target, written)


@pytest.mark.evaluation("2")
def test_wipe_everything_then_make_rebuilds_from_nothing(host, docker, target, written, measurements):
    wipe = (
        f"set -e; cd {target.tree}; docker compose --project-directory srcs -f srcs/docker-compose.yml down;"
        " docker ps -aq | xargs -r docker rm -f; docker images -aq | xargs -r docker rmi -f;"
        " docker volume ls -q | xargs -r docker volume rm; docker network prune -f;"
        " docker builder prune -af"
    )
    host.check_output("bash -c %s", wipe)
    assert docker("images", "-q").strip() == ""
    started = time.monotonic()
    result = make(host, target)
    assert result.rc == 0, result.stdout[-3000:] + result.stderr[-2000:]
    measurements["wipe_and_make_seconds"] = round(time.monotonic() - started, 1)
    wait_until_healthy(host, target.services)
    info = json.loads(docker("volume", "inspect", "mariadb", "wordpress"))
    assert [v["Options"]["device"] for v in info] == [f"{target.data}/mariadb", f"{target.data}/wordpress"]
    assert_still_served(target, written)


@pytest.mark.evaluation("9")
def test_reboot_brings_the_stack_back_by_itself(host, target, written, measurements):
    started = time.monotonic()
    if host.backend.get_variables().get("ansible_connection") == "community.docker.docker":
        # A container target reboots when its systemd is restarted.
        subprocess.run(
            [str(PROJECT / "scripts" / "container-target"), "restart", host.backend.host],
            check=True,
            timeout=300,
        )
    else:
        host.ansible("ansible.builtin.reboot", "reboot_timeout=900", check=False, become=True)
    wait_until_healthy(host, target.services, timeout=600)
    measurements["reboot_to_healthy_seconds"] = round(time.monotonic() - started, 1)
    assert_still_served(target, written)
