"""`nginx -t` on the configuration the role renders, in the nginx image built
from the rendered folder on this machine's Docker engine: a stand-in
certificate where the real one (a runtime secret) goes, and the upstreams'
names given with --add-host, since there is no stack network here."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.ansible_run import render
from tests.support.project import ALL_BONUS, STACK

NGINX = Path("srcs/requirements/nginx")
UPSTREAMS = ("wordpress", "website", "adminer")


def docker(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=timeout)


def stand_in_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jdoe.42.fr")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "tls_certificate", folder / "tls_key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o644)  # read by the test container's root only; a throw-away key
    return cert_path, key_path


def rendered_folder(folder: Path, **overrides) -> Path:
    """The nginx service's folder as the role writes it into the tree."""
    for source_root, templated in ((STACK / "templates", True), (STACK / "files", False)):
        for source in (source_root / NGINX).rglob("*"):
            if not source.is_file():
                continue
            relative = source.relative_to(source_root / NGINX)
            target = folder / (relative.with_suffix("") if templated else relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            if templated:
                target.write_text(render(STACK, source, **overrides))
            else:
                shutil.copy(source, target)  # with its mode: the entrypoint is executable
    # The role's shared files, which its plan puts beside every entrypoint.
    for source in (STACK / "shared").rglob("*"):
        if source.is_file():
            target = folder / source.relative_to(STACK / "shared")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return folder


@pytest.fixture(scope="module")
def nginx_image(base_image, tmp_path_factory):
    tag = f"inception-unit-nginx:{uuid.uuid4().hex[:8]}"
    context = rendered_folder(tmp_path_factory.mktemp("nginx"), inception_stack_bonus=ALL_BONUS)
    built = docker("build", "--quiet", "--tag", tag, str(context))
    assert built.returncode == 0, built.stderr[-3000:]
    yield tag
    docker("image", "rm", "--force", tag)


def nginx_t(
    image: str, config_folder: Path, certificates: tuple[Path, Path]
) -> subprocess.CompletedProcess[str]:
    cert, key = certificates
    hosts = [arg for name in UPSTREAMS for arg in ("--add-host", f"{name}:127.0.0.1")]
    mounts = [
        *("--volume", f"{config_folder / 'conf' / 'nginx.conf'}:/etc/nginx/nginx.conf:ro"),
        *("--volume", f"{config_folder / 'conf' / 'inception.conf'}:/etc/nginx/conf.d/inception.conf:ro"),
        *("--volume", f"{cert}:/run/secrets/tls_certificate:ro"),
        *("--volume", f"{key}:/run/secrets/tls_key:ro"),
    ]
    # The in-memory folders the compose file gives the service.
    tmpfs = [arg for folder in ("/run", "/var/lib/nginx", "/var/cache/nginx") for arg in ("--tmpfs", folder)]
    return docker(
        "run", "--rm", "--network", "none", *hosts, *mounts, *tmpfs, image, "nginx", "-t", timeout=120
    )


# Swarm mode's (playbooks/vars/swarm.yml): WordPress's replicas looked up
# through Docker's DNS at request time.
SETTINGS = {
    "default": {},
    "all-bonus": {"inception_stack_bonus": ALL_BONUS},
    "swarm": {"inception_stack_php_resolver": "127.0.0.11"},
}


@pytest.mark.parametrize("setting", SETTINGS)
def test_nginx_accepts_the_rendered_configuration(nginx_image, tmp_path, setting):
    overrides = SETTINGS[setting]
    folder = rendered_folder(tmp_path / "nginx", **overrides)
    checked = nginx_t(nginx_image, folder, stand_in_certificate(tmp_path))
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr
    assert "test is successful" in checked.stderr


def test_nginx_t_refuses_a_planted_mistake(nginx_image, tmp_path):
    folder = rendered_folder(tmp_path / "nginx")
    site = folder / "conf" / "inception.conf"
    site.write_text(
        site.read_text().replace("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1.2 TLSv9;")
    )
    checked = nginx_t(nginx_image, folder, stand_in_certificate(tmp_path))
    assert checked.returncode != 0
    assert "TLSv9" in checked.stderr


def test_only_swarm_mode_looks_wordpress_up_at_request_time(tmp_path):
    single = (rendered_folder(tmp_path / "single") / "conf" / "inception.conf").read_text()
    swarm = (rendered_folder(tmp_path / "swarm", **SETTINGS["swarm"]) / "conf" / "inception.conf").read_text()
    assert "resolver" not in single
    # A replica that answers 500 (its database away) is passed over, once.
    assert "next_upstream" not in single
    assert "fastcgi_next_upstream error timeout http_500;" in swarm
    assert "fastcgi_next_upstream_tries 2;" in swarm
    assert "fastcgi_pass wordpress:9000;" in single
    assert "resolver 127.0.0.11 valid=5s ipv6=off;" in swarm
    assert "fastcgi_pass wordpress:9000;" not in swarm
    assert swarm.count("fastcgi_pass $inception_wordpress;") == single.count("fastcgi_pass wordpress:9000;")
