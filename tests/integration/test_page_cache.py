"""NGINX's page cache, and what it must never do.

Anonymous pages are cached for a few seconds; a logged-in user, a commenter
and every POST always reach WordPress. Static assets are compressed, pages
(which can carry secrets such as nonces: BREACH) are not. HTTP/2 is offered.
"""

from __future__ import annotations

import re
import socket
import ssl
import time

import pytest

from tests.support.site import (
    LOOPBACK,
    cookie_header,
    https_get,
    https_request,
    php_fpm_script,
    wordpress_login,
)

pytestmark = pytest.mark.evaluation("performance")

CACHE_STATUS = "X-Cache-Status"
# NGINX's $upstream_cache_status values that mean "not from WordPress, now".
FROM_THE_CACHE = {"HIT", "STALE", "UPDATING", "REVALIDATED"}


def cache_status_after_warming(target, path: str, headers: dict[str, str] | None = None) -> str:
    """The cache status of the second of two identical requests."""
    https_get(target, path, headers)
    return https_get(target, path, headers).getheader(CACHE_STATUS, "")


@pytest.fixture(scope="module")
def logged_in_cookies(target, secret_values) -> str:
    cookies = wordpress_login(target, target.user, secret_values["wp_user_password"])
    return cookie_header(cookies)


def test_anonymous_page_is_served_from_the_cache(target):
    assert cache_status_after_warming(target, "/") == "HIT"


# Site Health's own check, run through php-fpm as the dashboard runs it: three
# requests of the site to its own home page, their headers read for a cache's.
_SITE_HEALTH_PAGE_CACHE = r"""<?php
require '/var/www/html/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-site-health.php';
$result = WP_Site_Health::get_instance()->get_test_page_cache();
echo json_encode(['status' => $result['status'], 'label' => $result['label']]);
"""


def test_site_health_finds_the_page_cache(host, target):
    """WordPress 6.1's check knows other caches' headers, not NGINX's
    X-Cache-Status: without the image's must-use plugin it reports "Page
    cache is not detected" and suggests a caching plugin."""
    with php_fpm_script(host, target, "site-health", _SITE_HEALTH_PAGE_CACHE) as run:
        result = run()
    assert result["status"] == "good", result
    assert result["label"].startswith("Page cache is detected"), result


def test_logged_in_user_never_gets_a_cached_page(target, logged_in_cookies):
    assert cache_status_after_warming(target, "/") == "HIT"  # a cached copy exists
    for _ in range(3):
        page = https_get(target, "/", {"Cookie": logged_in_cookies})
        assert page.getheader(CACHE_STATUS) == "BYPASS"
        # The page is this user's own: WordPress shows them the toolbar.
        assert b'id="wpadminbar"' in page.body
    assert b'id="wpadminbar"' not in https_get(target, "/").body


def test_commenter_cookie_bypasses_the_cache(target):
    cookie = {"Cookie": "comment_author_0123456789abcdef=Reader"}
    assert cache_status_after_warming(target, "/") == "HIT"  # a cached copy exists
    assert cache_status_after_warming(target, "/", cookie) == "BYPASS"


def test_posts_are_never_cached(target):
    for _ in range(2):
        response = https_request(
            target, "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"}, "probe=1"
        )
        assert response.getheader(CACHE_STATUS, "") not in FROM_THE_CACHE


@pytest.mark.parametrize("path", ["/wp-login.php", "/wp-admin/", "/wp-json/"])
def test_dashboard_login_and_api_are_never_cached(target, path):
    assert cache_status_after_warming(target, path) not in FROM_THE_CACHE


def test_cached_copy_expires_within_10_s(target):
    assert cache_status_after_warming(target, "/?p=1") == "HIT"
    started = time.monotonic()
    while https_get(target, "/?p=1").getheader(CACHE_STATUS) in FROM_THE_CACHE:
        assert time.monotonic() - started < 10, "a cached page outlived 10 s"
        time.sleep(0.5)


def test_static_assets_are_compressed_but_pages_are_not(target):
    gzip = {"Accept-Encoding": "gzip"}
    page = https_get(target, "/", gzip)
    assert page.getheader("Content-Encoding") is None
    stylesheets = re.findall(
        rf"""href=['"]https://{re.escape(target.domain)}(/wp-[^'"?]+\.css)""", page.body.decode()
    )
    assert stylesheets, "the home page links no stylesheet"
    asset = https_get(target, stylesheets[0], gzip)
    assert asset.status == 200
    assert asset.getheader("Content-Encoding") == "gzip"
    assert "max-age=604800" in asset.getheader("Cache-Control", "")


def test_http2_is_offered(target):
    context = ssl.create_default_context(cafile=str(target.ca_path))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection((LOOPBACK, target.https_port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=target.domain) as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
