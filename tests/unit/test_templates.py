"""Every role template renders through Ansible's own templating, with
undefined variables fatal, and what it renders is valid for its format."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.ansible_run import REQUIRED, plan, render, render_text
from tests.support.project import ALL_BONUS, PROJECT, ROLES, STACK, SWARM_SETTINGS, load_yaml

ROLES_DIR = PROJECT / "roles"
TEMPLATES = sorted((role, path) for role in ROLES for path in (role / "templates").rglob("*.j2"))
# The files a role copies as they are (no variable): they reach the tree as is.
STATIC = sorted((role, path) for role in ROLES for path in (role / "files").rglob("*") if path.is_file())


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    """Every file the roles put on a target, by its path there: templates
    rendered, static files as they are."""
    tree = {str(path.relative_to(role / "templates"))[:-3]: render(role, path) for role, path in TEMPLATES}
    tree |= {str(path.relative_to(role / "files")): path.read_text() for role, path in STATIC}
    # The stack's shared files, where its plan puts them (beside each entrypoint).
    layout = plan(STACK, list(ALL_BONUS))
    tree |= {
        entry["path"]: Path(entry["src"]).read_text()
        for entry in layout["static"]
        if entry["src"].startswith("/")
    }
    return tree


@pytest.mark.parametrize(("role", "template"), TEMPLATES, ids=lambda x: x.name if hasattr(x, "name") else x)
def test_template_renders_with_undefined_variables_fatal(role, template):
    assert render(role, template).strip()


def test_templates_are_only_files_that_use_variables():
    # A file that uses none belongs under files/, where linters read it as it is.
    managed = re.compile(r"\{\{ ansible_managed[^}]*\}\}")
    for role, template in TEMPLATES:
        text = managed.sub("", template.read_text())
        assert re.search(r"\{\{|\{%", text), f"{template.relative_to(role)}: no variable, move it to files/"


def test_dockerfiles_start_from_the_base_image_and_hold_no_secret(rendered):
    dockerfiles = {name: text for name, text in rendered.items() if name.endswith("/Dockerfile")}
    # Swarm mode's Galera member starts from the stack's own MariaDB image,
    # which starts from the base image (test_swarm_stack.py).
    galera = dockerfiles.pop("galera/Dockerfile")
    assert galera.splitlines()[0] == "FROM mariadb:1.0.0"
    assert len(dockerfiles) == 9  # three services, five bonus services, the opt-in Portainer
    for name, text in dockerfiles.items():
        assert text.splitlines()[0].startswith("FROM debian:bookworm"), name
        assert {line.split()[1] for line in text.splitlines() if line.startswith("FROM ")} == {
            "debian:bookworm"
        }
        for password in (v for k, v in REQUIRED.items() if k.endswith("password")):
            assert password not in text, name
        assert "ARG " not in text, name
        assert "latest" not in text, name


def test_dockerfiles_pass_hadolint(tmp_path):
    # Rendered with every bonus service on; .hadolint.yaml says which rules
    # are off, and why.
    dockerfiles = []
    for source in sorted(STACK.glob("templates/srcs/requirements/**/Dockerfile.j2")):
        dockerfile = tmp_path / f"{source.parent.name}.Dockerfile"
        dockerfile.write_text(render(STACK, source, inception_stack_bonus=ALL_BONUS))
        dockerfiles.append(str(dockerfile))
    assert len(dockerfiles) == 9
    # Swarm mode's Galera member's.
    galera = tmp_path / "galera.Dockerfile"
    galera.write_text(
        render(
            ROLES_DIR / "swarm_stack", ROLES_DIR / "swarm_stack" / "templates" / "galera" / "Dockerfile.j2"
        )
    )
    dockerfiles.append(str(galera))
    # And the test fixtures' own (the submission tier's registry).
    fixtures = sorted(str(path) for path in PROJECT.glob("molecule/*/*/Dockerfile"))
    assert fixtures
    dockerfiles += fixtures
    hadolint = Path(sys.executable).with_name("hadolint")
    config = ["--config", str(PROJECT / ".hadolint.yaml"), "--no-color"]
    checked = subprocess.run([hadolint, *config, *dockerfiles], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout
    planted = tmp_path / "planted.Dockerfile"
    planted.write_text("FROM debian:bookworm\nRUN cd /tmp && curl http://example.invalid | sh\n")
    refused = subprocess.run([hadolint, *config, str(planted)], capture_output=True, text=True, check=False)
    assert refused.returncode != 0
    assert "DL4006" in refused.stdout


def test_shell_scripts_pass_shellcheck(rendered, tmp_path):
    scripts = {name: text for name, text in rendered.items() if name.endswith(".sh")}
    assert len(scripts) >= 14  # the entrypoints, healthchecks and the backup
    for name, text in scripts.items():
        assert text.startswith("#!/bin/bash\n"), name
        if name.endswith(("docker-entrypoint.sh", "healthcheck.sh")):
            # The last command decides the exit code, or replaces the shell.
            assert text.rstrip().splitlines()[-1].startswith(("exec ", "grep ", "[[")), name
    checked = shellcheck(scripts, tmp_path)
    assert checked.returncode == 0, checked.stdout


def test_shellcheck_fails_on_a_planted_mistake(tmp_path):
    checked = shellcheck({"planted.sh": "#!/bin/bash\nrm -rf $1/data\n"}, tmp_path)
    assert checked.returncode != 0
    assert "SC2086" in checked.stdout


def shellcheck(scripts: dict[str, str], folder: Path) -> subprocess.CompletedProcess:
    """shellcheck on the scripts laid out at their paths in the tree, following
    what they source (the entrypoints source tools/secrets.sh beside them)."""
    paths = []
    for name, text in scripts.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(str(path))
    return subprocess.run(
        ["shellcheck", "--external-sources", "--format=gcc", *paths],
        capture_output=True,
        text=True,
        check=False,
    )


def assert_php_lint_passes(path: Path) -> None:
    checked = subprocess.run(["php", "-l", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, (path, checked.stdout, checked.stderr)


def test_php_files_pass_php_lint(rendered, tmp_path):
    php = {name: text for name, text in rendered.items() if name.endswith(".php")}
    assert {Path(name).name for name in php} >= {
        "wp-config.php",
        "object-cache.php",
        "inception-excerpts.php",
        "inception-comments.php",
        "inception-months.php",
        "inception-counts.php",
        "inception-authors.php",
        "inception-site-health.php",
        "wp-install.php",
    }
    for name, text in php.items():
        path = tmp_path / Path(name).name
        path.write_text(text)
        assert_php_lint_passes(path)
    planted = tmp_path / "planted.php"
    planted.write_text("<?php\n$a = ;\n")
    assert subprocess.run(["php", "-l", str(planted)], capture_output=True, check=False).returncode != 0


def test_the_benchmarks_and_tests_php_passes_php_lint():
    """The PHP the repository runs outside the stack (a benchmark's, the
    tests'), linted as the stack's is."""
    kept = sorted([*PROJECT.glob("benchmarks/**/*.php"), *PROJECT.glob("tests/**/*.php")])
    assert {path.name for path in kept} >= {"list_rows.php", "object_cache_cases.php"}
    for path in kept:
        assert_php_lint_passes(path)


def test_every_script_the_role_copies_can_run():
    # The tree takes each file's mode from its source's executable bit: a
    # script without it fails where make or the playbook runs it.
    scripts = [path for _, path in STATIC if path.read_text(errors="replace").startswith("#!")]
    assert len(scripts) > 10
    assert [str(path) for path in scripts if not os.access(path, os.X_OK)] == []


def test_entrypoints_exec_their_command_and_background_nothing(rendered):
    for name, text in rendered.items():
        if name.endswith("docker-entrypoint.sh"):
            last = text.rstrip().splitlines()[-1]
            assert last.startswith("exec "), name
            assert last.endswith('"$@"'), name
            code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
            for line in code:
                assert not line.rstrip().endswith("&"), (name, line)
                for forbidden in ("tail -f", "sleep infinity", "while true"):
                    assert forbidden not in line, (name, line)


def test_compose_file_is_the_subjects_shape(rendered):
    compose = yaml.safe_load(rendered["srcs/docker-compose.yml"])
    services = compose["services"]
    assert set(services) == {"mariadb", "wordpress", "nginx"}
    for name, service in services.items():
        assert service["image"] == f"{name}:1.0.0"
        assert service["pull_policy"] == "build"
        assert service["restart"] in ("always", "unless-stopped")
        # On the stack's own network, and that one only (NGINX with an alias).
        assert list(service["networks"]) == ["inception"]
        assert "network_mode" not in service
        assert "links" not in service
        assert "healthcheck" in service
        assert service["cap_drop"] == ["ALL"]
        assert service["security_opt"] == ["no-new-privileges:true"]
    assert [s for s, service in services.items() if "ports" in service] == ["nginx"]
    assert services["nginx"]["ports"] == ["443:443"]
    # Started together: WordPress's entrypoint waits for the database itself
    # (bounded), and NGINX needs its upstream's name, not its answer.
    assert services["wordpress"]["depends_on"]["mariadb"]["condition"] == "service_started"
    assert services["nginx"]["depends_on"]["wordpress"]["condition"] == "service_started"
    for volume in ("mariadb", "wordpress"):
        options = compose["volumes"][volume]["driver_opts"]
        assert options == {"type": "none", "o": "bind", "device": f"/home/jdoe/data/{volume}"}
    assert set(compose["secrets"]) >= {"db_password", "db_root_password", "credentials"}


def test_bonus_services_are_hardened_unpublished_and_waited_for():
    compose = yaml.safe_load(
        render(STACK, STACK / "templates/srcs/docker-compose.yml.j2", inception_stack_bonus=ALL_BONUS)
    )
    services = compose["services"]
    assert set(services) == {
        "mariadb",
        "wordpress",
        "nginx",
        "website",
        "adminer",
        "redis",
        "vsftpd",
        "backup",
        "portainer",
    }
    assert compose["volumes"]["backups"]["driver_opts"]["device"] == "/home/jdoe/data/backups"
    assert compose["volumes"]["portainer"]["driver_opts"]["device"] == "/home/jdoe/data/portainer"
    for service in services.values():
        assert service["healthcheck"]["test"] == ["CMD", "/usr/local/bin/healthcheck.sh"]
        check = service["healthcheck"]
        assert (check["start_interval"], check["interval"], check["retries"]) == ("1s", "30s", 3)
        assert service["healthcheck"]["start_period"].endswith("s")
    for name in ALL_BONUS:
        service = services[name]
        assert service["image"] == f"{name}:1.0.0"
        assert service["build"] == f"requirements/bonus/{name}"
        assert service["cap_drop"] == ["ALL"]
        assert service["read_only"] is True
    # Besides NGINX's 443, only FTP publishes (its control port and passive
    # range), and the opt-in Portainer its own HTTPS port.
    published = sorted(s for s, service in services.items() if "ports" in service)
    assert published == ["nginx", "portainer", "vsftpd"]
    assert services["vsftpd"]["ports"] == ["21:21", "21000-21010:21000-21010"]
    assert services["portainer"]["ports"] == ["2307:2307"]
    assert "cap_add" not in services["portainer"]  # root that owns all it opens
    assert "/var/run/docker.sock:/var/run/docker.sock" in services["portainer"]["volumes"]
    assert compose["secrets"]["portainer_password"]["file"] == "../secrets/portainer_password.txt"
    # The services that serve the certificate carry its serial: a renewed one recreates them.
    for name, service in services.items():
        serves_tls = "tls_certificate" in service.get("secrets", [])
        assert serves_tls == (name in ("nginx", "vsftpd", "portainer")), name
        assert ("org.inception.certificate-serial" in service.get("labels", {})) == serves_tls, name
    for name in ("website", "adminer"):
        assert "cap_add" not in services[name]  # both run unprivileged from the start
        assert services["nginx"]["depends_on"][name]["condition"] == "service_started"
    assert services["redis"]["cap_add"] == ["CHOWN", "SETGID", "SETUID"]
    assert services["wordpress"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "redis_password" in services["wordpress"]["secrets"]
    assert compose["secrets"]["redis_password"]["file"] == "../secrets/redis_password.txt"
    site = render(
        STACK,
        STACK / "templates/srcs/requirements/nginx/conf/inception.conf.j2",
        inception_stack_bonus=ALL_BONUS,
    )
    assert "location ^~ /site/ {" in site
    assert "location ^~ /adminer/ {" in site


@pytest.mark.parametrize("setting", ["default", "all-bonus"])
def test_compose_file_says_what_the_reviewed_copy_says(setting):
    # The template is macros and tables; what it renders is held, parsed, in
    # tests/unit/expected/: any change to what the evaluator reads is a change
    # made on purpose there too (render it again with this test's code).
    overrides = {"inception_stack_bonus": ALL_BONUS} if setting == "all-bonus" else {}
    compose = yaml.safe_load(render(STACK, STACK / "templates/srcs/docker-compose.yml.j2", **overrides))
    expected = json.loads((Path(__file__).parent / "expected" / f"compose-{setting}.json").read_text())
    assert compose == expected


def test_compose_file_renders_the_same_whatever_python_hashes(tmp_path):
    # Set operations (intersect, unique...) order by hash, which changes from
    # one process to the next: the playbook would then never be idempotent.
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from tests.support.ansible_run import render;"
        "from tests.support.project import ALL_BONUS, STACK;"
        "compose = STACK / 'templates/srcs/docker-compose.yml.j2';"
        "print(render(STACK, compose, inception_stack_bonus=ALL_BONUS))"
    )
    renders = {
        subprocess.run(
            [sys.executable, "-c", script, str(PROJECT)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert len(renders) == 1


def test_bonus_services_switched_off_leave_no_trace(rendered):
    compose = yaml.safe_load(rendered["srcs/docker-compose.yml"])
    assert set(compose["services"]) == {"mariadb", "wordpress", "nginx"}
    assert set(compose["volumes"]) == {"mariadb", "wordpress"}
    assert "docker.sock" not in rendered["srcs/docker-compose.yml"]
    site = rendered["srcs/requirements/nginx/conf/inception.conf"]
    assert "/site/" not in site
    assert "/adminer/" not in site


def test_portainer_image_is_built_from_the_verified_archive_only(rendered):
    dockerfile = rendered["srcs/requirements/bonus/portainer/Dockerfile"]
    release_stage, final_stage = dockerfile.split("\nFROM ")
    # Nothing is downloaded at build time: the archive comes from the build
    # context, and its sha256 is checked against the pin before it is unpacked.
    for fetcher in ("curl ", "wget ", "http://", "https://", "ADD "):
        assert fetcher not in release_stage
    pin = "44a5bedb68a82a7185ce9263bfcff9b64c93e58b1beae2cef49942f82dceeb66"
    assert f'echo "{pin}  /tmp/portainer-linux-amd64.tar.gz" | sha256sum --check --strict' in release_stage
    # The final image gets the unpacked program, never the archive.
    assert "COPY --from=release /opt/portainer /opt/portainer" in final_stage
    assert "tar.gz" not in final_stage
    assert 'org.opencontainers.image.version="2.33.5"' in final_stage
    for flag in ('"--http-disabled"', '"--bind-https", ":2307"', '"/run/secrets/portainer_password"'):
        assert flag in final_stage


def test_env_file_holds_no_secret(rendered):
    env = rendered["srcs/.env"]
    for password in (v for k, v in REQUIRED.items() if k.endswith("password")):
        assert password not in env
    assert "DOMAIN_NAME=jdoe.42.fr" in env.splitlines()


def test_daemon_json_is_json(rendered):
    config = json.loads(rendered["etc/docker/daemon.json"])
    assert config["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert "no-new-privileges" not in config


@pytest.mark.parametrize("mirrors", [[], ["http://127.0.0.1:5001"]])
def test_daemon_json_can_give_every_container_no_new_privileges(mirrors):
    engine = PROJECT / "roles" / "docker_engine"
    template = engine / "templates" / "etc" / "docker" / "daemon.json.j2"
    settings = {"docker_engine_no_new_privileges": True, "docker_engine_registry_mirrors": mirrors}
    config = json.loads(render(engine, template, **settings))
    assert config["no-new-privileges"] is True
    assert config["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert config.get("registry-mirrors", []) == mirrors


def test_nginx_speaks_tls_1_2_and_1_3_only_on_443(rendered):
    site = rendered["srcs/requirements/nginx/conf/inception.conf"]
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in site
    listens = {line.split()[1] for line in site.splitlines() if line.strip().startswith("listen ")}
    assert listens == {"443", "[::]:443"}
    assert "fastcgi_pass wordpress:9000;" in site


def test_rendered_readme_is_the_one_the_subject_asks_for(rendered):
    readme = rendered["README.md"]
    assert readme.splitlines()[0] == "*This project has been created as part of the 42 curriculum by jdoe.*"
    for section in ("## Description", "## Instructions", "## Resources"):
        assert section in readme
    for comparison in (
        "Virtual machines vs Docker",
        "Secrets vs environment variables",
        "Docker network vs host network",
        "Docker volumes vs bind mounts",
    ):
        assert f"### {comparison}" in readme
    assert "siteowner" in rendered["USER_DOC.md"]
    assert "/home/jdoe/data/mariadb" in rendered["DEV_DOC.md"]


def render_tree(**overrides) -> dict[str, str]:
    """Every file the stack role templates, rendered with these settings."""
    return {
        str(path.relative_to(STACK / "templates"))[:-3]: render(STACK, path, **overrides)
        for path in sorted((STACK / "templates").rglob("*.j2"))
    }


def changed_lines(before: dict[str, str], after: dict[str, str]) -> dict[str, set[str]]:
    """For each file that differs, the lines the second rendering has and the first has not."""
    return {
        name: set(after[name].splitlines()) - set(before[name].splitlines())
        for name in before
        if before[name] != after[name]
    }


def test_php_fpm_port_changes_only_where_wordpress_listens_and_nginx_connects():
    changes = changed_lines(render_tree(), render_tree(inception_stack_php_fpm_port=9001))
    assert changes == {
        "srcs/requirements/wordpress/conf/www.conf": {"listen = 9001"},
        "srcs/requirements/wordpress/Dockerfile": {"EXPOSE 9001"},
        "srcs/requirements/wordpress/tools/healthcheck.sh": {"    cgi-fcgi -bind -connect 127.0.0.1:9001"},
        "srcs/requirements/nginx/conf/inception.conf": {"        fastcgi_pass wordpress:9001;"},
    }


def test_the_apcu_time_changes_only_the_object_cache_s_constant():
    """Swarm mode's shorter APCu time (playbooks/vars/swarm.yml) reaches the
    one constant that holds it; the default renders the single machine's 10 s."""
    default = render_tree()
    object_cache = "srcs/requirements/wordpress/tools/object-cache.php"
    assert "\nconst INCEPTION_L1_TTL = 10;\n" in default[object_cache]
    swarm_ttl = load_yaml(SWARM_SETTINGS)["inception_swarm_apcu_ttl"]
    assert 1 <= swarm_ttl < 10
    changes = changed_lines(default, render_tree(inception_stack_object_cache_apcu_ttl=swarm_ttl))
    assert changes == {object_cache: {f"const INCEPTION_L1_TTL = {swarm_ttl};"}}


def test_the_login_moves_the_data_and_names_the_tree_but_touches_no_image():
    changes = changed_lines(
        render_tree(), render_tree(inception_stack_login="marvin", inception_stack_domain="marvin.42.fr")
    )
    # The compose file binds the new data folders; NGINX serves the new name.
    assert "      device: /home/marvin/data/mariadb" in changes["srcs/docker-compose.yml"]
    assert "DOMAIN_NAME=marvin.42.fr" in changes["srcs/.env"]
    assert any("marvin.42.fr" in line for line in changes["srcs/requirements/nginx/conf/inception.conf"])
    assert changes["README.md"]  # the subject's credit names the login
    # No Dockerfile changes: the same images serve any login.
    assert not [name for name in changes if name.endswith("Dockerfile")]


def test_the_upgrade_rehearsal_changes_only_where_wordpress_and_mariadb_come_from():
    """The upgrade tier's test-only switch: Debian 13's WordPress files and
    MariaDB, in images that still start FROM the bookworm base; off (the
    default), nothing of it is in the tree."""
    default = render_tree()
    assert not [name for name, text in default.items() if "trixie" in text]
    rehearsal = render_tree(inception_stack_upgrade_rehearsal=True)
    changes = changed_lines(default, rehearsal)
    assert sorted(changes) == [
        "srcs/requirements/mariadb/Dockerfile",
        "srcs/requirements/wordpress/Dockerfile",
    ]
    for name in changes:
        assert "        --target-release trixie \\" in changes[name], name
        lines = rehearsal[name].splitlines()
        assert lines[0] == "FROM debian:bookworm" or lines[0].startswith("FROM debian:bookworm AS "), name
        assert {line.split()[1] for line in lines if line.startswith("FROM ")} == {"debian:bookworm"}
    # WordPress's newer files come in the first stage only: PHP stays bookworm's.
    wordpress = rehearsal["srcs/requirements/wordpress/Dockerfile"]
    first_stage, _, final_stage = wordpress.partition("\nFROM ")
    assert "--target-release trixie" in first_stage
    assert "trixie" not in final_stage
    assert "php8.2-fpm" in final_stage


def test_the_image_build_script_in_the_tasks_passes_shellcheck(tmp_path):
    # The one shell script that lives in a task (tasks/images.yml), rendered
    # as Ansible would for two images, then linted like the others.
    tasks = yaml.safe_load((STACK / "tasks" / "images.yml").read_text())
    block = next(task for task in tasks if "block" in task)["block"]
    script = next(task for task in block if "ansible.builtin.shell" in task)["ansible.builtin.shell"]["cmd"]
    rendered = render_text(
        STACK,
        script,
        inception_stack_build_run="/tmp/inception-image-builds/20261202T120000000000",
        inception_stack_to_build=["mariadb", "nginx"],
    )
    assert "services=(mariadb nginx)" in rendered
    checked = shellcheck({"build-images.sh": "#!/bin/bash\n" + rendered}, tmp_path)
    assert checked.returncode == 0, checked.stdout


def test_the_services_restarted_on_rotation_are_those_that_read_each_secret():
    """vars/main.yml's inception_stack_secret_readers against the compose file:
    every service that mounts a secret, MariaDB aside (it reads its two only
    to initialise, and learns a new password by ALTER USER), as WordPress's
    users' passwords (credentials.txt, read at install; set through WordPress)
    and the certificate (its serial recreates what serves it) are."""
    compose = yaml.safe_load(
        render(STACK, STACK / "templates/srcs/docker-compose.yml.j2", inception_stack_bonus=ALL_BONUS)
    )
    files = {name: Path(secret["file"]).name for name, secret in compose["secrets"].items()}
    mounted: dict[str, set[str]] = {}
    for service, settings in compose["services"].items():
        for secret in settings.get("secrets", []):
            mounted.setdefault(files[secret if isinstance(secret, str) else secret["source"]], set()).add(
                service
            )
    readers = yaml.safe_load((STACK / "vars" / "main.yml").read_text())["inception_stack_secret_readers"]
    expected = {
        name: services - {"mariadb"}
        for name, services in mounted.items()
        if services - {"mariadb"} and name != "credentials.txt" and not name.startswith("server.")
    }
    assert {name: set(services) for name, services in readers.items()} == expected


def test_each_service_carries_a_digest_of_each_secret_it_reads_at_start():
    """Where the playbook wrote the secrets, the compose file labels each
    service with the digest of every secret it reads at its start: a new
    password recreates exactly those (compose would not, for a file's
    content). The certificate's serial stays beside them; an exported tree
    (no secret) carries none."""
    readers = yaml.safe_load((STACK / "vars" / "main.yml").read_text())["inception_stack_secret_readers"]
    files = [*readers, "db_root_password.txt", "credentials.txt"]
    digests = {file: f"{index:064x}" for index, file in enumerate(files, start=1)}
    compose = yaml.safe_load(
        render(
            STACK,
            STACK / "templates/srcs/docker-compose.yml.j2",
            inception_stack_bonus=ALL_BONUS,
            inception_stack_certificate_serial="1f",
            inception_stack_secrets_written={"digests": digests},
        )
    )
    for name, service in compose["services"].items():
        labels = service.get("labels", {})
        expected = {
            f"org.inception.secret-digest.{file.removesuffix('.txt')}": digests[file]
            for file, services in readers.items()
            if name in services
        }
        assert {key: value for key, value in labels.items() if "secret-digest" in key} == expected, name
        serves_tls = "tls_certificate" in service["secrets"] if "secrets" in service else False
        assert (labels.get("org.inception.certificate-serial") == "1f") == serves_tls, name
    assert "org.inception.secret-digest.db_password" in compose["services"]["wordpress"]["labels"]
    assert "labels" not in compose["services"]["mariadb"]  # its two: read to initialise only
    exported = render(STACK, STACK / "templates/srcs/docker-compose.yml.j2", inception_stack_bonus=ALL_BONUS)
    assert "secret-digest" not in exported
