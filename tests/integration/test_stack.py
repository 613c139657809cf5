"""The mandatory stack on the target, checked the way an evaluator does."""

from __future__ import annotations

import html
import json
import re
import time
import urllib.parse
import uuid

import pytest

from tests.support.project import SERVICES
from tests.support.site import (
    https_get,
    mariadb_query,
    php_fpm_script,
    site_name,
    wordpress_login,
)
from tests.support.target_files import missing_paths, read_files

DAEMONS = {"mariadb": "mariadbd", "wordpress": "php-fpm8.2", "nginx": "nginx"}


@pytest.fixture(scope="module")
def containers(docker) -> dict[str, dict]:
    inspected = json.loads(docker("inspect", *SERVICES))
    return {c["Name"].lstrip("/"): c for c in inspected}


@pytest.fixture(scope="module")
def engine_cpus(docker) -> int:
    """The CPUs the target's Docker engine counts (a limit above them is refused)."""
    return int(docker("info", "--format", "{{.NCPU}}"))


@pytest.mark.evaluation("5")
@pytest.mark.parametrize("service", SERVICES)
def test_service_is_healthy_and_restarts_by_itself(containers, service):
    state = containers[service]["State"]
    assert state["Running"]
    assert state["Health"]["Status"] == "healthy"
    assert containers[service]["HostConfig"]["RestartPolicy"]["Name"] in ("always", "unless-stopped")


@pytest.mark.evaluation("5")
@pytest.mark.parametrize("service", SERVICES)
def test_image_is_named_after_its_service_and_built_here(containers, target, service):
    assert containers[service]["Config"]["Image"] == f"{service}:{target.image_tag}"
    assert not containers[service]["Config"]["Image"].endswith(":latest")


@pytest.mark.evaluation("3")
@pytest.mark.parametrize("service", SERVICES)
def test_pid_1_is_the_daemon_itself(docker, service):
    assert docker("exec", service, "cat", "/proc/1/comm").strip() == DAEMONS[service][:15]


@pytest.mark.evaluation("5")
@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_starts_from_debian_bookworm(host, target, service):
    dockerfile = host.file(f"{target.tree}/srcs/requirements/{service}/Dockerfile").content_string
    assert dockerfile.splitlines()[0].startswith("FROM debian:bookworm")
    # Every stage, not only the first.
    froms = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert set(froms) == {"debian:bookworm"}


@pytest.mark.evaluation("3")
def test_tree_follows_the_subject_layout(host, target):
    layout = ["Makefile", "srcs/docker-compose.yml", "srcs/.env", "srcs/requirements/tools"] + [
        f"srcs/requirements/{service}/{part}"
        for service in SERVICES
        for part in ("Dockerfile", ".dockerignore", "conf", "tools")
    ]
    assert missing_paths(host, *(f"{target.tree}/{path}" for path in layout)) == []


@pytest.mark.evaluation("3")
def test_compose_file_has_no_forbidden_network_settings(host, target):
    compose = host.file(f"{target.tree}/srcs/docker-compose.yml").content_string
    assert "\nnetworks:" in compose
    for forbidden in ("network_mode", "network: host", "links:", "latest"):
        assert forbidden not in compose


# What the evaluator greps for in compose, Makefiles, Dockerfiles and scripts:
# keep-alive hacks, daemons sent to the background, host networking, links.
FORBIDDEN = {
    "tail -f": re.compile(r"tail\s+-f"),
    "sleep infinity": re.compile(r"sleep\s+infinity"),
    "while true": re.compile(r"while\s+(true|:|\[\s*1\s*\])"),
    "a command sent to the background": re.compile(r"(?<![&>|])&\s*$"),
    "a bare shell as the command": re.compile(
        r"^\s*(CMD|ENTRYPOINT)\s*\[?\s*\"?(/bin/)?(ba)?sh\"?\s*\]?\s*$"
    ),
    "host networking": re.compile(r"network(_mode)?:\s*\"?host"),
    "links": re.compile(r"^\s*links:|--link\b"),
}


@pytest.mark.evaluation("3")
def test_no_keep_alive_hack_background_daemon_or_link_in_the_tree(host, target):
    listed = host.check_output(
        "find %s -type f \\( -name Dockerfile -o -name Makefile -o -name '*.sh'"
        " -o -name docker-compose.yml \\)",
        target.tree,
    ).split()
    assert len(listed) >= 1 + 1 + len(SERVICES) * 2, listed
    found = [
        f"{path}:{number}: {what}: {line.strip()}"
        for path, text in read_files(host, *listed).items()
        for number, line in enumerate(text.splitlines(), start=1)
        for what, pattern in FORBIDDEN.items()
        if pattern.search(line)
    ]
    assert found == []


