"""The opt-in Portainer is built from a release pinned by version and sha256.

The role portainer_release runs here for real, on this controller: against a
release server on loopback (GitHub is not reachable from here, and tests send
traffic to loopback only), against a port where nothing listens (an offline
controller), and with an archive carried in by hand. The archive is a stand-in
with the release's layout, not Portainer: what is tested is that only a file
with the pinned sha256 is ever used, and that the way out is named when there is
none. Last, the portainer image's first stage is built with Docker, to show
that the tree's own `make` refuses an altered archive too.
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.ansible_run import PROVISIONING_PLAY, render, run_role_here, run_site
from tests.support.project import ALL_BONUS, STACK


def release_archive(program: bytes = b"#!/bin/sh\necho stand-in\n") -> bytes:
    """An archive with the release's layout: portainer/portainer and portainer/public/."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data, mode in (
            ("portainer/portainer", program, 0o755),
            ("portainer/public/index.html", b"<html></html>\n", 0o644),
        ):
            entry = tarfile.TarInfo(name)
            entry.size, entry.mode = len(data), mode
            archive.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def closed_port() -> int:
    """A loopback port where nothing listens: downloads fail at once, as offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ReleaseServer:
    """Serves one archive on loopback and counts the requests for it."""

    def __init__(self, body: bytes):
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/portainer-2.33.5-linux-amd64.tar.gz"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def run_role(tmp_path: Path, **role_vars) -> tuple[int, dict]:
    """Runs the role on this controller; returns the exit code and the report."""
    return run_role_here(tmp_path, "portainer_release", role_vars, timeout=120)


def failure_message(report: dict) -> str:
    """The message the run stopped with (a rescued failure comes before it)."""
    failures = [
        result["msg"]
        for task in report["plays"][0]["tasks"]
        for result in task["hosts"].values()
        if result.get("failed")
    ]
    assert failures, "no task failed"
    return failures[-1]


def changed(report: dict) -> int:
    return report["stats"]["localhost"]["changed"]


@pytest.fixture
def archive() -> bytes:
    return release_archive()


def test_a_download_is_kept_when_its_sha256_is_the_pin_and_never_fetched_again(tmp_path, archive):
    server = ReleaseServer(archive)
    kept = tmp_path / "cache" / "portainer.tar.gz"
    try:
        pinned = {
            "portainer_release_url": server.url,
            "portainer_release_sha256": sha256(archive),
            "portainer_release_controller_archive": str(kept),
        }
        code, report = run_role(tmp_path, **pinned)
        assert code == 0, report
        assert kept.read_bytes() == archive
        assert server.requests == 1
        code, report = run_role(tmp_path, **pinned)
        assert (code, changed(report), server.requests) == (0, 0, 1)
    finally:
        server.close()


def test_a_download_that_differs_from_the_pin_is_refused_and_not_kept(tmp_path, archive):
    server = ReleaseServer(release_archive(b"#!/bin/sh\necho altered\n"))
    kept = tmp_path / "cache" / "portainer.tar.gz"
    try:
        code, report = run_role(
            tmp_path,
            portainer_release_url=server.url,
            portainer_release_sha256=sha256(archive),
            portainer_release_controller_archive=str(kept),
        )
    finally:
        server.close()
    assert code != 0
    message = failure_message(report)
    assert f"no archive with sha256 {sha256(archive)}" in message
    assert "did not match" in message
    assert not kept.exists()


def test_an_offline_controller_is_stopped_with_the_way_out_named(tmp_path, archive):
    url = f"http://127.0.0.1:{closed_port()}/portainer-2.33.5-linux-amd64.tar.gz"
    kept = tmp_path / "cache" / "portainer.tar.gz"
    code, report = run_role(
        tmp_path,
        portainer_release_url=url,
        portainer_release_sha256=sha256(archive),
        portainer_release_controller_archive=str(kept),
    )
    assert code != 0
    message = failure_message(report)
    for named in (str(kept), url, "copy the release to that path", "switch portainer off in inception_bonus"):
        assert named in message
    assert not kept.exists()


def run_offline_with_carried_in(tmp_path: Path, carried: bytes, pinned: bytes) -> tuple[int, dict, Path]:
    """An archive copied to the controller's cache by hand, nothing to download from."""
    kept = tmp_path / "cache" / "portainer.tar.gz"
    kept.parent.mkdir()
    kept.write_bytes(carried)
    code, report = run_role(
        tmp_path,
        portainer_release_url=f"http://127.0.0.1:{closed_port()}/nowhere.tar.gz",
        portainer_release_sha256=sha256(pinned),
        portainer_release_controller_archive=str(kept),
    )
    return code, report, kept


