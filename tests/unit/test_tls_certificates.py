"""The role tls_certificates, run for real on this machine into a temporary
folder: it creates the CA and the server certificate once, leaves them alone
when they are in place (reading them in two calls, without running any of the
creating tasks), and re-issues the server certificate only when its inputs
change or it nears expiry, or when a file is missing. The CA's key is made and
kept on the controller only (here, a folder beside the target's); one found
on the target moves there. A new CA may sign names under the site's domain
only, and no IP address. What the tree's own `make` made (openssl, from
make-certificates.sh) is kept, its CA key moved to the controller.

Python 3's cryptography from Debian (python3-cryptography, installed by
.ci/run) is what community.crypto uses on this machine.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.ansible_run import run_role_here
from tests.support.project import PROJECT

MAKE_CERTIFICATES = PROJECT / "roles/inception_stack/files/srcs/requirements/tools/make-certificates.sh"

FIRST_CREATING_TASK = "tls_certificates : Create the CA's private key, on the controller"
SERIAL_TASK = "tls_certificates : Name the server certificate in place"
APT_TASK = "tls_certificates : Install the cryptography library community.crypto needs"


def run_role(tls_dir: Path, domain: str = "jdoe.42.fr", **role_vars) -> dict:
    """Runs the role; returns each task's result on this host, by task name."""
    variables = {
        "tls_certificates_domain": domain,
        "tls_certificates_dir": str(tls_dir),
        "tls_certificates_controller_ca_path": str(tls_dir.parent / "controller" / "ca.crt"),
        "tls_certificates_controller_ca_key_path": str(controller_key(tls_dir)),
        **role_vars,
    }
    code, report = run_role_here(tls_dir.parent, "tls_certificates", variables, packages_read_once=True)
    assert code == 0, json.dumps(report)[-3000:]
    return {task["task"]["name"]: task["hosts"]["localhost"] for task in report["plays"][0]["tasks"]}


def controller_key(tls_dir: Path) -> Path:
    return tls_dir.parent / "controller" / "secrets" / "ca.key"


def certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def serial_named(results: dict) -> int:
    """The serial number the role hands on (the fact tls_certificates_server_serial)."""
    return int(results[SERIAL_TASK]["ansible_facts"]["tls_certificates_server_serial"])


def changed(results: dict) -> list[str]:
    return [name for name, result in results.items() if result.get("changed")]


@pytest.fixture(scope="module")
def made_once(tmp_path_factory) -> Path:
    """A CA and server certificate the role made on its first run, for tests
    that only read them (each role run takes 20-30 s here)."""
    folder = tmp_path_factory.mktemp("made-once") / "tls"
    results = run_role(folder)
    assert serial_named(results) == certificate(folder / "server.crt").serial_number
    return folder


@pytest.fixture
def tls_dir(made_once, tmp_path) -> Path:
    """A copy of the first run's folders (the target's and the controller's),
    modes kept, for a test that changes them."""
    shutil.copytree(made_once.parent, tmp_path / "site")
    return tmp_path / "site" / "tls"


def test_first_run_creates_a_ca_and_a_server_certificate_for_the_domain(made_once):
    tls_dir = made_once
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in tls_dir.iterdir()}
    # No CA key on the target: it is the controller's alone.
    assert modes == {
        "ca.crt": "0o644",
        "server.key": "0o600",
        "server.csr": "0o600",
        "server.crt": "0o644",
    }
    assert oct(tls_dir.stat().st_mode & 0o777) == "0o700"
    assert oct(controller_key(tls_dir).stat().st_mode & 0o777) == "0o600"
    assert oct(controller_key(tls_dir).parent.stat().st_mode & 0o777) == "0o700"
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
    # The library is installed (the session's package facts say so): apt,
    # seconds of opening its cache, is not asked.
    assert results[APT_TASK].get("skipped") is True
    assert serial_named(results) == certificate(tls_dir / "server.crt").serial_number
    assert {p.name: p.read_bytes() for p in tls_dir.iterdir()} == before


def permitted_names(ca: x509.Certificate) -> list[str]:
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    # Every IP address excluded, v4 and v6.
    assert {str(name.value) for name in constraints.value.excluded_subtrees} == {"0.0.0.0/0", "::/0"}
    return [name.value for name in constraints.value.permitted_subtrees]


def test_the_ca_may_sign_names_under_the_domain_only(made_once):
    tls_dir = made_once
    assert permitted_names(certificate(tls_dir / "ca.crt")) == ["jdoe.42.fr"]


def test_a_new_domain_constrains_the_ca_to_it_and_reissues_the_server_certificate(tls_dir):
    ca_key = controller_key(tls_dir).read_bytes()
    results = run_role(tls_dir, domain="jdoe.example.org")
    assert "tls_certificates : Issue the server certificate from the local CA" in changed(results)
    server = certificate(tls_dir / "server.crt")
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert names.value.get_values_for_type(x509.DNSName) == ["jdoe.example.org"]
    ca = certificate(tls_dir / "ca.crt")
    assert permitted_names(ca) == ["jdoe.example.org"]
    # The same key and name: a browser that trusted the CA keeps trusting it.
    assert controller_key(tls_dir).read_bytes() == ca_key
    server.verify_directly_issued_by(ca)


