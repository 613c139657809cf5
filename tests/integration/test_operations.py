"""Day-2 operations: a service is healthy only when it really works.

WordPress is unhealthy when its database refuses its credentials, not just
when php-fpm is down, yet a database restart does not make it flap. The backup
service is unhealthy when its last run failed or its newest backup is older
than the schedule allows, and each way a night's backup used to fail is
covered: a password with any character pre-flight accepts, a file changed
while it was read, a run killed half-way, two runs at once.
"""

from __future__ import annotations

import base64
import ftplib
import hashlib
import json
import shlex
import ssl
import string
import subprocess
import threading
import time
import uuid

import pytest

from tests.support.site import (
    LOOPBACK,
    https_get,
    make,
    mariadb_query,
    refused_or_accepted,
    run_site_playbook,
    site_state,
    skip_unless_on,
    wait_until_healthy,
    wordpress_accepts,
    wordpress_php,
    write_post,
)

pytestmark = pytest.mark.evaluation("operations")

# Every character pre-flight lets a password hold: printable, no white space.
EVERY_CHARACTER = "".join(c for c in string.printable if not c.isspace())


def sql_string(value: str) -> str:
    """A MariaDB string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def run_sql_as_root(host, sql: str) -> None:
    """SQL through MariaDB's root socket, on standard input."""
    result = host.run(f"docker exec -i mariadb mariadb --batch <<'SQL'\n{sql}\nSQL")
    assert result.rc == 0, result.stderr


def in_container(host, service: str, command: str, *settings: str):
    """A command in a service's container, with extra environment settings."""
    env = "".join(f"-e {shlex.quote(setting)} " for setting in settings)
    return host.run(f"docker exec {env}{service} {command}")


def health(host, service: str, *settings: str) -> tuple[int, str]:
    """The service's healthcheck, run now: its status and what it said."""
    check = in_container(host, service, "/usr/local/bin/healthcheck.sh", *settings)
    return check.rc, check.stdout.strip()


def test_wordpress_is_unhealthy_while_its_database_refuses_its_credentials(host):
    assert health(host, "wordpress") == (0, "")
    # The account refused without touching its password (no value to restore).
    run_sql_as_root(host, "ALTER USER 'wordpress'@'%' ACCOUNT LOCK;")
    try:
        rc, said = health(host, "wordpress")
        assert rc == 1
        assert said.startswith("database refused the connection: error ")
    finally:
        run_sql_as_root(host, "ALTER USER 'wordpress'@'%' ACCOUNT UNLOCK;")
    assert health(host, "wordpress") == (0, "")


def test_a_database_restart_does_not_make_wordpress_unhealthy(host):
    seen = set()
    host.check_output("docker restart mariadb")
    deadline = time.monotonic() + 45  # past one more healthcheck of WordPress's, 30 s apart
    while time.monotonic() < deadline:
        seen.add(host.check_output("docker inspect -f '{{.State.Health.Status}}' wordpress"))
        time.sleep(0.5)
    assert seen == {"healthy"}
    wait_until_healthy(host, ("mariadb", "wordpress"))


@pytest.fixture
def backup(host, target):
    """Runs /usr/local/bin/backup in the backup container with extra settings."""
    skip_unless_on(target, "backup")

    def run(*settings: str):
        return in_container(host, "backup", "/usr/local/bin/backup", *settings)

    return run


def test_backup_health_follows_the_last_run(host, backup):
    made = backup()
    assert made.rc == 0, made.stderr
    assert host.check_output("docker exec backup cat /backups/.last-run").startswith("ok ")
    assert health(host, "backup") == (0, "")
    host.check_output("docker stop mariadb")
    try:
        failed = backup()
        assert failed.rc == 1
        rc, said = health(host, "backup")
        assert rc == 1
        assert said.startswith("the last backup failed at ")
        assert said.endswith("mariadb-dump failed")
    finally:
        host.check_output("docker start mariadb")
        wait_until_healthy(host, ("mariadb",))
    assert backup().rc == 0
    assert health(host, "backup") == (0, "")


