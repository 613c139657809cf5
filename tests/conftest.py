"""What every test tier shares, loaded before each tier's own conftest."""

from tests.support import runtime_retry


def pytest_configure(config) -> None:
    runtime_retry.install()
