"""The decisions the stack role takes from the target's state
(roles/inception_stack/filter_plugins/stack_state.py), on the answers
docker compose ps and docker_image_info really give."""

from __future__ import annotations

import json
import sys

import pytest
from ansible.errors import AnsibleFilterError

from tests.support.ansible_run import role_plugin
from tests.support.project import PROJECT, STACK

sys.path.insert(0, str(PROJECT / "roles" / "inception_stack" / "filter_plugins"))

_STATE = role_plugin(STACK, "filter_plugins", "stack_state")
inception_images_to_build = _STATE.inception_images_to_build
inception_stack_is_up = _STATE.inception_stack_is_up

SERVICES = ["mariadb", "nginx", "wordpress"]
LAYOUT = {
    "services": SERVICES,
    "templated": [
        {"path": "srcs/docker-compose.yml", "service": ""},
        {"path": "srcs/requirements/nginx/conf/inception.conf", "service": "nginx"},
    ],
    "static": [{"path": "srcs/requirements/mariadb/conf/50-server.cnf", "service": "mariadb"}],
}


def image(*tags: str) -> dict:
    return {"Id": "sha256:0", "RepoTags": list(tags)}


def container(service: str, state: str = "running", health: str = "healthy") -> dict:
    return {"Service": service, "State": state, "Health": health, "Name": f"{service}"}


def lines(*containers: dict) -> str:
    return "\n".join(json.dumps(c) for c in containers)


ALL_PRESENT = [image("mariadb:1.0.0"), image("nginx:1.0.0", "nginx:0.9.0"), image("wordpress:1.0.0")]


def test_nothing_to_build_when_every_image_is_there_and_nothing_was_written():
    assert inception_images_to_build(LAYOUT, [], ALL_PRESENT, "1.0.0", []) == []


def test_a_written_file_rebuilds_its_service_only():
    written = ["srcs/requirements/nginx/conf/inception.conf", "srcs/docker-compose.yml"]
    assert inception_images_to_build(LAYOUT, written, ALL_PRESENT, "1.0.0", []) == ["nginx"]


def test_a_missing_image_or_another_tag_is_built():
    present = [image("mariadb:1.0.0"), image("nginx:0.9.0")]
    assert inception_images_to_build(LAYOUT, [], present, "1.0.0", []) == ["nginx", "wordpress"]


def test_services_changed_elsewhere_are_built_once():
    written = ["srcs/requirements/mariadb/conf/50-server.cnf"]
    built = inception_images_to_build(LAYOUT, written, ALL_PRESENT, "1.0.0", ["mariadb", "portainer"])
    assert built == ["mariadb", "portainer"]


def test_a_service_whose_upgrade_was_put_back_is_built_again():
    """upgrade.sh keeps a new image that failed as <tag>-failed-upgrade."""
    present = [*ALL_PRESENT, image("wordpress:1.0.0-failed-upgrade"), image("mariadb:0.9.0-failed-upgrade")]
    assert inception_images_to_build(LAYOUT, [], present, "1.0.0", []) == ["wordpress"]


@pytest.mark.parametrize("as_array", [False, True], ids=["one-object-a-line", "one-array"])
def test_the_stack_is_up_when_every_service_runs_healthy(as_array):
    containers = [container(s) for s in SERVICES]
    stdout = json.dumps(containers) if as_array else lines(*containers)
    assert inception_stack_is_up(stdout, SERVICES)


@pytest.mark.parametrize(
    "containers",
    [
        [container("mariadb"), container("nginx")],  # one missing
        [container(s) for s in SERVICES] + [container("adminer")],  # one too many
        [container("mariadb"), container("nginx", health="starting"), container("wordpress")],
        [container("mariadb", state="exited", health=""), container("nginx"), container("wordpress")],
        [],
    ],
    ids=["missing", "orphan", "starting", "exited", "none"],
)
def test_the_stack_is_not_up_otherwise(containers):
    assert not inception_stack_is_up(lines(*containers), SERVICES)


def test_compose_output_that_is_not_json_is_refused_by_name():
    with pytest.raises(AnsibleFilterError, match="docker compose ps printed something that is not JSON"):
        inception_stack_is_up("no configuration file provided: not found", SERVICES)
