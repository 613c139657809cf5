"""What a visitor on 443 can reach beyond the site: the login form's rate
limit, the users' logins kept from enumeration, uploads that never run as
PHP, the dashboard's code editor off."""

from __future__ import annotations

import json
import shlex
import uuid

import pytest

from tests.support.site import cookie_header, https_get, install_on_target, wordpress_login

pytestmark = pytest.mark.evaluation("hardening")

BURST = 40


def test_a_burst_on_the_login_form_is_refused_while_a_person_still_logs_in(host, target):
    """A burst of wrong passwords from one address gets 429s; the same
    address's real login a moment later goes through."""
    install_on_target(host, "curl")
    site = f"https://{target.domain}"
    curl = (
        f"curl --silent --output /dev/null --write-out '%{{http_code}}\\n' --max-time 60"
        f" --cacert {target.tree}/secrets/tls/ca.crt --resolve {target.domain}:443:127.0.0.1"
    )
    guess = f"{curl} --data 'log=nobody&pwd=wrong-password' {site}/wp-login.php"
    codes = host.check_output(f"for i in $(seq {BURST}); do {guess} & done; wait").split()
    assert len(codes) == BURST
    assert codes.count("429") >= BURST - 21, codes
    assert set(codes) <= {"200", "429"}, codes
    # A person, a moment later, from the same address (the target's own
    # loopback, through Docker's port proxy): the form's one POST is served.
    # The password goes from the tree's file to curl's file argument, never
    # on a command line.
    host.run("sleep 3")
    password_file = f"/root/.inception-login-{uuid.uuid4().hex}"
    credentials = shlex.quote(f"{target.tree}/secrets/credentials.txt")
    try:
        host.check_output(
            f"umask 077 && sed -n 's/^wp_user_password=//p' {credentials} | tr -d '\\n' > {password_file}"
        )
        login = host.check_output(
            f"{curl} --dump-header - --cookie 'wordpress_test_cookie=WP%20Cookie%20check'"
            f" --data-urlencode log={shlex.quote(target.user)} --data-urlencode pwd@{password_file}"
            f" {site}/wp-login.php"
        )
    finally:
        host.run(f"rm -f {password_file}")
    assert login.splitlines()[-1] == "302", login
    assert "wordpress_logged_in_" in login


@pytest.mark.parametrize(
    "path",
    [
        "/?author=1",
        "/index.php?author=1",
        "/?p=1&author=1",
        "/wp-json/wp/v2/users",
        "/?rest_route=/wp/v2/users",
    ],
)
def test_a_visitor_cannot_list_the_users_logins(target, path):
    answer = https_get(target, path)
    assert answer.status == 403
    assert target.admin_user.encode() not in answer.body
    assert answer.getheader("Location") is None


def test_the_users_sitemap_is_closed_and_the_site_still_served(target):
    assert https_get(target, "/wp-sitemap-users-1.xml").status == 403
    assert https_get(target, "/?sitemap=users").status == 403
    assert https_get(target, f"/?uncached={uuid.uuid4().hex}").status == 200
    # The sitemap's index stays: search engines need it, it names no login.
    index = https_get(target, "/?sitemap=index")
    assert index.status == 200
    assert b"sitemap=posts" in index.body


def test_a_logged_in_user_keeps_the_users_list_the_editor_needs(target, secret_values):
    cookies = wordpress_login(target, target.admin_user, secret_values["wp_admin_password"])
    header = {"Cookie": cookie_header(cookies)}
    # Past NGINX: WordPress itself answers (401 without the REST nonce).
    assert https_get(target, "/?rest_route=/wp/v2/users", header).status in (200, 401)


def test_php_uploaded_into_the_media_folder_is_never_run(host, target):
    name = f"probe-{uuid.uuid4().hex}.php"
    path = f"/var/www/html/wp-content/uploads/{name}"
    host.check_output(
        "docker exec -u www-data wordpress sh -c %s",
        f"mkdir -p /var/www/html/wp-content/uploads && echo '<?php echo \"RAN-\" . (6 * 7);' > {path}",
    )
    try:
        answer = https_get(target, f"/wp-content/uploads/{name}")
        assert answer.status == 403
        assert b"RAN-42" not in answer.body
        assert b"<?php" not in answer.body
    finally:
        host.run("docker exec wordpress rm -f %s", path)


def test_the_dashboard_cannot_edit_code(host):
    flag = host.check_output(
        "docker exec -u www-data wordpress php -r %s",
        "require '/var/www/html/wp-load.php'; var_export(DISALLOW_FILE_EDIT);",
    )
    assert flag == "true"


def test_a_burst_of_large_uploads_never_gets_nginx_killed(host, target, docker):
    """Sixteen 7 MB bodies at once (NGINX buffers each into memory, counted
    in its limit) and one too big: NGINX refuses what does not fit, is never
    killed for memory, and serves the site right after."""
    install_on_target(host, "curl")
    body = "/root/.inception-upload-probe"
    host.check_output("head -c 7000000 /dev/urandom > %s", body)
    before = docker("inspect", "-f", "{{.RestartCount}} {{.State.StartedAt}}", "nginx").strip()
    curl = (
        f"curl --silent --output /dev/null --write-out '%{{http_code}}\\n' --max-time 120"
        f" --cacert {target.tree}/secrets/tls/ca.crt --resolve {target.domain}:443:127.0.0.1"
    )
    upload = f"{curl} --data-binary @{body} https://{target.domain}/?upload-burst={uuid.uuid4().hex}"
    try:
        codes = host.check_output(f"for i in $(seq 16); do {upload} & done; wait").split()
        host.check_output("head -c 9000000 /dev/urandom > %s", body)
        too_big = host.check_output(upload)
    finally:
        host.run("rm -f %s", body)
    assert len(codes) == 16
    assert set(codes) <= {"200", "500"}, codes
    assert "200" in codes
    assert too_big == "413"
    state = json.loads(docker("inspect", "-f", "{{json .State}}", "nginx"))
    assert state["OOMKilled"] is False
    assert docker("inspect", "-f", "{{.RestartCount}} {{.State.StartedAt}}", "nginx").strip() == before
    assert https_get(target, f"/?uncached={uuid.uuid4().hex}").status == 200