@pytest.mark.evaluation("5")
def test_stack_network_joins_the_services(docker, target):
    network = json.loads(docker("network", "inspect", "inception"))[0]
    assert network["Driver"] == "bridge"
    assert sorted(c["Name"] for c in network["Containers"].values()) == sorted(target.services)


@pytest.mark.evaluation("6")
@pytest.mark.parametrize("volume", ["mariadb", "wordpress"])
def test_named_volume_keeps_its_data_under_home_login_data(docker, target, volume):
    info = json.loads(docker("volume", "inspect", volume))[0]
    assert info["Options"]["device"] == f"{target.data}/{volume}"
    assert info["Options"]["o"] == "bind"


@pytest.mark.evaluation("6")
def test_database_files_live_in_the_data_folder(host, target):
    assert host.file(f"{target.data}/mariadb/.inception-initialized").exists
    assert host.file(f"{target.data}/mariadb/wordpress").is_directory
    assert host.file(f"{target.data}/wordpress/wp-includes/version.php").exists


@pytest.mark.evaluation("8")
def test_wordpress_has_two_users_and_one_administrator(host, target):
    rows = mariadb_query(
        host,
        "SELECT u.user_login, m.meta_value FROM wp_users u JOIN wp_usermeta m"
        " ON m.user_id = u.ID AND m.meta_key = 'wp_capabilities' ORDER BY u.ID",
    )
    users = {login: capabilities for login, capabilities in rows}
    assert set(users) == {target.admin_user, target.user}
    administrators = [login for login, caps in users.items() if '"administrator"' in caps]
    assert administrators == [target.admin_user]
    assert "admin" not in target.admin_user.lower()


@pytest.mark.evaluation("4")
def test_site_title_is_the_inventory_one(host, target):
    """Intact whatever it holds (the container target's has quotes, $, a
    backslash, tags): WordPress keeps it HTML-escaped."""
    [[stored]] = mariadb_query(host, "SELECT option_value FROM wp_options WHERE option_name = 'blogname'")
    assert html.unescape(stored) == target.site_title
    assert site_name(target) == target.site_title


@pytest.mark.evaluation("8")
def test_the_users_addresses_are_the_inventory_ones(host, target):
    rows = mariadb_query(host, "SELECT user_login, user_email FROM wp_users")
    assert dict(rows) == {target.admin_user: target.admin_email, target.user: target.user_email}


@pytest.mark.evaluation("8")
def test_both_users_log_in_with_the_passwords_the_tree_holds(target, secret_values):
    """The administrator's and the second user's, whatever characters they hold."""
    wordpress_login(target, target.admin_user, secret_values["wp_admin_password"])
    wordpress_login(target, target.user, secret_values["wp_user_password"])


@pytest.mark.evaluation("8")
def test_database_is_not_empty(host):
    tables = mariadb_query(
        host, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'wordpress'"
    )
    assert int(tables[0][0]) >= 12  # WordPress's own tables
    published = mariadb_query(host, "SELECT COUNT(*) FROM wp_posts WHERE post_status = 'publish'")
    assert int(published[0][0]) >= 1


@pytest.mark.evaluation("8")
def test_database_account_has_rights_on_the_wordpress_database_only(host):
    grants = mariadb_query(host, "SHOW GRANTS FOR 'wordpress'@'%'")
    privileges = [row[0] for row in grants]
    assert len(privileges) == 2
    assert privileges[0].startswith("GRANT USAGE ON *.*")
    assert privileges[1].startswith("GRANT ALL PRIVILEGES ON `wordpress`.*")


@pytest.mark.evaluation("hardening")
def test_root_has_no_network_account(host):
    hosts = {row[0] for row in mariadb_query(host, "SELECT Host FROM mysql.user WHERE User = 'root'")}
    assert hosts == {"localhost"}


@pytest.mark.evaluation("hardening")
def test_root_cannot_log_in_over_the_network(host, target):
    # From the wordpress container, with root's real password (read from stdin).
    probe = (
        "mysqli_report(MYSQLI_REPORT_OFF);"
        "$c = @new mysqli('mariadb', 'root', trim(fgets(STDIN)));"
        "exit($c->connect_errno ? 3 : 0);"
    )
    result = host.run(
        "docker exec -i wordpress php -r %s < %s", probe, f"{target.tree}/secrets/db_root_password.txt"
    )
    assert result.rc == 3


