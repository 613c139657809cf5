"""What only a tree-only target can show (molecule/submission): the repository
was cloned on a target where nothing of this project ran but the Docker
engine's role, and its `make` did the rest. The base image came through the
registry standing in for Docker Hub; the secrets are the tree's own, not the
controller's; nothing make made can be committed; the handed-in history holds
none of them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.history import key_lines, private_keys_in_history, values_in_history

pytestmark = pytest.mark.evaluation("submission")


def setting(host, expression: str) -> str:
    """A value of the inventory, rendered by Ansible."""
    result = host.ansible("ansible.builtin.debug", f'msg="{{{{ {expression} | to_json }}}}"', check=False)
    return json.loads(result["msg"]) if isinstance(result["msg"], str) else result["msg"]


def test_nothing_of_this_project_but_docker_ran_on_the_target(host, target):
    # No tree where the playbook puts it, no Ansible-made folder.
    assert not host.file(f"/home/{target.login}/inception").exists
    assert host.file(f"{target.tree}/.git").is_directory
    assert host.file(f"{target.data}/.inception-tree").content_string.strip() == target.tree


def test_the_base_image_came_through_the_registry_standing_in_for_docker_hub(host, target):
    assert host.run("docker image inspect debian:bookworm").rc == 0
    # No saved copy to load it from: it was pulled.
    assert host.run("ls %s/srcs/requirements/tools/*.tar.gz", target.tree).rc != 0
    # The registry's access log: the target's engine fetched the image's
    # layers from it (the tag is resolved by a HEAD, then all goes by digest).
    logs = subprocess.run(
        ["docker", "logs", "inception-registry"], capture_output=True, text=True, check=True
    )
    address = subprocess.run(
        ["docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", host.backend.host],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    fetched = re.findall(
        rf'^{re.escape(address)} .* "GET /v2/library/debian/blobs/sha256:[0-9a-f]+ HTTP/1.1" 200 ',
        logs.stdout + logs.stderr,
        re.MULTILINE,
    )
    assert fetched, f"the registry served no layer of debian to {address}"


def test_on_a_one_cpu_machine_make_gives_wordpress_the_one(host):
    """An evaluator's VM may have one CPU (VirtualBox's default). Docker refuses
    a limit above the machine's CPUs, so the tree's make sized WordPress's (two
    elsewhere) to the engine's count, and the site came up."""
    assert host.check_output("docker info --format '{{.NCPU}}'") == "1"
    assert host.check_output("docker inspect -f '{{.HostConfig.NanoCpus}}' wordpress") == str(10**9)


def test_the_secrets_are_the_trees_own_not_the_controllers(host, target, secret_values):
    generated = Path(target.controller_dir) / "secrets"
    controller = (
        {path.read_text().split()[0] for path in generated.glob("*")} if generated.is_dir() else set()
    )
    assert set(secret_values.values()).isdisjoint(controller)
    # The password files' values are letters and digits, 24 of them.
    assert all(len(value) == 24 and value.isalnum() for value in secret_values.values())


def test_nothing_make_created_can_be_committed(host, target):
    status = host.check_output("git -C %s status --porcelain --untracked-files=all --ignored=no", target.tree)
    assert status == ""
    ignored = host.check_output("git -C %s status --porcelain --ignored", target.tree)
    assert "!! secrets/" in ignored


def test_the_handed_in_history_holds_no_secret_nor_key(host, target, secret_values):
    repository = Path(setting(host, "submission_repository"))
    keys = []
    for name in ("ca.key", "server.key"):
        keys += key_lines(host.file(f"{target.tree}/secrets/tls/{name}").content_string)
    assert keys
    assert values_in_history(repository, [*secret_values.values(), *keys]) == []
    assert private_keys_in_history(repository) == []