def test_backup_health_counts_an_overdue_backup_only_once_one_is_due(host, backup):
    folder = "/run/health-test"
    host.check_output("docker exec backup sh -c %s", f"rm -rf {folder} && mkdir -p {folder}")
    try:
        # Up for longer than a 1-second schedule allows, and no backup at all.
        assert health(host, "backup", f"BACKUP_DIR={folder}", "BACKUP_INTERVAL=1") == (
            1,
            "no backup yet, though one was due",
        )
        # A fresh install (up for less than one interval): not due yet.
        assert health(host, "backup", f"BACKUP_DIR={folder}", "BACKUP_INTERVAL=100000000") == (0, "")
        # The newest backup older than the schedule allows.
        host.check_output("docker exec backup mkdir %s", f"{folder}/20200101T031500Z")
        assert health(host, "backup", f"BACKUP_DIR={folder}", "BACKUP_INTERVAL=1") == (
            1,
            "the newest backup (20200101T031500Z) is older than the schedule allows",
        )
        # One made now.
        host.check_output("docker exec backup sh -c %s", f"mkdir {folder}/$(date -u +%Y%m%dT%H%M%SZ)")
        assert health(host, "backup", f"BACKUP_DIR={folder}", "BACKUP_INTERVAL=5") == (0, "")
    finally:
        host.run("docker exec backup rm -rf %s", folder)


def test_a_password_with_every_character_preflight_accepts_backs_up(host, backup):
    password = EVERY_CHARACTER
    run_sql_as_root(
        host,
        f"CREATE USER 'every_character'@'%' IDENTIFIED BY {sql_string(password)};\n"
        "GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES ON wordpress.* TO 'every_character'@'%';",
    )
    folder = "/run/password-test"
    try:
        host.check_output("docker exec backup mkdir -p %s", folder)
        # The password file is written from standard input, like a Docker secret's content.
        written = host.run(
            f"docker exec -i backup sh -c 'cat > {folder}/password' <<'PASSWORD'\n{password}\nPASSWORD"
        )
        assert written.rc == 0, written.stderr
        made = backup(
            "MYSQL_USER=every_character", f"DB_PASSWORD_FILE={folder}/password", f"BACKUP_DIR={folder}/out"
        )
        assert made.rc == 0, made.stderr
        tables = host.check_output(
            "docker exec backup sh -c %s",
            f"gunzip -c {folder}/out/20*/database.sql.gz | grep -c '^CREATE TABLE'",
        )
        assert int(tables) >= 12
    finally:
        run_sql_as_root(host, "DROP USER IF EXISTS 'every_character'@'%';")
        host.run("docker exec backup rm -rf %s", folder)


def test_a_file_changed_while_read_keeps_the_nights_backup(host, backup):
    uploads = "/var/www/html/wp-content/uploads"
    grower, stop = f"{uploads}/growing.bin", f"{uploads}/stop-growing"
    # A file written to all along the backup (an upload in progress), up to
    # 40 MB or until told to stop.
    host.check_output(
        "docker exec -d -u www-data wordpress timeout 60 sh -c %s",
        f"mkdir -p {uploads}; rm -f {stop}; "
        f"while [ ! -e {stop} ] && [ $(stat -c %s {grower} 2>/dev/null || echo 0) -lt 40000000 ]; do "
        f"head -c 8192 /dev/urandom >> {grower}; done",
    )
    time.sleep(1)
    try:
        made = backup()
        assert made.rc == 0, made.stderr
        assert "some files changed while they were read; kept as read" in made.stderr
        assert host.check_output("docker exec backup cat /backups/.last-run").startswith("ok ")
    finally:
        host.run("docker exec -u www-data wordpress touch %s", stop)
        time.sleep(1)
        host.run("docker exec wordpress rm -f %s %s", grower, stop)


def test_a_run_killed_half_way_leaves_nothing_behind_the_next_run(host, backup):
    host.check_output("docker exec backup mkdir -p /backups/.partial-20200101T031500Z/left")
    assert backup().rc == 0
    left = host.check_output("docker exec backup find /backups -maxdepth 1 -name '.partial-*'")
    assert left == ""


def test_two_runs_at_once_one_waits_its_turn_by_stopping(host, backup):
    host.check_output("docker exec -d backup sh -c 'exec /usr/local/bin/backup > /run/first.log 2>&1'")
    time.sleep(0.3)
    second = backup()
    assert second.rc == 1
    assert "another backup is running" in second.stderr
    # Waits until the first run lets go of the lock.
    host.check_output("docker exec backup flock --timeout 120 /run/backup/lock true")
    assert host.check_output("docker exec backup cat /backups/.last-run").startswith("ok ")
    assert health(host, "backup") == (0, "")


def newest_backup(host, target) -> str:
    return host.check_output("ls -d %s/backups/20* | tail -n 1", target.data)


UPLOAD = "wp-content/uploads/restore-check.txt"


