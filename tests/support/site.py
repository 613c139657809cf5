"""Talking to a provisioned target, for the integration suite and the VM
tier alike: its settings as Ansible renders them from the inventory, HTTPS to
the site through the forwarded loopback port, WordPress and MariaDB from the
inside, health."""

from __future__ import annotations

import contextlib
import functools
import html
import http.client
import json
import os
import re
import shlex
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import runtime_retry
from tests.support.project import ARTIFACTS, PROJECT, SERVICES

LOOPBACK = "127.0.0.1"
# Why a test of a service does not apply: the rehearsal leaves such tests out
# of its count instead of calling the step incomplete.
SWITCHED_OFF = "is switched off in the inventory"


# The inventory variables the suite needs, rendered by Ansible in one call.
_SETTINGS_TEMPLATE = (
    "{{ {'login': inception_login, 'domain': inception_domain,"
    " 'site_title': inception_site_title, 'admin_user': inception_admin_user,"
    " 'user': inception_user, 'image_tag': inception_image_tag,"
    " 'admin_email': inception_admin_email, 'user_email': inception_user_email,"
    " 'https_port': target_https_forwarded_port | int,"
    " 'bonus': inception_bonus_on,"
    " 'ftp_user': inception_ftp_user, 'ftp_passive_ports': inception_ftp_passive_ports | map('int') | list,"
    " 'ftp_port': target_ftp_forwarded_port | default(0) | int,"
    " 'php_fpm_port': inception_php_fpm_port | int,"
    " 'controller_dir': inception_controller_dir,"
    " 'tree_dir': target_tree | default('')} | to_json }}"
)


@dataclass(frozen=True)
class Target:
    """What the tests know about one provisioned target."""

    login: str
    domain: str
    site_title: str
    admin_user: str
    user: str
    image_tag: str
    https_port: int
    controller_dir: str
    bonus: tuple[str, ...] = ()
    ftp_user: str = ""
    admin_email: str = ""
    user_email: str = ""
    ftp_passive_ports: tuple[int, int] = (0, 0)
    ftp_port: int = 0  # where the target's 21 is published here; 0: not published
    php_fpm_port: int = 9000
    # Where the tree is when it is not where the playbook puts it (a clone).
    tree_dir: str = ""

    @property
    def services(self) -> tuple[str, ...]:
        """The mandatory services, then the bonus services switched on."""
        return SERVICES + tuple(self.bonus)

    @property
    def tree(self) -> str:
        return self.tree_dir or f"/home/{self.login}/inception"

    @property
    def data(self) -> str:
        return f"/home/{self.login}/data"

    @property
    def ca_path(self) -> Path:
        return Path(self.controller_dir) / "ca.crt"


def read_target(host) -> Target:
    """The target's settings, as Ansible renders them from its inventory."""
    result = host.ansible("ansible.builtin.debug", f'msg="{_SETTINGS_TEMPLATE}"', check=False)
    settings = json.loads(result["msg"]) if isinstance(result["msg"], str) else dict(result["msg"])
    settings["bonus"] = tuple(settings["bonus"])
    settings["ftp_passive_ports"] = tuple(settings["ftp_passive_ports"])
    return Target(**settings)


def save_artifact(name: str, data: object) -> None:
    """Write a measurement as JSON under artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_text(json.dumps(data, indent=2) + "\n")


def install_on_target(host, *packages: str) -> None:
    """Install Debian packages on the target, for a test's own tools."""
    install = host.run(
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
        + shlex.join(packages)
    )
    assert install.rc == 0, install.stderr


def mariadb_query(host, sql: str) -> list[list[str]]:
    """Run SQL as MariaDB's root, through the server's socket inside its
    container; each value as stored (--raw: no escaping of \\ and tabs)."""
    command = "docker exec mariadb mariadb --batch --raw --skip-column-names wordpress -e %s"
    out = host.check_output(command, sql)
    return [row.split("\t") for row in out.splitlines() if row]


