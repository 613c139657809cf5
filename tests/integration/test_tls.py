"""The only entry point, seen from this machine: HTTPS on the forwarded port.

Real TLS handshakes against the target's NGINX, verified with the local CA
the playbook fetched, for the site's name (SNI and certificate SAN).
"""

from __future__ import annotations

import socket
import ssl

import pytest

from tests.support.site import LOOPBACK, https_get, site_name

pytestmark = pytest.mark.evaluation("4")


def _context(target, version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(target.ca_path))
    context.minimum_version = version
    context.maximum_version = version
    return context


def _handshake(target, context: ssl.SSLContext, server_name: str) -> ssl.SSLSocket:
    raw = socket.create_connection((LOOPBACK, target.https_port), timeout=10)
    return context.wrap_socket(raw, server_hostname=server_name)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_modern_tls_handshake_succeeds_with_the_local_ca(target, version):
    with _handshake(target, _context(target, version), target.domain) as tls:
        assert tls.version() == version.name.replace("v1_", "v1.")
        certificate = tls.getpeercert()
    names = [value for kind, value in certificate["subjectAltName"] if kind == "DNS"]
    assert names == [target.domain]
    # Browsers refuse server certificates valid for more than 398 days.
    lifetime = ssl.cert_time_to_seconds(certificate["notAfter"]) - ssl.cert_time_to_seconds(
        certificate["notBefore"]
    )
    assert lifetime <= 398 * 24 * 3600


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_old_tls_versions_are_refused(target, version):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    # Let this client offer the old protocol, so a refusal is the server's.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = version
    context.maximum_version = version
    with pytest.raises(ssl.SSLError):
        _handshake(target, context, target.domain).close()


def test_unknown_server_name_gets_no_handshake(target):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with pytest.raises(ssl.SSLError):
        _handshake(target, context, "not-" + target.domain).close()


def test_site_serves_the_configured_wordpress_over_https(target):
    response = https_get(target)
    assert response.status == 200
    page = response.body.decode()
    assert "<title>" in page
    assert site_name(target) == target.site_title
    assert "wp-content/themes/" in page
    assert "install.php" not in page


def test_hsts_and_security_headers(target):
    response = https_get(target)
    hsts = response.getheader("Strict-Transport-Security")
    assert hsts is not None
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 180 * 24 * 3600
    assert response.getheader("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize(
    "path", ["/xmlrpc.php", "/wp-salts.php", "/.htaccess", "/wp-config.php", "/wp-includes/", "/wp-content/"]
)
def test_sensitive_paths_and_directory_listings_are_not_served(target, path):
    response = https_get(target, path)
    assert response.status in (403, 404)
    assert b"Index of" not in response.body