@pytest.fixture
def backed_up(host, target, backup):
    """A post with a comment, an upload and a title of its own, then a backup."""
    post = write_post(host, "Kept by the backup", "Restore me.", "A comment worth keeping")
    [[title]] = mariadb_query(host, "SELECT option_value FROM wp_options WHERE option_name = 'blogname'")
    wordpress_php(host, "update_option('blogname', 'Title at backup time');")
    host.check_output(
        "docker exec -u www-data wordpress sh -c %s",
        f"mkdir -p /var/www/html/wp-content/uploads && echo uploaded > /var/www/html/{UPLOAD}",
    )
    made = make(host, target, "backup")
    assert made.rc == 0, made.stderr
    state = site_state(host)
    yield newest_backup(host, target), state
    # Whatever happened, the site's title is the inventory's again.
    # As it was stored (base64: no quoting of what it holds).
    stored = base64.b64encode(title.encode()).decode()
    wordpress_php(host, f"update_option('blogname', base64_decode('{stored}'));")
    wordpress_php(host, f"wp_delete_post({post}, true);")
    host.run("rm -f %s", f"{target.data}/wordpress/{UPLOAD}")


def change_everything(host, target):
    """Delete and change what the backup holds; add what it does not."""
    for post in json.loads(
        wordpress_php(
            host, "echo json_encode(get_posts(['title' => 'Kept by the backup', 'fields' => 'ids']));"
        )
    ):
        wordpress_php(host, f"wp_delete_post({post}, true);")
    wordpress_php(host, "update_option('blogname', 'Changed after the backup');")
    write_post(host, "Written after the backup", "Must go.")
    host.check_output("rm %s", f"{target.data}/wordpress/{UPLOAD}")


def assert_restored(host, target, state: dict) -> None:
    assert site_state(host) == state
    upload = host.file(f"{target.data}/wordpress/{UPLOAD}")
    assert upload.content_string == "uploaded\n"
    assert upload.user == "www-data"
    wait_until_healthy(host, target.services)
    assert https_get(target, f"/?uncached={uuid.uuid4().hex}").status == 200


def test_restore_brings_back_posts_comments_uploads_and_the_title(host, target, backed_up):
    folder, state = backed_up
    assert "Kept by the backup" in state["posts"]
    assert "A comment worth keeping" in state["comments"]
    change_everything(host, target)
    mariadb_started = host.check_output("docker inspect -f '{{.State.StartedAt}}' mariadb")
    restored = make(host, target, "restore", f"BACKUP={folder}")
    assert restored.rc == 0, restored.stdout + restored.stderr
    assert "emptied Redis" in restored.stdout or "redis" not in target.services
    assert_restored(host, target, state)
    # Only what writes the site was stopped: the database kept running (NGINX
    # is restarted, to look the others up again), and the site is served.
    assert host.check_output("docker inspect -f '{{.State.StartedAt}}' mariadb") == mariadb_started
    assert https_get(target, f"/?uncached={uuid.uuid4().hex}").status == 200


def test_restore_after_fclean_and_wipe_data_needs_no_other_step(host, target, backed_up):
    folder, state = backed_up
    for step in (["fclean"], ["wipe-data", "CONFIRM=yes"]):
        done = make(host, target, *step)
        assert done.rc == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert host.check_output("ls -A %s", f"{target.data}/mariadb") == ""
    restored = make(host, target, "restore", f"BACKUP={folder}")
    assert restored.rc == 0, restored.stdout[-3000:] + restored.stderr[-3000:]
    assert_restored(host, target, state)


@pytest.mark.parametrize(
    ("make_folder", "reason"),
    [
        ("mkdir -p {f}", "is not a whole backup: database.sql.gz is missing or empty"),
        (
            "mkdir -p {f} && echo x > {f}/database.sql.gz && echo x > {f}/wordpress-files.tar.gz",
            "is damaged (gzip)",
        ),
        (
            "mkdir -p {f} && echo 'DROP TABLE x;' | gzip > {f}/database.sql.gz"
            " && echo x > {f}/wordpress-files.tar.gz",
            "is not a dump of mariadb-dump",
        ),
    ],
)
def test_a_folder_that_is_not_a_whole_backup_is_refused_before_anything_stops(
    host, target, make_folder, reason
):
    folder = "/tmp/not-a-backup"
    host.check_output("rm -rf %s && " + make_folder.format(f=folder), folder)
    started = host.check_output("docker inspect -f '{{.State.StartedAt}}' " + " ".join(target.services))
    try:
        refused = make(host, target, "restore", f"BACKUP={folder}")
        assert refused.rc != 0
        assert reason in refused.stderr
    finally:
        host.run("rm -rf %s", folder)
    assert (
        host.check_output("docker inspect -f '{{.State.StartedAt}}' " + " ".join(target.services)) == started
    )


