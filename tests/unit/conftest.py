"""The unit tier's set-up (no target needed); its helpers live in the
tests.support package."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ansible.plugins.loader import init_plugin_loader

from tests.support.project import PROJECT

# Ansible's collection finder must be installed before anything imports
# `ansible_collections` as a plain package (test_toolchain does), or lookups
# from collections cannot be loaded in the same process afterwards.
init_plugin_loader()


@pytest.fixture(scope="session")
def project() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def base_image() -> str:
    """debian:bookworm, as molecule's run makes it: pulled, else built from Debian's archive (cached)."""
    built = subprocess.run(
        [
            str(PROJECT / "scripts" / "build-debian-image"),
            "--suite",
            "bookworm",
            "--tag",
            "debian:bookworm",
            "--try-pull",
            "--save",
            str(PROJECT / ".cache" / "images" / "debian-bookworm.tar.gz"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    return "debian:bookworm"


# `make unit` runs the tier on two workers (pytest-xdist, --dist loadgroup).
# These modules build images on this machine's Docker engine, or run
# containers of the base image, which the first of them may have to build;
# test_portainer_release counts the dangling images before and after a
# build: another module's build beside it could move that count, so one
# worker runs them all, one after the other.
DOCKER_IMAGE_MODULES = frozenset(
    {"test_nginx_config.py", "test_portainer_release.py", "test_wait_until_healthy.py"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in DOCKER_IMAGE_MODULES:
            item.add_marker(pytest.mark.xdist_group("docker_images"))