def test_an_archive_carried_in_by_hand_is_used_offline_when_its_sha256_is_the_pin(tmp_path, archive):
    code, report, kept = run_offline_with_carried_in(tmp_path, carried=archive, pinned=archive)
    assert (code, changed(report)) == (0, 0)
    assert kept.read_bytes() == archive


def test_an_archive_carried_in_that_differs_is_refused_with_both_checksums(tmp_path, archive):
    altered = release_archive(b"#!/bin/sh\necho altered\n")
    code, report, _ = run_offline_with_carried_in(tmp_path, carried=altered, pinned=archive)
    assert code != 0
    message = failure_message(report)
    assert f"no archive with sha256 {sha256(archive)}" in message
    assert f"the file there has sha256 {sha256(altered)}" in message


@pytest.mark.parametrize(
    ("setting", "value"),
    [("portainer_release_sha256", "44A5BEDB"), ("portainer_release_version", "latest")],
)
def test_a_malformed_pin_is_refused_before_any_download(tmp_path, setting, value):
    code, report = run_role(
        tmp_path,
        portainer_release_url=f"http://127.0.0.1:{closed_port()}/nowhere.tar.gz",
        portainer_release_controller_archive=str(tmp_path / "cache" / "portainer.tar.gz"),
        **{setting: value},
    )
    assert code != 0
    assert "portainer_release_version must be a release such as 2.33.5" in failure_message(report)
    assert not (tmp_path / "cache").exists()


def test_the_site_stops_before_touching_the_target_when_the_release_cannot_be_had(tmp_path):
    # site.yml against a target that does not exist: the release is the
    # provisioning play's first step, and it needs the controller only.
    url = f"http://127.0.0.1:{closed_port()}/portainer-2.33.5-linux-amd64.tar.gz"
    result = run_site(
        tmp_path,
        inception_bonus={**ALL_BONUS, "portainer": True},
        inception_portainer_archive=str(tmp_path / "cache" / "portainer.tar.gz"),
        portainer_release_url=url,
    )
    output = " ".join(result.stdout.split())
    assert result.returncode != 0
    assert PROVISIONING_PLAY in output
    assert "Portainer 2.33.5: no archive with sha256 44a5bedb" in output
    # The target was never reached: no task of the first target role ran.
    assert "docker_engine :" not in output
    assert "UNREACHABLE" not in result.stdout


def build_release_stage(tmp_path: Path, archive: bytes, pin: str) -> subprocess.CompletedProcess[str]:
    """Builds the first stage of the rendered Dockerfile from this archive, as the tree's make would."""
    context = tmp_path / "portainer"
    (context / "tools").mkdir(parents=True)
    dockerfile = render(
        STACK,
        STACK / "templates/srcs/requirements/bonus/portainer/Dockerfile.j2",
        inception_stack_bonus=ALL_BONUS,
        inception_stack_portainer_sha256=pin,
    )
    (context / "Dockerfile").write_text(dockerfile)
    (context / "tools" / "portainer-linux-amd64.tar.gz").write_bytes(archive)
    tag = f"inception-portainer-release-test:{os.getpid()}"
    dangling = ["docker", "image", "ls", "--quiet", "--no-trunc", "--filter", "dangling=true"]
    before = set(subprocess.run(dangling, capture_output=True, text=True, check=True).stdout.split())
    try:
        # --force-rm: a failed step leaves no container behind.
        return subprocess.run(
            ["docker", "build", "--force-rm", "--target", "release", "--tag", tag, str(context)],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    finally:
        subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True, check=False)
        # The layers a failed build committed before its failing step.
        after = set(subprocess.run(dangling, capture_output=True, text=True, check=True).stdout.split())
        if after - before:
            subprocess.run(["docker", "image", "rm", *(after - before)], capture_output=True, check=False)


def test_the_image_build_checks_the_archive_against_the_pin_again(tmp_path, archive):
    altered = release_archive(b"#!/bin/sh\necho altered\n")
    refused = build_release_stage(tmp_path / "altered", altered, pin=sha256(archive))
    assert refused.returncode != 0
    assert "FAILED" in refused.stdout + refused.stderr
    accepted = build_release_stage(tmp_path / "pinned", archive, pin=sha256(archive))
    assert accepted.returncode == 0, accepted.stderr