def test_a_partial_backup_is_refused(host, target, backup):
    folder = f"{target.data}/backups/.partial-20200101T031500Z"
    host.check_output("mkdir -p %s", folder)
    try:
        refused = make(host, target, "restore", f"BACKUP={folder}")
        assert refused.rc != 0
        assert "a backup that never finished" in refused.stderr
    finally:
        host.run("rm -rf %s", folder)


def database_accepts(host, user: str, password: str) -> bool:
    # As the mysql account over the socket: root's socket login does not apply.
    return refused_or_accepted(
        host,
        "docker exec -i -u mysql mariadb sh -c "
        + shlex.quote(
            f"read -r MYSQL_PWD; export MYSQL_PWD; exec mariadb --user={user} --execute='SELECT 1'"
        ),
        password,
    )


def redis_accepts(host, password: str) -> bool:
    return refused_or_accepted(
        host,
        "docker exec -i redis sh -c "
        + shlex.quote('read -r REDISCLI_AUTH; export REDISCLI_AUTH; [ "$(redis-cli ping)" = PONG ]'),
        password,
    )


def adminer_accepts(target, password: str) -> bool:
    """NGINX's basic authentication in front of Adminer (the user is the login)."""
    token = base64.b64encode(f"{target.login}:{password}".encode()).decode()
    return https_get(target, "/adminer/", {"Authorization": f"Basic {token}"}).status != 401


def ftp_accepts(target, password: str) -> bool:
    """An FTPS login from this machine through the forwarded port, TLS checked."""
    client = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=str(target.ca_path)), timeout=30)
    client.connect(LOOPBACK, target.ftp_port)
    client.host = target.domain
    try:
        client.auth()
        client.login(target.ftp_user, password)
    except ftplib.error_perm:
        return False
    finally:
        client.close()
    return True


class RotationWatch(threading.Thread):
    """Beside a playbook run, every ~0.3 s: whether the site answers a page
    WordPress renders (its page cache skipped), and, on a container target,
    every process's command line in it (nested containers' included)."""

    def __init__(self, target, container: str | None):
        super().__init__(daemon=True)
        self.target, self.container = target, container
        self.answers: list[tuple[float, bool]] = []
        self.command_lines: set[str] = set()
        self.done = threading.Event()

    def run(self) -> None:
        dump = 'for f in /proc/[0-9]*/cmdline; do tr "\\000" " " < "$f"; echo; done 2> /dev/null'
        while not self.done.is_set():
            asked = time.monotonic()
            try:
                answered = https_get(self.target, f"/?uncached={uuid.uuid4().hex}").status == 200
            except Exception:  # refused, reset, timed out: all count as down
                answered = False
            self.answers.append((asked, answered))
            if self.container:
                listed = subprocess.run(
                    ["docker", "exec", self.container, "sh", "-c", dump],
                    capture_output=True, text=True, timeout=30, check=False,
                )  # fmt: skip
                self.command_lines.update(listed.stdout.splitlines())
            time.sleep(0.3)

    def longest_outage(self) -> float:
        """The longest time between a failed answer's request and the next good one's."""
        longest, down_since = 0.0, None
        for asked, answered in self.answers:
            if not answered and down_since is None:
                down_since = asked
            elif answered and down_since is not None:
                longest, down_since = max(longest, asked - down_since), None
        if down_since is not None:
            longest = max(longest, self.answers[-1][0] - down_since)
        return longest

    def assert_brief_and_clean(self, values) -> None:
        """Down for no more than the readers' recreation and NGINX's restart
        (seconds; the bound leaves room for a loaded machine), and no value
        in any process's arguments while the playbook ran."""
        assert len(self.answers) > 20
        assert self.longest_outage() < 60, self.longest_outage()
        if self.container:
            assert len(self.command_lines) > 10  # the sampler saw the target
            assert not [value for value in values if any(value in line for line in self.command_lines)]


def run_watched(host, target, *extra_vars: str) -> RotationWatch:
    """The playbook, with a RotationWatch beside it."""
    on_docker = host.backend.get_variables().get("ansible_connection") == "community.docker.docker"
    watch = RotationWatch(target, host.backend.host if on_docker else None)
    watch.start()
    try:
        run_site_playbook(host, *extra_vars)
    finally:
        watch.done.set()
        watch.join(timeout=60)
    return watch