def test_what_the_trees_make_created_is_kept_its_ca_key_moved_to_the_controller(tmp_path):
    """Whoever ran first made the certificates; the playbook keeps those of
    make, and takes the CA's key (and its request) off the target: the same
    CA, so a browser that trusts it still does. (So does a target provisioned
    before the key moved: it held the same files.)"""
    folder = tmp_path / "tls"
    subprocess.run(
        ["bash", str(MAKE_CERTIFICATES), str(folder), "jdoe.42.fr"], check=True, capture_output=True
    )
    made = {p.name: p.read_bytes() for p in folder.iterdir()}
    ca = certificate(folder / "ca.crt")
    assert permitted_names(ca) == ["jdoe.42.fr"]
    certificate(folder / "server.crt").verify_directly_issued_by(ca)
    results = run_role(folder)
    assert changed(results) == [
        "tls_certificates : Create the controller's folder for the CA's key",
        "tls_certificates : Keep the CA's key and certificate on the controller",
        "tls_certificates : Remove the CA's key and request from the target",
    ]
    assert results[FIRST_CREATING_TASK].get("skipped") is True
    kept = {name: content for name, content in made.items() if name not in ("ca.key", "ca.csr")}
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == kept
    assert controller_key(folder).read_bytes() == made["ca.key"]
    assert (folder.parent / "controller" / "ca.crt").read_bytes() == made["ca.crt"]
    assert serial_named(results) == certificate(folder / "server.crt").serial_number
    # And from then on, nothing to do.
    assert changed(run_role(folder)) == []


def test_a_certificate_from_another_ca_of_the_same_name_is_issued_again(tls_dir, tmp_path):
    """A run pointed at another controller folder made a second CA, of the
    same name, and signed the server's certificate with it. The next run, with
    the right folder, replaces both on the target: what is kept is what the
    controller's own CA signed, not whatever a CA of that name signed."""
    controller_ca = tls_dir.parent / "controller" / "ca.crt"
    trusted = controller_ca.read_bytes()
    stray = tmp_path / "stray-controller"
    run_role(
        tls_dir,
        tls_certificates_controller_ca_path=str(stray / "ca.crt"),
        tls_certificates_controller_ca_key_path=str(stray / "secrets" / "ca.key"),
    )
    stray_ca = certificate(stray / "ca.crt")
    assert (tls_dir / "ca.crt").read_bytes() == (stray / "ca.crt").read_bytes()
    certificate(tls_dir / "server.crt").verify_directly_issued_by(stray_ca)
    assert certificate(controller_ca).subject == stray_ca.subject

    results = run_role(tls_dir)
    assert "tls_certificates : Issue the server certificate from the local CA" in changed(results)
    # The controller's CA certificate is still the one browsers trust, and
    # the target has it back.
    assert controller_ca.read_bytes() == trusted
    assert (tls_dir / "ca.crt").read_bytes() == trusted
    server = certificate(tls_dir / "server.crt")
    server.verify_directly_issued_by(certificate(controller_ca))
    assert serial_named(results) == server.serial_number
    assert changed(run_role(tls_dir)) == []


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


def sign_with_the_ca(tls_dir: Path, san: x509.GeneralName, folder: Path) -> Path:
    """A server certificate for SAN, signed with the CA's key as someone holding it could."""
    ca = certificate(tls_dir / "ca.crt")
    ca_key = serialization.load_pem_private_key(controller_key(tls_dir).read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "forged")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    path = folder / "forged.crt"
    path.write_bytes(forged.public_bytes(serialization.Encoding.PEM))
    return path


def openssl_verify(ca: Path, leaf: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca), str(leaf)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("san", "violation"),
    [
        (x509.DNSName("bank.example.com"), "permitted subtree violation"),
        (x509.DNSName("jdoe.42.fr.evil.net"), "permitted subtree violation"),
        (x509.IPAddress(ipaddress.ip_address("127.0.0.1")), "excluded subtree violation"),
        (x509.IPAddress(ipaddress.ip_address("::1")), "excluded subtree violation"),
    ],
    ids=["another domain", "the domain as a prefix", "an IPv4 address", "an IPv6 address"],
)
def test_a_certificate_the_ca_signs_for_another_name_is_rejected(made_once, tmp_path, san, violation):
    """Even with the CA's key, a verifying client trusts it for the site's names only."""
    tls_dir = made_once
    assert openssl_verify(tls_dir / "ca.crt", tls_dir / "server.crt").returncode == 0
    # A subdomain is within the site's domain: accepted.
    sub = sign_with_the_ca(tls_dir, x509.DNSName("www.jdoe.42.fr"), tmp_path)
    assert openssl_verify(tls_dir / "ca.crt", sub).returncode == 0
    refused = openssl_verify(tls_dir / "ca.crt", sign_with_the_ca(tls_dir, san, tmp_path))
    assert refused.returncode != 0
    assert violation in refused.stdout + refused.stderr
