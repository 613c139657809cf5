"""The upgrade tier's checks (molecule/upgrade) share the integration suite's fixtures."""

from tests.integration.conftest import secret_values, target  # noqa: F401 (fixtures)
from tests.support import runtime_retry


def pytest_configure(config) -> None:
    runtime_retry.install()
