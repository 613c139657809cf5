"""The bonus services, each shown doing its job (the evaluator's step 11).

Every bonus service is reached through NGINX on 443 like the site, runs in its
own hardened container, and is switched on in the inventory; a service
switched off is not running at all.
"""

from __future__ import annotations

import base64
import ftplib
import html
import io
import json
import re
import shlex
import ssl
import time
import urllib.parse

import pytest

from tests.support.project import BONUS_SERVICES
from tests.support.site import (
    LOOPBACK,
    cookie_header,
    https_get,
    https_request,
    install_on_target,
    mariadb_query,
    response_cookies,
    skip_unless_on,
)

pytestmark = pytest.mark.evaluation("11")

# Memory (MiB), CPUs, processes; the capabilities kept (for the entrypoint,
# which drops them with root); the account the main process runs as.
LIMITS = {
    "website": (32, 0.5, 20),
    "adminer": (128, 0.5, 20),
    "redis": (96, 0.5, 20),
    "vsftpd": (64, 0.5, 40),
    "backup": (128, 0.5, 30),
}
CAPABILITIES = {
    "website": set(),
    "adminer": set(),
    "redis": {"CHOWN", "SETGID", "SETUID"},
    "vsftpd": {"NET_BIND_SERVICE", "SETGID", "SETUID", "SYS_CHROOT"},
    "backup": {"DAC_READ_SEARCH", "SETGID", "SETUID"},
}
# vsftpd's master stays root (it binds 21, jails and switches each session;
# its sessions run as www-data, which the FTP tests check), and so does cron,
# which runs the backup job as root to read every file.
ACCOUNT = {"website": "www-data", "adminer": "www-data", "redis": "redis", "vsftpd": None, "backup": None}


def require(target, service: str) -> None:
    skip_unless_on(target, service)


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
    assert {c.removeprefix("CAP_") for c in config["CapAdd"] or []} == CAPABILITIES[service]
    assert config["ReadonlyRootfs"] is True
    assert "no-new-privileges:true" in config["SecurityOpt"]
    if service != "vsftpd":  # the FTP ports are checked with the entry point's
        assert not config["PortBindings"]
    memory_mib, cpus, pids = LIMITS[service]
    assert (config["Memory"], config["NanoCpus"], config["PidsLimit"]) == (
        memory_mib * 2**20,
        int(cpus * 1e9),
        pids,
    )
    if ACCOUNT[service] is None:
        return
    # Its main process runs unprivileged and holds no capability at all.
    status = host.check_output("docker exec %s cat /proc/1/status", service)
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["Uid"].split()[0] == host.check_output("docker exec %s id -u %s", service, ACCOUNT[service])
    assert fields["CapEff"].strip() == "0000000000000000"


def test_static_website_is_served_without_php(host, target):
    require(target, "website")
    page = https_get(target, "/site/")
    assert page.status == 200
    assert page.getheader("Content-Type").replace(" ", "") == "text/html;charset=utf-8"
    body = page.body.decode()
    [title] = re.findall(r"<title>(.*)</title>", body)
    assert html.unescape(title) == f"{target.site_title}: how this site runs"
    assert f"<strong>{target.login}</strong>" in body
    assert page.getheader("Strict-Transport-Security")
    stylesheet = https_get(target, "/site/style.css")
    assert stylesheet.status == 200
    assert stylesheet.getheader("Content-Type").startswith("text/css")
    # Its own container, and no PHP in it.
    assert host.run("docker exec website sh -c 'command -v php'").rc != 0
    assert https_get(target, "/site").status == 301