@pytest.mark.evaluation("hardening")
def test_secrets_are_root_only_on_the_target(host, target):
    folder = f"{target.tree}/secrets"
    files = [f"{folder}/{name}" for name in ("db_password.txt", "db_root_password.txt", "credentials.txt")]
    listing = host.check_output("stat -c '%%U %%a %%n'" + " %s" * (1 + len(files)), folder, *files)
    owner_and_mode = {
        path: (owner, mode) for owner, mode, path in (line.split(" ", 2) for line in listing.splitlines())
    }
    assert owner_and_mode == {folder: ("root", "700")} | {path: ("root", "600") for path in files}


@pytest.mark.evaluation("hardening")
def test_no_secret_in_images_containers_or_logs(host, target, secret_values):
    # Each container's configuration, its image's history and both streams of
    # its log, in one command.
    evidence = (
        "set -eo pipefail; for service; do"
        ' docker inspect "$service";'
        ' docker history --no-trunc "$(docker inspect --format "{{.Config.Image}}" "$service")";'
        ' docker logs "$service" 2>&1;'
        " done"
    )
    text = host.check_output("bash -c %s bash" + " %s" * len(target.services), evidence, *target.services)
    # Every container answered (its name in its own configuration); the
    # evidence itself stays out of the message.
    assert [service for service in target.services if f'"/{service}"' not in text] == []
    leaked = [name for name, value in secret_values.items() if value in text]
    assert leaked == []


@pytest.mark.evaluation("hardening")
def test_only_www_data_reads_the_database_password_copy(host, target):
    # As www-data: the Docker secret itself stays root-only inside the
    # container, and the entrypoint's copy in memory is readable by php-fpm's
    # workers, the same bytes as the tree's secret (checksums: no secret in a
    # test's output). As root: the copy's owner and mode, and the memory it
    # lives in.
    tree_secret, refused, copy = host.check_output(
        "sha256sum < %s && docker exec -u www-data wordpress sh -c %s",
        f"{target.tree}/secrets/db_password.txt",
        "if cat /run/secrets/db_password > /dev/null 2>&1; then echo readable; else echo refused; fi;"
        " sha256sum < /run/inception/db_password",
    ).splitlines()
    assert refused == "refused"
    assert copy == tree_secret
    as_root = host.check_output(
        "docker exec wordpress sh -c %s",
        "stat -c '%U:%G %a' /run/inception/db_password && findmnt -n -o FSTYPE /run/inception",
    )
    assert as_root.splitlines() == ["root:www-data 440", "tmpfs"]


