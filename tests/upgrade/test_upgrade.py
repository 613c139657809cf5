"""Upgrade in place with a real version jump (molecule/upgrade).

The target was provisioned from bookworm's packages: WordPress 6.1, MariaDB
10.11. The playbook then renders the tree with the role's test-only
inception_stack_upgrade_rehearsal: WordPress's files from Debian 13's 6.8 and
MariaDB 11.8 (PHP stays bookworm's 8.2, every Dockerfile still starts FROM
debian:bookworm). In order, on one site:
  1. a site with content of every kind;
  2. an upgrade that fails half-way (a damaged core folder in the volume) is
     put back: the data copied before it, the images that ran before;
  3. the cause removed, the tree's `make` upgrades: the content, the users,
     the plugin and the theme the user added stay; the versions moved;
  4. the bookworm images again: refused, by the playbook and by each
     entrypoint, with nothing changed;
  5. going back: `make restore` of the copy taken before the upgrade, with
     the bookworm images the tree now builds, brings back the site of step 1.
"""

from __future__ import annotations

import re
import shlex
import uuid

import pytest

from tests.support.site import (
    https_get,
    make,
    mariadb_query,
    run_site_playbook,
    site_state,
    wait_until_healthy,
    wordpress_login,
    wordpress_php,
    write_post,
)

REHEARSAL = "inception_stack_upgrade_rehearsal=true"
UPLOAD = "wp-content/uploads/upgrade-check.txt"
PLUGIN = "wp-content/plugins/upgrade-canary/upgrade-canary.php"
THEME = "wp-content/themes/upgrade-canary/style.css"
# A file WordPress 6.5 added (the Interactivity API), absent from 6.1: a
# folder in its place makes copying the new core files fail.
NEW_IN_6_5 = "wp-includes/interactivity-api/class-wp-interactivity-api.php"


def versions(host) -> dict[str, str]:
    """What the site runs: WordPress's files and database, the MariaDB server."""
    wordpress = wordpress_php(host, "global $wp_version; echo $wp_version;")
    [[db_version]] = mariadb_query(
        host, "SELECT option_value FROM wp_options WHERE option_name = 'db_version'"
    )
    [[mariadb]] = mariadb_query(host, "SELECT VERSION()")
    return {"wordpress": wordpress, "db_version": db_version, "mariadb": mariadb.split("-")[0]}


def generator(target) -> str:
    """The WordPress version the home page says served it."""
    page = https_get(target, f"/?uncached={uuid.uuid4().hex}")
    assert page.status == 200, page.status
    found = re.search(r'<meta name="generator" content="WordPress ([0-9.]+)"', page.body.decode())
    assert found, page.body[:2000]
    return found.group(1)


def extras(host, target) -> dict[str, str]:
    """The upload, the plugin and the theme the user added, as the volume holds them."""
    return {
        path: host.file(f"{target.data}/wordpress/{path}").content_string for path in (UPLOAD, PLUGIN, THEME)
    }


def flat(run) -> str:
    """A run's output with each stretch of white space as one space: Ansible's
    YAML results fold long lines."""
    return " ".join((run.stdout + run.stderr).split())


def container_ids(host) -> dict[str, str]:
    return {
        service: host.check_output("docker inspect -f '{{.Id}} {{.Image}}' %s", service)
        for service in ("mariadb", "wordpress")
    }


@pytest.fixture(scope="module")
def before(host, target):
    """The site on bookworm's releases, with a post, a comment, an upload, an
    active plugin and a theme the user added."""
    wait_until_healthy(host, target.services)
    write_post(host, "Written before the upgrade", "Keep me.", "A comment from before the upgrade")
    plugin = "<?php\n/*\nPlugin Name: Upgrade canary\n*/\n"
    theme = "/*\nTheme Name: Upgrade canary\n*/\n"
    for path, content in ((UPLOAD, "uploaded before the upgrade\n"), (PLUGIN, plugin), (THEME, theme)):
        host.check_output(
            "docker exec -u www-data wordpress sh -c %s",
            f"mkdir -p /var/www/html/{path.rsplit('/', 1)[0]} && printf %s {shlex.quote(content)} "
            f"> /var/www/html/{path}",
        )
    wordpress_php(
        host,
        "require_once ABSPATH . 'wp-admin/includes/plugin.php';"
        " $activated = activate_plugin('upgrade-canary/upgrade-canary.php');"
        " if (is_wp_error($activated)) { fwrite(STDERR, $activated->get_error_message()); exit(1); }",
    )
    return {"versions": versions(host), "state": site_state(host), "extras": extras(host, target)}