def basic_auth(user: str, password: str) -> dict[str, str]:
    """The header a browser sends once it has asked for a site's password."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def adminer_gate(target, secret_values) -> dict[str, str]:
    """The password NGINX asks for in front of Adminer (the user is the login)."""
    require(target, "adminer")
    return basic_auth(target.login, secret_values["adminer_password"])


def adminer_login(
    target, gate: dict[str, str], username: str, password: str, server: str = "mariadb"
) -> tuple[int, str, dict[str, str]]:
    """Log into Adminer as a person does: past NGINX's password, open the
    form, post it, follow the redirect."""
    cookies: dict[str, str] = {}

    def remember(response) -> None:
        cookies.update(response_cookies(response))

    def with_cookies() -> dict[str, str]:
        return {"Cookie": cookie_header(cookies), **gate}

    form = https_get(target, "/adminer/", gate)
    assert form.status == 200
    assert b'name="auth[username]"' in form.body
    remember(form)
    fields = {
        "auth[driver]": "server",
        "auth[server]": server,
        "auth[username]": username,
        "auth[password]": password,
        "auth[db]": "wordpress",
    }
    posted = https_request(
        target,
        "POST",
        "/adminer/",
        {"Content-Type": "application/x-www-form-urlencoded", **with_cookies()},
        urllib.parse.urlencode(fields),
    )
    remember(posted)
    if posted.status != 302:
        return posted.status, posted.body.decode(errors="replace"), cookies
    # Adminer redirects relatively ("?server=...&db=..."), as a browser resolves it.
    location = urllib.parse.urlsplit(urllib.parse.urljoin("/adminer/", posted.getheader("Location")))
    landing = https_get(target, f"{location.path}?{location.query}", with_cookies())
    return landing.status, landing.body.decode(errors="replace"), cookies


def test_adminer_logs_into_the_wordpress_database(target, secret_values, adminer_gate):
    require(target, "adminer")
    status, body, _ = adminer_login(target, adminer_gate, "wordpress", secret_values["db_password"])
    assert status == 200
    # The database's tables, as Adminer lists them after the login.
    assert "wp_posts" in body
    assert "wp_users" in body


def test_adminer_cannot_reach_root_nor_be_served_from_the_cache(target, secret_values, adminer_gate):
    require(target, "adminer")
    # root has no network account, so its real password is refused here too.
    status, body, _ = adminer_login(target, adminer_gate, "root", secret_values["db_root_password"])
    assert "wp_posts" not in body
    assert "Access denied" in body or status != 200
    assert https_get(target, "/adminer/", adminer_gate).getheader("X-Cache-Status") is None


@pytest.mark.parametrize("server", ["redis:6379", "wordpress:9000", "192.0.2.1:3306", "mariadb:3307"])
def test_adminer_connects_to_the_stacks_database_only(target, secret_values, adminer_gate, server):
    """Its server is pinned: any other name or port is refused, and the
    form offers no other."""
    require(target, "adminer")
    _, body, _ = adminer_login(target, adminer_gate, "wordpress", secret_values["db_password"], server)
    assert "wp_posts" not in body
    assert "Only the stack" in body
    form = https_get(target, "/adminer/", adminer_gate).body.decode()
    assert "name='auth[server]' value='mariadb' readonly" in form


@pytest.mark.parametrize("path", ["/adminer/", "/adminer/?server=mariadb&username=wordpress&db=wordpress"])
def test_adminer_asks_for_its_own_password_first(target, secret_values, adminer_gate, path):
    nothing = https_get(target, path)
    assert nothing.status == 401
    assert nothing.getheader("WWW-Authenticate") == 'Basic realm="Adminer"'
    assert b"auth[username]" not in nothing.body
    wrong = https_get(target, path, basic_auth(target.login, secret_values["db_password"]))
    assert wrong.status == 401
    # Past NGINX with its password: Adminer itself answers (its own login form).
    assert b"auth[username]" in https_get(target, path, adminer_gate).body


def redis_cli(host, *command: str) -> str:
    """redis-cli inside its container, with the password from the secret (never on a command line)."""
    script = 'REDISCLI_AUTH=$(cat /run/secrets/redis_password) exec redis-cli "$@"'
    return host.check_output(
        shlex.join(["docker", "exec", "redis", "sh", "-c", script, "redis-cli", *command])
    )


def redis_stat(host, name: str) -> int:
    return int(re.search(rf"^{name}:(\d+)", redis_cli(host, "info", "stats"), re.M)[1])


def test_wordpress_keeps_its_objects_in_redis(host, target):
    require(target, "redis")
    # Pages WordPress really builds (the cookie makes NGINX skip its page cache).
    for _ in range(3):
        assert https_get(target, "/", {"Cookie": "wordpress_no_cache=1"}).status == 200
    keys = int(redis_cli(host, "dbsize"))
    assert keys > 0
    assert "options:alloptions" in redis_cli(host, "--scan", "--pattern", "wp:*options*")
    # php's command line has no APCu: it reads WordPress's objects from Redis,
    # and the hits show in Redis's own statistics (the hit ratio).
    hits = redis_stat(host, "keyspace_hits")
    title = host.check_output(
        "docker exec -u www-data wordpress php -r %s",
        'require "/var/www/html/wp-load.php"; echo get_option("blogname");',
    )
    assert html.unescape(title) == target.site_title
    assert redis_stat(host, "keyspace_hits") > hits


def test_redis_requires_its_password(host, target):
    require(target, "redis")
    refused = host.run("docker exec redis redis-cli ping")
    assert "NOAUTH" in refused.stdout + refused.stderr
    assert redis_cli(host, "ping") == "PONG"


def redis_command_calls(host, command: str) -> tuple[int, int]:
    """One command's calls and refused calls since Redis started."""
    stats = redis_cli(host, "info", "commandstats")
    found = re.search(rf"^cmdstat_{command}:calls=(\d+),.*rejected_calls=(\d+)", stats, re.M)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def test_php_fpm_workers_keep_their_redis_connection_between_requests(host, target):
    """phpredis checks a kept connection with ECHO before it reuses it: were
    ECHO refused (it once was, by the ACL), every request would open a new
    connection."""
    require(target, "redis")
    connections_before = redis_stat(host, "total_connections_received")
    _, refused_before = redis_command_calls(host, "echo")
    pages = 40
    for _ in range(pages):
        assert https_get(target, "/", {"Cookie": "wordpress_no_cache=1"}).status == 200
    checks, refused = redis_command_calls(host, "echo")
    assert refused == refused_before
    assert checks >= pages - 8
    # A new connection at most once per php-fpm worker (pm.max_children = 8),
    # not once per page.
    assert redis_stat(host, "total_connections_received") - connections_before <= 8