# The capabilities each service keeps (all others dropped), and its limits:
# memory (MiB), CPUs, processes.
HARDENING = {
    "mariadb": ({"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}, 384, 1, 200),
    "wordpress": ({"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}, 512, 2, 200),
    "nginx": ({"CHOWN", "NET_BIND_SERVICE", "SETGID", "SETUID"}, 160, 1, 100),
}


@pytest.mark.evaluation("hardening")
@pytest.mark.parametrize("service", SERVICES)
def test_container_is_hardened_and_limited(containers, engine_cpus, service):
    host_config = containers[service]["HostConfig"]
    capabilities, memory_mib, cpus, pids = HARDENING[service]
    # Docker refuses a limit above the machine's CPUs: WordPress's two become
    # one on a one-CPU machine (CI's VM).
    cpus = min(cpus, engine_cpus)
    assert host_config["CapDrop"] == ["ALL"]
    assert {c.removeprefix("CAP_") for c in host_config["CapAdd"]} == capabilities
    assert "no-new-privileges:true" in host_config["SecurityOpt"]
    assert host_config["Privileged"] is False
    assert host_config["ReadonlyRootfs"] is True
    assert host_config["Memory"] == memory_mib * 1024 * 1024
    assert host_config["NanoCpus"] == cpus * 1_000_000_000
    assert host_config["PidsLimit"] == pids


@pytest.mark.evaluation("hardening")
@pytest.mark.parametrize("service", SERVICES)
def test_root_filesystem_is_read_only_even_for_root(host, service):
    written = host.run("docker exec %s touch /usr/local/bin/probe", service)
    assert written.rc != 0
    assert "Read-only file system" in written.stderr


@pytest.mark.evaluation("hardening")
@pytest.mark.parametrize(
    ("service", "daemon", "user"),
    [
        ("mariadb", "mariadbd", "mysql"),
        ("wordpress", "php-fpm8.2", "www-data"),
        ("nginx", "nginx", "www-data"),
    ],
)
def test_requests_are_served_by_an_unprivileged_user(host, service, daemon, user):
    # php-fpm's and NGINX's masters (PID 1) stay root by design: they read the
    # secrets and bind 443. The processes that serve requests are not root.
    listing = host.check_output(
        "docker exec %s bash -c %s",
        service,
        'for p in /proc/[0-9]*; do echo "$(stat -c %U "$p") $(cat "$p/comm")"; done 2>/dev/null',
    )
    owners = [line.split(" ", 1) for line in listing.splitlines() if " " in line]
    serving = {owner for owner, comm in owners if comm == daemon[:15]}
    assert user in serving
    if service == "mariadb":
        assert serving == {"mysql"}


@pytest.mark.evaluation("performance")
def test_php_fpm_serves_with_the_opcache_and_its_jit_compiling(host, target):
    """The image's PHP tuning as php-fpm itself sees it (a script run through
    FastCGI, as the healthcheck's): the opcache on, and its tracing JIT on and
    used: once WordPress has served a page, part of its buffer holds code."""
    page = https_get(target, "/", headers={"Cookie": "wordpress_no_cache=1"})
    assert page.status == 200
    with php_fpm_script(host, target, "opcache", "<?php echo json_encode(opcache_get_status(false));") as run:
        status = run()
    assert status["opcache_enabled"] is True
    jit = status["jit"]
    assert jit["enabled"] is True, jit
    assert jit["on"] is True, jit
    # opcache.jit_buffer_size = 32M (PHP keeps a few bytes of it for itself).
    assert jit["buffer_size"] > 31 * 2**20, jit
    assert jit["buffer_free"] < jit["buffer_size"], jit


# A post for later, written through php-fpm as the dashboard writes it (so
# the site's own caches see it at once), then deleted; both answer JSON.
# WordPress publishes at once a post due within a minute: this one is
# scheduled an hour ahead, then brought forward to a few seconds from now
# (its date and its event), as if it had been scheduled an hour ago. The
# seconds until it is due are the target's: its clock, not this machine's.
_SCHEDULE_POST = r"""<?php
require '/var/www/html/wp-load.php';
parse_str($_SERVER['QUERY_STRING'] ?? '', $query);
if (isset($query['delete'])) {
    echo json_encode(['deleted' => (bool) wp_delete_post((int) $query['delete'], true)]);
    exit;
}
$id = wp_insert_post(['post_title' => $query['title'], 'post_content' => 'Published by WP-Cron.',
    'post_status' => 'future', 'post_author' => 1,
    'post_date_gmt' => gmdate('Y-m-d H:i:s', time() + HOUR_IN_SECONDS)], true);
if (is_wp_error($id)) {
    echo json_encode(['error' => $id->get_error_message()]);
    exit;
}
$due = time() + (int) $query['in'];
$wpdb->update($wpdb->posts, ['post_date_gmt' => gmdate('Y-m-d H:i:s', $due),
    'post_date' => get_date_from_gmt(gmdate('Y-m-d H:i:s', $due))], ['ID' => $id]);
clean_post_cache($id);
wp_clear_scheduled_hook('publish_future_post', [$id]);
wp_schedule_single_event($due, 'publish_future_post', [$id]);
$event = wp_next_scheduled('publish_future_post', [$id]);
echo json_encode(['id' => $id, 'status' => get_post_status($id),
    'due_in' => $event ? $event - time() : null]);
"""
SCHEDULED_IN_S = 3
# WP-Cron's lock (WP_CRON_LOCK_TIMEOUT, 60 s) may hold a visit's spawn back
# while another run ends; visitors keep coming meanwhile.
PUBLISHED_WITHIN_S = 90


@pytest.mark.evaluation("operations")
def test_a_post_scheduled_for_later_is_published_on_time(host, target):
    """WP-Cron runs when someone visits: WordPress then asks its own site, at
    its domain, for wp-cron.php, which publishes what is due. Inside the
    stack that name must reach NGINX (its alias on the stack's network), or
    nothing scheduled ever runs: a scheduled post stays "Missed schedule",
    the weekly Site Health check and the update checks never run."""
    title = f"Scheduled {uuid.uuid4().hex[:8]}"
    uncached = {"Cookie": "wordpress_no_cache=1"}
    with php_fpm_script(host, target, "schedule", _SCHEDULE_POST) as run:
        scheduled = run(urllib.parse.urlencode({"title": title, "in": SCHEDULED_IN_S}))
        try:
            assert scheduled.get("status") == "future", scheduled
            assert scheduled["due_in"] is not None, scheduled
            time.sleep(max(0, scheduled["due_in"]) + 1)
            query = f"SELECT post_status FROM wp_posts WHERE ID = {int(scheduled['id'])}"
            status, deadline = "future", time.monotonic() + PUBLISHED_WITHIN_S
            while status != "publish" and time.monotonic() < deadline:
                # A visitor's page view (uncached), and nothing else.
                assert https_get(target, "/", headers=uncached).status == 200
                time.sleep(2)
                [[status]] = mariadb_query(host, query)
            assert status == "publish"
            published = https_get(target, f"/?p={int(scheduled['id'])}", headers=uncached)
            assert published.status == 200
            assert title in published.body.decode()
        finally:
            if "id" in scheduled:
                run(f"delete={int(scheduled['id'])}")


# What host_recovery writes, read by the kernel's settings at every boot.
RECOVERY_SETTINGS = "/etc/sysctl.d/90-inception-recovery.conf"
PANIC_REBOOT_S = 10


@pytest.mark.evaluation("operations")
def test_a_machine_target_restarts_by_itself_after_a_kernel_panic(host):
    """A VM whose kernel panics restarts 10 s later, and the stack with it,
    as after any reboot. A container target runs on its host's kernel, whose
    settings are the host's: the role leaves them alone there."""
    in_container = host.run("systemd-detect-virt --container --quiet").rc == 0
    settings = host.file(RECOVERY_SETTINGS)
    if in_container:
        assert not settings.exists
    else:
        assert settings.exists
        assert re.search(rf"^kernel\.panic\s*=\s*{PANIC_REBOOT_S}$", settings.content_string, re.M)
        assert host.file("/proc/sys/kernel/panic").content_string.strip() == str(PANIC_REBOOT_S)


@pytest.mark.evaluation("docs")
def test_tree_carries_the_documents_the_subject_asks_for(host, target):
    documents = read_files(
        host, *(f"{target.tree}/{name}" for name in ("README.md", "USER_DOC.md", "DEV_DOC.md"))
    )
    readme = documents[f"{target.tree}/README.md"]
    assert (
        readme.splitlines()[0]
        == f"*This project has been created as part of the 42 curriculum by {target.login}.*"
    )
    for heading in (
        "## Description",
        "## Instructions",
        "## Resources",
        "### Virtual machines vs Docker",
        "### Secrets vs environment variables",
        "### Docker network vs host network",
        "### Docker volumes vs bind mounts",
    ):
        assert heading in readme
    # Filled in from the inventory: the user's and the developer's guides name
    # this target's administrator, site and data folders.
    user_doc = documents[f"{target.tree}/USER_DOC.md"]
    assert target.admin_user in user_doc
    assert target.domain in user_doc
    assert f"{target.data}/mariadb" in documents[f"{target.tree}/DEV_DOC.md"]


@pytest.mark.evaluation("5")
def test_a_command_other_than_the_daemon_skips_the_set_up(host, docker, target):
    # What `docker compose run wordpress bash` does: an entrypoint hands any
    # other command straight over. Here with no secret, volume or network, where
    # the set-up would stop at the first missing secret.
    entrypoints = {
        service: f"{target.tree}/srcs/requirements/{'bonus/' if service in target.bonus else ''}{service}"
        "/tools/docker-entrypoint.sh"
        for service in target.services
    }
    without = set(missing_paths(host, *entrypoints.values()))
    checked = []
    for service, entrypoint in entrypoints.items():
        if entrypoint in without:
            continue
        image = f"{service}:{target.image_tag}"
        assert docker("run", "--rm", "--network", "none", image, "echo", "shell-ok") == "shell-ok", service
        checked.append(service)
    assert {"mariadb", "wordpress"} <= set(checked)


@pytest.mark.evaluation("5")
def test_compose_accepts_the_rendered_file(host, target):
    # Docker Compose v2 on the target reads the file as the evaluator's make does.
    # --quiet first: its errors, if any, are the failure's message.
    checked = host.run(
        "cd %s && docker compose config --quiet && docker compose config --services", f"{target.tree}/srcs"
    )
    assert checked.rc == 0, checked.stderr
    assert sorted(checked.stdout.split()) == sorted(target.services)
