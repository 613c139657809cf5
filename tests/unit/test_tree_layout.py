"""The tree's plan is found on disk (roles/inception_stack/filter_plugins):
what a source's place, name and executable bit decide, and the refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from tests.support.ansible_run import plan
from tests.support.project import STACK

MANDATORY = ["mariadb", "nginx", "wordpress"]
BONUS = ["adminer", "backup", "portainer", "redis", "vsftpd", "website"]


@pytest.fixture
def role_copy(tmp_path) -> Path:
    copy = tmp_path / "inception_stack"
    for part in ("templates", "files", "shared"):
        shutil.copytree(STACK / part, copy / part)
    return copy


def test_mandatory_tree_has_the_three_services_and_no_bonus_file():
    layout = plan(STACK, [])
    assert layout["services"] == MANDATORY
    assert layout["bonus_on_disk"] == BONUS
    paths = [entry["path"] for entry in layout["templated"] + layout["static"]]
    assert not [p for p in paths if p.startswith("srcs/requirements/bonus/") and p.count("/") > 3]
    # The bonus folder's README stays: it says that no bonus service is on.
    assert "srcs/requirements/bonus/README.md" in paths
    for path in ("Makefile", "srcs/docker-compose.yml", "srcs/.env", "srcs/requirements/nginx/Dockerfile"):
        assert path in paths
    assert "srcs/requirements/bonus/website" not in layout["folders"]


def test_each_bonus_service_switched_on_brings_its_folder_and_image():
    layout = plan(STACK, ["redis", "website"])
    assert layout["services"] == ["mariadb", "nginx", "redis", "website", "wordpress"]
    assert "srcs/requirements/bonus/redis/conf" in layout["folders"]
    assert "srcs/requirements/bonus/adminer" not in layout["folders"]
    every = {entry["path"]: entry for entry in layout["templated"] + layout["static"]}
    assert every["srcs/requirements/bonus/redis/conf/redis.conf"]["service"] == "redis"
    # Files outside a service's folder go into no image.
    assert every["srcs/requirements/tools/README.md"]["service"] == ""
    assert every["README.md"]["service"] == ""


def test_folders_come_before_what_they_hold():
    folders = plan(STACK, BONUS)["folders"]
    for index, folder in enumerate(folders):
        parent = folder.rpartition("/")[0]
        assert not parent or folders.index(parent) < index, folder


def test_templates_are_rendered_and_files_copied_by_their_own_names():
    layout = plan(STACK, BONUS)
    assert all(entry["src"] == entry["path"] + ".j2" for entry in layout["templated"])
    # Static files by their path under files/; shared ones by their absolute path.
    assert all(
        entry["src"] in (entry["path"], str(STACK / "shared/tools/secrets.sh")) for entry in layout["static"]
    )
    assert {"srcs/docker-compose.yml", "srcs/.env"} <= {entry["path"] for entry in layout["templated"]}
    entrypoint = "srcs/requirements/wordpress/tools/docker-entrypoint.sh"
    assert entrypoint in {entry["path"] for entry in layout["static"]}


def test_the_executable_bit_decides_the_mode(role_copy):
    script = role_copy / "files/srcs/requirements/nginx/tools/healthcheck.sh"
    config = role_copy / "files/srcs/requirements/nginx/conf/nginx.conf"
    # A checkout made under umask 002 (group-writable) still gives 0755 / 0644.
    script.chmod(0o775)
    config.chmod(0o664)
    modes = {entry["path"]: entry["mode"] for entry in plan(role_copy, [])["static"]}
    assert modes["srcs/requirements/nginx/tools/healthcheck.sh"] == "0755"
    assert modes["srcs/requirements/nginx/conf/nginx.conf"] == "0644"
    script.chmod(0o644)
    modes = {entry["path"]: entry["mode"] for entry in plan(role_copy, [])["static"]}
    assert modes["srcs/requirements/nginx/tools/healthcheck.sh"] == "0644"


def test_a_new_service_folder_is_a_service_without_any_list(role_copy):
    folder = role_copy / "files/srcs/requirements/bonus/mailpit"
    (folder / "tools").mkdir(parents=True)
    (folder / "Dockerfile").write_text("FROM debian:bookworm\n")
    (folder / "tools/healthcheck.sh").write_text("#!/bin/bash\ntrue\n")
    assert "mailpit" in plan(role_copy, [])["bonus_on_disk"]
    layout = plan(role_copy, ["mailpit"])
    assert "mailpit" in layout["services"]
    assert "srcs/requirements/bonus/mailpit/tools" in layout["folders"]


def test_a_file_both_templated_and_static_is_refused(role_copy):
    copy = role_copy / "files/srcs/docker-compose.yml"
    copy.write_text("services: {}\n")
    with pytest.raises(AnsibleFilterError, match=r"srcs/docker-compose.yml: found both"):
        plan(role_copy, [])


def test_a_template_without_j2_is_refused(role_copy):
    (role_copy / "templates/srcs/stray.conf").write_text("x\n")
    with pytest.raises(AnsibleFilterError, match=r"templates/srcs/stray.conf"):
        plan(role_copy, [])


def test_a_bonus_service_the_role_does_not_have_is_refused():
    with pytest.raises(AnsibleFilterError, match="not in the role: mailpit"):
        plan(STACK, ["redis", "mailpit"])


def test_the_declared_bonus_services_are_the_bonus_folders():
    # Pre-flight and the benchmark read the names from the argument spec; the
    # tree is made from the folders: the two must be the same services.
    spec = yaml.safe_load((STACK / "meta" / "argument_specs.yml").read_text())
    declared = spec["argument_specs"]["main"]["options"]["inception_stack_bonus"]["options"]
    assert sorted(declared) == plan(STACK, [])["bonus_on_disk"]


def test_the_shared_secrets_library_sits_beside_every_entrypoint_only():
    layout = plan(STACK, BONUS)
    copies = {e["path"]: e for e in layout["static"] if e["path"].endswith("/tools/secrets.sh")}
    entrypoints = {
        e["path"].replace("docker-entrypoint.sh", "secrets.sh")
        for e in layout["templated"] + layout["static"]
        if e["path"].endswith("/tools/docker-entrypoint.sh")
    }
    assert set(copies) == entrypoints
    assert {e["service"] for e in copies.values()} == {"mariadb", "wordpress", "nginx", "redis", "vsftpd"}
    assert all(e["src"] == str(STACK / "shared" / "tools" / "secrets.sh") for e in copies.values())
    assert all(e["mode"] == "0644" for e in copies.values())  # sourced, never run
    # A bonus service switched off gets no copy.
    assert "srcs/requirements/bonus/redis/tools/secrets.sh" not in {
        e["path"] for e in plan(STACK, [])["static"]
    }


def test_a_shared_file_that_a_service_has_already_is_refused(role_copy):
    (role_copy / "files/srcs/requirements/mariadb/tools/secrets.sh").write_text("#!/bin/bash\n")
    with pytest.raises(AnsibleFilterError, match=r"mariadb/tools/secrets.sh: found both"):
        plan(role_copy, [])