@pytest.fixture(scope="module")
def ftp(host, target, secret_values):
    """curl on the target, logging in as the FTP account from a netrc file
    (the password never on a command line); TLS checked against the local CA."""
    require(target, "vsftpd")
    install_on_target(host, "curl")
    netrc = "/root/.inception-ftp-netrc"
    # printf is the shell's own: the password reaches no process's arguments.
    host.check_output(
        "umask 077 && printf %s %s %s %s > %s",
        "machine %s login %s password %s\\n",
        target.domain,
        target.ftp_user,
        secret_values["ftp_password"],
        netrc,
    )

    def run(*options: str, tls: bool = True, login: bool = True):
        command = ["curl", "--silent", "--show-error", "--max-time", "30"]
        if tls:
            command += ["--ssl-reqd", "--cacert", f"{target.tree}/secrets/tls/ca.crt"]
        if login:
            command += ["--netrc-file", netrc]
        return host.run(shlex.join([*command, *options]))

    yield run
    host.run("rm -f %s", netrc)


def test_ftps_upload_lands_in_the_wordpress_volume_as_www_data(host, target, ftp):
    name = "ftp-probe.txt"
    host.check_output("echo 'uploaded over FTPS' > /tmp/%s", name)
    # Passive mode (PASV, not EPSV), through the published passive range.
    upload = ftp("--disable-epsv", "-T", f"/tmp/{name}", f"ftp://{target.domain}/{name}")
    assert upload.rc == 0, upload.stderr
    landed = host.file(f"{target.data}/wordpress/{name}")
    try:
        assert landed.content_string == "uploaded over FTPS\n"
        assert (landed.uid, landed.gid) == (33, 33)  # www-data, as WordPress's own files
        listing = ftp("--disable-epsv", f"ftp://{target.domain}/")
        assert listing.rc == 0, listing.stderr
        assert name in listing.stdout
        assert "wp-includes" in listing.stdout
    finally:
        host.run("rm -f %s /tmp/%s", f"{target.data}/wordpress/{name}", name)


def test_ftp_account_is_jailed_in_the_wordpress_files(target, ftp):
    # "//etc/" asks for the absolute /etc: outside the jail, it would list passwd.
    escaped = ftp("--path-as-is", f"ftp://{target.domain}//etc/")
    assert "passwd" not in escaped.stdout
    assert escaped.rc != 0
    # The jail's root is the WordPress files.
    assert "wp-includes" in ftp(f"ftp://{target.domain}//").stdout