def secret_labels(host, services: list[str]) -> dict[str, dict[str, str]]:
    """Each service's secret-digest labels, by service."""
    inspected = json.loads(host.check_output("docker inspect " + " ".join(services)))
    return {
        container["Name"].lstrip("/"): {
            label: value
            for label, value in (container["Config"]["Labels"] or {}).items()
            if label.startswith("org.inception.secret-digest.")
        }
        for container in inspected
    }


def test_a_password_changed_in_the_inventory_takes_effect_on_the_next_run(host, target, secret_values):
    old = dict(secret_values)
    # Characters a shell, SQL, PHP, Redis's ACL file or db_load would read as
    # their own, in every password.
    token = uuid.uuid4().hex[:8] + "#%;$x'\"\\`"
    new = {
        "db_password": f"Db{token}",
        "db_root_password": f"Root{token}",
        "wp_admin_password": f"Admin{token}",
        "wp_user_password": f"User{token}",
    }
    inventory = {
        "inception_db_password": new["db_password"],
        "inception_db_root_password": new["db_root_password"],
        "inception_admin_password": new["wp_admin_password"],
        "inception_user_password": new["wp_user_password"],
    }
    if "redis" in target.services:
        new["redis_password"] = inventory["inception_redis_password"] = f"Redis{token}"
    ftp = "vsftpd" in target.services and target.ftp_port
    if "adminer" in target.services:
        new["adminer_password"] = inventory["inception_adminer_password"] = f"Adminer{token}"
    if ftp:
        new["ftp_password"] = inventory["inception_ftp_password"] = f"Ftp{token}"
    labels_before = secret_labels(host, target.services)
    watch = run_watched(host, target, json.dumps(inventory))
    try:
        wait_until_healthy(host, target.services)
        watch.assert_brief_and_clean(new.values())
        # Each service that reads a rotated secret carries its new digest.
        labels_after = secret_labels(host, target.services)
        assert "org.inception.secret-digest.db_password" in labels_after["wordpress"]
        assert not [
            (service, label)
            for service, labels in labels_after.items()
            for label, digest in labels.items()
            if digest == labels_before[service][label]
        ]
        assert https_get(target, f"/?uncached={uuid.uuid4().hex}").status == 200
        assert database_accepts(host, "wordpress", new["db_password"])
        assert not database_accepts(host, "wordpress", old["db_password"])
        assert database_accepts(host, "root", new["db_root_password"])
        assert not database_accepts(host, "root", old["db_root_password"])
        assert wordpress_accepts(target, target.admin_user, new["wp_admin_password"])
        assert not wordpress_accepts(target, target.admin_user, old["wp_admin_password"])
        assert wordpress_accepts(target, target.user, new["wp_user_password"])
        assert not wordpress_accepts(target, target.user, old["wp_user_password"])
        if "redis" in target.services:
            assert redis_accepts(host, new["redis_password"])
            assert not redis_accepts(host, old["redis_password"])
        if "adminer" in target.services:
            assert adminer_accepts(target, new["adminer_password"])
            assert not adminer_accepts(target, old["adminer_password"])
        if ftp:
            assert ftp_accepts(target, new["ftp_password"])
            assert not ftp_accepts(target, old["ftp_password"])
        # credentials.txt holds the passwords that work.
        credentials = host.file(f"{target.tree}/secrets/credentials.txt").content_string
        assert credentials == (
            f"wp_admin_password={new['wp_admin_password']}\nwp_user_password={new['wp_user_password']}\n"
        )
        # No value in a container's configuration or logs.
        inspected = host.check_output("docker inspect " + " ".join(target.services))
        logs = host.run("for c in %s; do docker logs $c 2>&1; done", " ".join(target.services)).stdout
        assert not [name for name, value in new.items() if value in inspected or value in logs]
        # Nor a plain hash of one, which a short password's could be found from.
        assert not [
            name
            for name, value in new.items()
            if hashlib.sha256(f"{value}\n".encode()).hexdigest() in inspected
            or hashlib.sha256(value.encode()).hexdigest() in inspected
        ]
    finally:
        # Back to the inventory's own values, as the target was.
        run_site_playbook(host)
    wait_until_healthy(host, target.services)
    assert https_get(target, f"/?uncached={uuid.uuid4().hex}").status == 200
    assert database_accepts(host, "wordpress", old["db_password"])
    assert wordpress_accepts(target, target.admin_user, old["wp_admin_password"])
