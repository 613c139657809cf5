"""The role tls_certificates, run for real on this machine into a temporary
folder: it creates the CA and the server certificate once, leaves them alone
when they are in place (reading them in two calls, without running any of the
creating tasks), and re-issues the server certificate only when its inputs
change or it nears expiry, or when a file is missing. A new CA may sign names
under the site's domain only. What the tree's own `make` made (openssl, from
make-certificates.sh) is kept as it is.

Python 3's cryptography from Debian (python3-cryptography, installed by
.ci/run) is what community.crypto uses on this machine.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.ansible_run import run_role_here
from tests.support.project import PROJECT

MAKE_CERTIFICATES = PROJECT / "roles/inception_stack/files/srcs/requirements/tools/make-certificates.sh"

FIRST_CREATING_TASK = "tls_certificates : Create the CA's private key"
SERIAL_TASK = "tls_certificates : Name the server certificate in place"


def run_role(tls_dir: Path, domain: str = "jdoe.42.fr", **role_vars) -> dict:
    """Runs the role; returns each task's result on this host, by task name."""
    variables = {
        "tls_certificates_domain": domain,
        "tls_certificates_dir": str(tls_dir),
        "tls_certificates_controller_ca_path": str(tls_dir.parent / "controller" / "ca.crt"),
        **role_vars,
    }
    code, report = run_role_here(tls_dir.parent, "tls_certificates", variables)
    assert code == 0, json.dumps(report)[-3000:]
    return {task["task"]["name"]: task["hosts"]["localhost"] for task in report["plays"][0]["tasks"]}


def certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def serial_named(results: dict) -> int:
    """The serial number the role hands on (the fact tls_certificates_server_serial)."""
    return int(results[SERIAL_TASK]["ansible_facts"]["tls_certificates_server_serial"])


def changed(results: dict) -> list[str]:
    return [name for name, result in results.items() if result.get("changed")]


@pytest.fixture
def tls_dir(tmp_path) -> Path:
    folder = tmp_path / "tls"
    results = run_role(folder)
    assert serial_named(results) == certificate(folder / "server.crt").serial_number
    return folder


def test_first_run_creates_a_ca_and_a_server_certificate_for_the_domain(tls_dir):
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in tls_dir.iterdir()}
    assert modes == {
        "ca.key": "0o600",
        "ca.csr": "0o600",
        "ca.crt": "0o644",
        "server.key": "0o600",
        "server.csr": "0o600",
        "server.crt": "0o644",
    }
    assert oct(tls_dir.stat().st_mode & 0o777) == "0o700"
    server = certificate(tls_dir / "server.crt")
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["jdoe.42.fr"]
    assert server.issuer == certificate(tls_dir / "ca.crt").subject
    assert (tls_dir.parent / "controller" / "ca.crt").read_bytes() == (tls_dir / "ca.crt").read_bytes()


def test_a_second_run_changes_nothing_and_runs_no_creating_task(tls_dir):
    before = {p.name: p.read_bytes() for p in tls_dir.iterdir()}
    results = run_role(tls_dir)
    assert changed(results) == []
    assert results[FIRST_CREATING_TASK].get("skipped") is True
    assert serial_named(results) == certificate(tls_dir / "server.crt").serial_number
    assert {p.name: p.read_bytes() for p in tls_dir.iterdir()} == before


def permitted_names(ca: x509.Certificate) -> list[str]:
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert constraints.value.excluded_subtrees is None
    return [name.value for name in constraints.value.permitted_subtrees]


def test_the_ca_may_sign_names_under_the_domain_only(tls_dir):
    assert permitted_names(certificate(tls_dir / "ca.crt")) == ["jdoe.42.fr"]


def test_a_new_domain_constrains_the_ca_to_it_and_reissues_the_server_certificate(tls_dir):
    ca_key = (tls_dir / "ca.key").read_bytes()
    results = run_role(tls_dir, domain="jdoe.example.org")
    assert "tls_certificates : Issue the server certificate from the local CA" in changed(results)
    server = certificate(tls_dir / "server.crt")
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert names.value.get_values_for_type(x509.DNSName) == ["jdoe.example.org"]
    ca = certificate(tls_dir / "ca.crt")
    assert permitted_names(ca) == ["jdoe.example.org"]
    # The same key and name: a browser that trusted the CA keeps trusting it.
    assert (tls_dir / "ca.key").read_bytes() == ca_key
    server.verify_directly_issued_by(ca)


def test_what_the_trees_make_created_is_kept_as_it_is(tmp_path):
    """Whoever ran first made the certificates; the playbook keeps those of make."""
    folder = tmp_path / "tls"
    subprocess.run(
        ["bash", str(MAKE_CERTIFICATES), str(folder), "jdoe.42.fr"], check=True, capture_output=True
    )
    made = {p.name: p.read_bytes() for p in folder.iterdir()}
    ca = certificate(folder / "ca.crt")
    assert permitted_names(ca) == ["jdoe.42.fr"]
    certificate(folder / "server.crt").verify_directly_issued_by(ca)
    results = run_role(folder)
    # Only the copy of the CA certificate for this controller is new.
    assert changed(results) == [
        "tls_certificates : Fetch the CA certificate to the controller for browsers and tests"
    ]
    assert results[FIRST_CREATING_TASK].get("skipped") is True
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == made
    assert serial_named(results) == certificate(folder / "server.crt").serial_number


def test_a_missing_server_key_is_made_again_and_the_certificate_follows_it(tls_dir):
    ca = (tls_dir / "ca.crt").read_bytes()
    (tls_dir / "server.key").unlink()
    run_role(tls_dir)
    key = serialization.load_pem_private_key((tls_dir / "server.key").read_bytes(), password=None)
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.PEM
    assert certificate(tls_dir / "server.crt").public_key().public_bytes(encoding, public) == (
        key.public_key().public_bytes(encoding, public)
    )
    assert (tls_dir / "ca.crt").read_bytes() == ca


def test_a_certificate_near_expiry_is_renewed_and_one_far_from_it_is_not(tmp_path):
    folder = tmp_path / "tls"
    run_role(folder, tls_certificates_server_valid_days=20, tls_certificates_renew_days_before=10)
    short = certificate(folder / "server.crt")
    # 20 days left, renewed 10 days before: not yet.
    run_role(folder, tls_certificates_server_valid_days=20, tls_certificates_renew_days_before=10)
    assert certificate(folder / "server.crt").serial_number == short.serial_number
    # 20 days left, renewed 25 days before: now, for the new validity.
    results = run_role(folder, tls_certificates_server_valid_days=60, tls_certificates_renew_days_before=25)
    renewed = certificate(folder / "server.crt")
    assert "tls_certificates : Issue the server certificate from the local CA" in changed(results)
    assert renewed.serial_number != short.serial_number
    # The serial handed on is the new one: the services serving it are recreated.
    assert serial_named(results) == renewed.serial_number
    lifetime = renewed.not_valid_after_utc - renewed.not_valid_before_utc
    assert 59 <= lifetime.days <= 60