def test_the_site_starts_on_bookworms_releases(before, target):
    assert before["versions"]["wordpress"].startswith("6.1."), before
    assert before["versions"]["mariadb"].startswith("10.11."), before
    assert generator(target) == before["versions"]["wordpress"]
    assert "Written before the upgrade" in before["state"]["posts"]


def test_a_failed_upgrade_puts_back_the_data_and_the_images_it_ran(host, target, before, secret_values):
    host.check_output("mkdir -p %s", f"{target.data}/wordpress/{NEW_IN_6_5}/damaged")
    ran_before = {service: ids.split()[1] for service, ids in container_ids(host).items()}

    run = run_site_playbook(host, REHEARSAL, expect_success=False)

    output = flat(run)
    assert run.returncode != 0, output[-3000:]
    jump = before["versions"]["wordpress"], before["versions"]["mariadb"]
    assert re.search(
        rf"upgrading WordPress {re.escape(jump[0])} to 6\.8\.[0-9]+, MariaDB "
        rf"{re.escape(jump[1])} to 11\.8\.[0-9]+",
        output,
    ), output[-3000:]
    assert "the upgrade failed" in output
    assert "back as it was, on the images it ran before" in output
    wait_until_healthy(host, target.services)
    assert {service: ids.split()[1] for service, ids in container_ids(host).items()} == ran_before
    assert versions(host) == before["versions"]
    assert site_state(host) == before["state"]
    assert extras(host, target) == before["extras"]
    assert generator(target) == before["versions"]["wordpress"]
    # The copy it took stays, whole.
    copies = host.check_output("ls -d %s/backups/pre-upgrade-*", target.data).split()
    assert len(copies) == 1
    for name in ("mariadb-files.tar.gz", "wordpress-files.tar.gz"):
        assert host.file(f"{copies[0]}/{name}").size > 0
    assert (
        host.check_output("docker images --format '{{.Tag}}' --filter reference='*:*-before-upgrade'") == ""
    )
    wordpress_login(target, target.admin_user, secret_values["wp_admin_password"])
    # The new images stay aside, so that the next run tries again: the
    # playbook's next run, its cause still there, fails the same way (it
    # neither skips the upgrade nor starts the new images without one).
    assert failed_upgrade_images(host) == ["mariadb", "wordpress"]
    again = run_site_playbook(host, REHEARSAL, expect_success=False)
    assert again.returncode != 0
    assert "back as it was, on the images it ran before" in flat(again), flat(again)[-3000:]
    assert versions(host) == before["versions"]
    assert site_state(host) == before["state"]
    assert len(host.check_output("ls -d %s/backups/pre-upgrade-*", target.data).split()) == 2


def failed_upgrade_images(host) -> list[str]:
    listed = host.check_output(
        "docker images --format '{{.Repository}}' --filter reference='*:*-failed-upgrade'"
    )
    return sorted(listed.split())


def test_make_upgrades_wordpress_and_mariadb_and_keeps_everything(host, target, before, secret_values):
    host.check_output("rm -r %s", f"{target.data}/wordpress/{NEW_IN_6_5}")

    upgraded = make(host, target, "up")

    assert upgraded.rc == 0, upgraded.stdout[-3000:] + upgraded.stderr[-3000:]
    now = versions(host)
    assert now["wordpress"].startswith("6.8."), now
    assert now["mariadb"].startswith("11.8."), now
    assert int(now["db_version"]) > int(before["versions"]["db_version"])
    old = before["versions"]
    assert (
        f"upgrade: upgraded WordPress {old['wordpress']} to {now['wordpress']}, "
        f"MariaDB {old['mariadb']} to {now['mariadb']}; "
        f"the copy taken before: {target.data}/backups/pre-upgrade-"
    ) in upgraded.stdout
    # One line each, with both versions: WordPress's in its log and make's
    # output, MariaDB's (mariadb-upgrade through docker exec) in make's.
    wordpress_line = (
        f"wp-install: upgraded WordPress from {old['wordpress']} to {now['wordpress']} "
        f"(database version {old['db_version']} to {now['db_version']})"
    )
    wordpress_log = host.run("docker logs wordpress").stderr
    assert wordpress_line in wordpress_log, wordpress_log[-2000:]
    assert wordpress_line in upgraded.stdout
    assert f"mariadb: upgraded the data folder from MariaDB {old['mariadb']} to {now['mariadb']}" in (
        upgraded.stdout
    )
    assert generator(target) == now["wordpress"]
    assert site_state(host) == before["state"]
    assert extras(host, target) == before["extras"]
    assert "upgrade-canary/upgrade-canary.php" in wordpress_php(
        host, "echo implode(',', get_option('active_plugins'));"
    )
    wordpress_login(target, target.admin_user, secret_values["wp_admin_password"])
    wordpress_login(target, target.user, secret_values["wp_user_password"])
    assert len(host.check_output("ls -d %s/backups/pre-upgrade-*", target.data).split()) == 3
    assert failed_upgrade_images(host) == []


