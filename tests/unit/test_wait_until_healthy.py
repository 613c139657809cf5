"""Waiting for a stack's health (tests/support/site.py) tells a container
that was never created from one that is slow to become healthy: the first
fails within a short grace, naming it, instead of after the whole timeout
(a reboot test waiting ten minutes for a stack an earlier `make` never
started). Run against this machine's Docker engine."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid

import pytest
import testinfra

from tests.support import site


@pytest.fixture
def host():
    return testinfra.get_host("local://")


@pytest.fixture
def name():
    """A container name no one uses; whatever the test made under it is removed."""
    container = f"inception-unit-health-{uuid.uuid4().hex[:8]}"
    yield container
    subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)


def test_a_container_never_created_fails_within_the_grace_naming_it(host, name, monkeypatch):
    monkeypatch.setattr(site, "MISSING_CONTAINER_GRACE_SECONDS", 1.0)
    started = time.monotonic()
    with pytest.raises(AssertionError, match=f"no container {name}: nothing will start"):
        site.wait_until_healthy(host, (name,), timeout=300)
    assert time.monotonic() - started < 30


def test_a_container_that_exists_but_is_not_healthy_waits_for_the_timeout(
    host, name, base_image, monkeypatch
):
    monkeypatch.setattr(site, "MISSING_CONTAINER_GRACE_SECONDS", 0.5)
    subprocess.run(["docker", "create", "--name", name, base_image, "true"], capture_output=True, check=True)
    started = time.monotonic()
    with pytest.raises(AssertionError, match="not healthy after 3 s"):
        site.wait_until_healthy(host, (name,), timeout=3)
    assert time.monotonic() - started >= 3


def test_a_container_created_within_the_grace_is_awaited_until_healthy(host, name, base_image, monkeypatch):
    monkeypatch.setattr(site, "MISSING_CONTAINER_GRACE_SECONDS", 20.0)
    run = ["docker", "run", "-d", "--name", name, "--health-cmd", "true", "--health-interval", "1s"]

    def create_later():
        time.sleep(2)  # absent for a moment, as while Compose recreates a container
        subprocess.run([*run, base_image, "sleep", "60"], capture_output=True, check=True)

    creator = threading.Thread(target=create_later)
    creator.start()
    try:
        waited = site.wait_until_healthy(host, (name,), timeout=60)
    finally:
        creator.join()
    assert waited >= 2
    state = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Health.Status}}", name],
        capture_output=True,
        text=True,
        check=True,
    )
    assert state.stdout.strip() == "healthy"