class _SiteConnection(http.client.HTTPSConnection):
    """HTTPS to the forwarded loopback port, presenting the site's name (SNI)."""

    def __init__(self, target, context: ssl.SSLContext):
        super().__init__(LOOPBACK, target.https_port, context=context, timeout=30)
        self._site_name = target.domain

    def connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self._site_name)


def https_request(
    target,
    method: str,
    path: str = "/",
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> http.client.HTTPResponse:
    """One request to https://<domain><path> through the forwarded port, as a browser sends it."""
    connection = _SiteConnection(target, ssl.create_default_context(cafile=str(target.ca_path)))
    connection.request(method, path, body=body, headers={"Host": target.domain, **(headers or {})})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def response_cookies(response) -> dict[str, str]:
    """The cookies an answer sets, by name."""
    pairs = (header.split(";", 1)[0].partition("=") for header in response.headers.get_all("Set-Cookie", []))
    return {name: value for name, _, value in pairs}


def cookie_header(cookies: dict[str, str]) -> str:
    """The value of a Cookie header that sends these cookies back, as a browser does."""
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def https_get(target, path: str = "/", headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    return https_request(target, "GET", path, headers)


def site_name(target) -> str:
    """The site's title as WordPress's REST API gives it (HTML-escaped, as
    WordPress keeps it), unescaped: what a reader sees. (?rest_route=: the
    site has plain permalinks, so /wp-json/ is not routed.)"""
    response = https_get(target, "/?rest_route=/")
    assert response.status == 200, response.status
    return html.unescape(json.loads(response.body)["name"])


def wordpress_login(target, user: str, password: str) -> dict[str, str]:
    """Logs into WordPress through its form, as a browser does; returns the
    cookies it sets (a wordpress_logged_in_* one among them) or fails."""
    form = urllib.parse.urlencode({"log": user, "pwd": password, "wp-submit": "Log In", "testcookie": "1"})
    response = https_request(
        target,
        "POST",
        "/wp-login.php",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "wordpress_test_cookie=WP%20Cookie%20check",
        },
        form,
    )
    assert response.status == 302, f"{user}: {response.status} {response.body[:300]!r}"
    cookies = response_cookies(response)
    assert any(name.startswith("wordpress_logged_in_") for name in cookies), cookies
    return cookies


class LoggedIn:
    """Someone logged into WordPress through its form: the dashboard's pages
    and the REST API (as the block editor calls it), with their cookies."""

    def __init__(self, target, user: str, password: str):
        self.target = target
        self.cookies = cookie_header(wordpress_login(target, user, password))
        # The REST API's nonce, as WordPress hands it to a logged-in page's scripts.
        asked = https_request(
            target, "GET", "/wp-admin/admin-ajax.php?action=rest-nonce", {"Cookie": self.cookies}
        )
        assert asked.status == 200
        assert re.fullmatch(rb"[0-9a-f]{10}", asked.body), asked.body[:200]
        self.nonce = asked.body.decode()

    def page(self, path: str) -> str:
        """A page of the dashboard (or the site) as this person sees it; it must answer 200."""
        response = https_request(self.target, "GET", path, {"Cookie": self.cookies})
        assert response.status == 200, (path, response.status)
        return response.body.decode()

    def rest(self, route: str, body: dict | None = None, method: str = "POST") -> http.client.HTTPResponse:
        """One call to the REST API. Plain permalinks: it answers at
        ?rest_route=. NGINX lets GET, HEAD and POST through: a DELETE goes
        as WordPress's override."""
        headers = {"Cookie": self.cookies, "X-WP-Nonce": self.nonce, "Content-Type": "application/json"}
        override = "&_method=DELETE" if method == "DELETE" else ""
        body_text = json.dumps(body) if body else None
        verb = "GET" if method == "GET" else "POST"
        return https_request(self.target, verb, f"/?rest_route={route}{override}", headers, body_text)


def wordpress_accepts(target, user: str, password: str) -> bool:
    try:
        wordpress_login(target, user, password)
    except AssertionError:
        return False
    return True


def refused_or_accepted(host, command: str, password: str) -> bool:
    """Runs a check in a container with the password on its standard input (as
    the variable the client reads); whether the service accepted it."""
    return host.run(f"{command} <<'PASSWORD'\n{password}\nPASSWORD").rc == 0


# Written as www-data through WordPress's own API, like an author's post and
# a visitor's approved comment (when one is given).
_WRITE_POST = r"""
require '/var/www/html/wp-load.php';
$post = wp_insert_post(['post_title' => $argv[1], 'post_content' => $argv[2],
    'post_status' => 'publish', 'post_author' => 1], true);
if (is_wp_error($post)) { fwrite(STDERR, $post->get_error_message()); exit(1); }
if ($argv[3] !== '') {
    $comment = wp_insert_comment(['comment_post_ID' => $post, 'comment_content' => $argv[3],
        'comment_author' => 'reader', 'comment_approved' => 1]);
    if (!$comment) { fwrite(STDERR, 'comment not saved'); exit(1); }
}
echo $post;
"""


def write_post(host, title: str, content: str, comment: str = "", container: str = "wordpress") -> int:
    """Publishes a post (and an approved comment on it) on the target, through
    WordPress in that container; returns its id."""
    return int(
        host.check_output(
            "docker exec -u www-data %s php -r %s %s %s %s", container, _WRITE_POST, title, content, comment
        )
    )


# What a site holds that a restore or an upgrade must keep, read through WordPress.
_SITE_STATE = r"""
require '/var/www/html/wp-load.php';
$posts = get_posts(['numberposts' => -1, 'post_status' => 'publish', 'orderby' => 'ID', 'order' => 'ASC']);
echo json_encode([
    'title' => get_option('blogname'),
    'posts' => array_map(fn ($p) => $p->post_title, $posts),
    'comments' => array_map(fn ($c) => $c->comment_content, get_comments(['status' => 'approve'])),
    'users' => array_map(fn ($u) => $u->user_login, get_users(['orderby' => 'login'])),
]);
"""


def site_state(host) -> dict:
    """The title, the published posts, the approved comments and the users."""
    return json.loads(host.check_output("docker exec -u www-data wordpress php -r %s", _SITE_STATE))


def wordpress_php(host, code: str, *args: str, container: str = "wordpress") -> str:
    """Run PHP as www-data with WordPress loaded, in that container, with
    these arguments ($argv[1] on); its output."""
    return host.check_output(
        "docker exec -u www-data %s php -r %s" + " %s" * len(args),
        container,
        "require '/var/www/html/wp-load.php';" + code,
        *args,
    )


def write_php_script(host, path: str, code: str) -> None:
    """Write a PHP script into the wordpress container, as www-data (the user
    php-fpm runs it as)."""
    delimiter = f"PHP_{uuid.uuid4().hex}"
    host.check_output(
        f"docker exec -i -u www-data wordpress sh -c 'cat > {path}' <<'{delimiter}'\n{code}\n{delimiter}"
    )


def php_fpm_json(host, target, script: str, query: str = "") -> object:
    """Run a script of the wordpress container through php-fpm itself
    (FastCGI, as the healthcheck does, with php-fpm's own settings); what it
    printed, read as JSON."""
    reply = host.check_output(
        "docker exec -e SCRIPT_FILENAME=%s -e SCRIPT_NAME=%s -e REQUEST_METHOD=GET -e QUERY_STRING=%s"
        " wordpress cgi-fcgi -bind -connect 127.0.0.1:%s",
        script,
        script,
        query,
        str(target.php_fpm_port),
    )
    return json.loads(reply.split("\r\n\r\n", 1)[-1])


@contextlib.contextmanager
def php_fpm_script(host, target, name: str, code: str):
    """A PHP script in the wordpress container for the block's length (named
    after `name`, made unique); gives a callable that runs it through
    php-fpm with a query string and returns what it printed, read as JSON.
    The script is removed afterwards."""
    path = f"/tmp/inception-{name}-{uuid.uuid4().hex[:8]}.php"
    write_php_script(host, path, code)
    try:
        yield functools.partial(php_fpm_json, host, target, path)
    finally:
        host.run("docker exec wordpress rm -f %s", path)


# The tree's make goals that only create what is missing: safe to run twice.
IDEMPOTENT_MAKE_GOALS = ("all", "up")


def make(host, target, *args: str):
    """Run the tree's own make on the target, as an operator does; its result.
    `make` and `make up` create only what is missing, so they are run again
    if the container runtime lost a container they started (runtime_retry)."""
    run_once = functools.partial(
        host.run, "make -C %s " + " ".join(shlex.quote(a) for a in args), target.tree
    )
    if not args or args[0] in IDEMPOTENT_MAKE_GOALS:
        return runtime_retry.run_idempotent(run_once)
    return run_once()


# How long a container may be missing while its stack is awaited: Compose
# recreates one under another name and renames it, so one may be absent for
# a moment. A container missing for longer was never created (a `make` or a
# playbook that failed before it): no restart policy, reboot or wait makes it.
MISSING_CONTAINER_GRACE_SECONDS = 10.0
_NO_SUCH_CONTAINER = re.compile(r"No such object: (\S+)")


def wait_until_healthy(host, services=SERVICES, timeout: float = 300) -> float:
    """Wait until every service's container is running and healthy; return
    the seconds it took. Fails at once, naming them, when containers are
    missing past a short grace, rather than at the timeout."""
    started = time.monotonic()
    missing_since = None
    while True:
        inspected = host.run(
            "docker inspect -f '{{.State.Status}} {{.State.Health.Status}}' " + " ".join(services)
        )
        states = inspected.stdout.split("\n")
        if [s.strip() for s in states if s.strip()] == ["running healthy"] * len(services):
            return time.monotonic() - started
        missing = _NO_SUCH_CONTAINER.findall(inspected.stderr)
        if missing:
            missing_since = missing_since or time.monotonic()
            assert time.monotonic() - missing_since < MISSING_CONTAINER_GRACE_SECONDS, (
                f"no container {', '.join(missing)}: nothing will start what was never created"
                " (did an earlier step fail before creating it?)"
            )
        else:
            missing_since = None
        assert time.monotonic() - started < timeout, f"not healthy after {timeout} s: {states}"
        time.sleep(0.2)


def skip_unless_on(target, service: str) -> None:
    """Skip a test of a service the inventory switched off: it does not apply."""
    if service not in target.services:
        pytest.skip(f"{service} {SWITCHED_OFF}")


def run_site_playbook(host, *extra_vars: str, expect_success: bool = True) -> subprocess.CompletedProcess:
    """Re-run the playbook against this target, as an operator would; a
    failure fails the test unless expect_success is False."""
    return run_playbook(
        "site.yml",
        host.backend.ansible_inventory,
        *extra_vars,
        limit=host.backend.host,
        expect_success=expect_success,
    )


def run_playbook(
    playbook: str, inventory: str, *extra_vars: str, limit: str | None = None, expect_success: bool = True
) -> subprocess.CompletedProcess:
    """One of the project's playbooks with that inventory (and -e for each of
    extra_vars), as an operator runs it; a failure fails the test unless
    expect_success is False."""
    command = [
        str(Path(sys.executable).with_name("ansible-playbook")),
        str(PROJECT / playbook),
        "-i",
        inventory,
    ]
    if limit:
        command += ["--limit", limit]
    for pair in extra_vars:
        command += ["-e", pair]
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    env.setdefault("ANSIBLE_CONFIG", str(PROJECT / "ansible.cfg"))
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False)
    if expect_success:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result