def test_the_playbook_then_changes_nothing(host):
    run = run_site_playbook(host, REHEARSAL)
    assert re.search(r"inception-upgrade\s*:\s*ok=\d+\s+changed=0\s", run.stdout), run.stdout[-2000:]


def test_the_older_images_are_refused_and_nothing_changes(host, target):
    upgraded = versions(host)
    running = container_ids(host)

    run = run_site_playbook(host, expect_success=False)

    output = flat(run)
    assert run.returncode != 0
    assert re.search(
        rf"the image wordpress:{target.image_tag} carries WordPress 6\.1\.[0-9]+, older than the site's "
        rf"WordPress {re.escape(upgraded['wordpress'])}: nothing was changed",
        output,
    ), output[-3000:]
    assert container_ids(host) == running
    assert versions(host) == upgraded
    assert generator(target) == upgraded["wordpress"]
    # The containers' images have their names back (a `compose up` of the
    # playbook recreates nothing); the refused ones are set aside.
    assert failed_upgrade_images(host) == ["mariadb", "wordpress"]
    tag = target.image_tag
    for service in ("mariadb", "wordpress"):
        image = host.check_output("docker image inspect --format '{{.Id}}' %s", f"{service}:{tag}")
        assert image == host.check_output("docker inspect --format '{{.Image}}' %s", service)

    # Started by hand on the same data, each refused image's entrypoint refuses by itself.
    compose = (
        f"docker compose --project-directory {target.tree}/srcs --file {target.tree}/srcs/docker-compose.yml"
    )
    for service, command, message in (
        ("wordpress", "php-fpm8.2", f"is older than the site's {upgraded['wordpress']}: refusing to start"),
        ("mariadb", "mariadbd", f"is older than the MariaDB {upgraded['mariadb']} that wrote"),
    ):
        running_image = host.check_output("docker inspect --format '{{.Image}}' %s", service)
        host.check_output("docker tag %s %s", f"{service}:{tag}-failed-upgrade", f"{service}:{tag}")
        try:
            refused = host.run(f"{compose} run --rm --no-deps {service} {command}")
        finally:
            host.check_output("docker tag %s %s", running_image, f"{service}:{tag}")
        assert refused.rc != 0
        assert message in refused.stdout + refused.stderr, refused.stderr[-1000:]
    assert container_ids(host) == running
    assert versions(host) == upgraded
    wait_until_healthy(host, target.services)


def test_going_back_restores_the_copy_taken_before_the_upgrade(host, target, before, secret_values):
    # The tree is bookworm's again (the run above); the newest copy is the one
    # the successful upgrade took.
    newest = host.check_output("ls -d %s/backups/pre-upgrade-* | tail -n 1", target.data)

    restored = make(host, target, "restore", f"BACKUP={newest}")

    assert restored.rc == 0, restored.stdout[-2000:] + restored.stderr[-2000:]
    assert f"putting back the data folders from {newest}" in restored.stdout
    wait_until_healthy(host, target.services)
    assert versions(host) == before["versions"]
    assert site_state(host) == before["state"]
    assert extras(host, target) == before["extras"]
    assert generator(target) == before["versions"]["wordpress"]
    wordpress_login(target, target.user, secret_values["wp_user_password"])