def test_anonymous_ftp_is_refused(target, ftp):
    anonymous = ftp("--user", "anonymous:guest", f"ftp://{target.domain}/", login=False)
    assert anonymous.rc != 0
    assert "530" in anonymous.stderr or "Access denied" in anonymous.stderr


def test_plain_text_ftp_login_is_refused(target, ftp):
    plain = ftp(f"ftp://{target.domain}/", tls=False)
    assert plain.rc != 0
    assert "530" in plain.stderr or "denied" in plain.stderr


def test_ftps_from_this_machine_through_the_published_ports(host, target, secret_values):
    """A real FTP client on this machine: explicit TLS verified against the
    local CA for the site's name, passive mode through the published range."""
    require(target, "vsftpd")
    if not target.ftp_port:
        pytest.skip("this target's FTP ports are not published to this machine")
    context = ssl.create_default_context(cafile=str(target.ca_path))
    client = ftplib.FTP_TLS(context=context, timeout=30)
    try:
        client.connect(LOOPBACK, target.ftp_port)
    except ConnectionRefusedError:
        pytest.fail(
            f"nothing answers on {LOOPBACK}:{target.ftp_port}: a container target made before its FTP ports"
            " were forwarded keeps its old ports; make it again (make target-destroy target)"
        )
    client.host = target.domain  # the name TLS checks, on the control and data connections
    client.auth()
    client.login(target.ftp_user, secret_values["ftp_password"])
    client.prot_p()
    name = "ftp-probe-from-controller.txt"
    try:
        client.storbinary(f"STOR {name}", io.BytesIO(b"sent from the controller\n"))
        assert name in client.nlst()
        landed = host.file(f"{target.data}/wordpress/{name}")
        assert landed.content_string == "sent from the controller\n"
        assert landed.uid == 33
    finally:
        client.delete(name)
        client.quit()
    assert not host.file(f"{target.data}/wordpress/{name}").exists


def run_backup(host, *settings: str) -> str:
    """Run the backup now, as `make backup` does; return the backup's folder inside the container."""
    env = [part for setting in settings for part in ("-e", setting)]
    command = ["docker", "exec", *env, "backup", "/usr/local/bin/backup"]
    output = host.check_output(shlex.join(command))
    return re.search(r"^backup: (/backups/\S+) ", output, re.M)[1]


def test_backup_saves_the_database_and_the_files(host, target):
    require(target, "backup")
    folder = target.data + run_backup(host)
    try:
        dump = host.check_output("zcat %s/database.sql.gz", folder)
        assert "CREATE TABLE `wp_posts`" in dump
        # The title as WordPress keeps it, as mysqldump writes a string.
        [[stored]] = mariadb_query(host, "SELECT option_value FROM wp_options WHERE option_name = 'blogname'")
        literal = stored.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"')
        assert f"'blogname','{literal}'" in dump
        files = host.check_output("tar -tzf %s/wordpress-files.tar.gz", folder).split()
        assert "./wp-includes/version.php" in files
        assert "./wp-salts.php" in files  # www-data's private file too
        for name in ("database.sql.gz", "wordpress-files.tar.gz"):
            archive = host.file(f"{folder}/{name}")
            assert (archive.user, archive.mode) == ("root", 0o600)
    finally:
        host.run("rm -rf %s", folder)


def test_backups_beyond_the_number_kept_are_removed(host, target):
    require(target, "backup")
    # A folder of its own, so that no real backup is touched.
    trial = "/backups/.rotation-test"
    try:
        made = []
        for _ in range(3):
            made.append(run_backup(host, f"BACKUP_DIR={trial}", "BACKUP_KEEP=2"))
            time.sleep(1.1)  # the name is the time, to the second
        kept = host.check_output("ls %s", target.data + trial).split()
        assert kept == [folder.rsplit("/", 1)[1] for folder in made[1:]]
    finally:
        host.run("rm -rf %s", target.data + trial)


def test_backups_run_every_night_by_themselves(host, target):
    require(target, "backup")
    assert host.check_output("docker exec backup cat /proc/1/comm") == "cron"
    crontab = host.check_output("docker exec backup cat /etc/cron.d/inception-backup")
    assert re.search(r"^\S+ \S+ \* \* \* root /usr/local/bin/backup ", crontab, re.M)
