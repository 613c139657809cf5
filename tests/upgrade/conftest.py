"""The upgrade tier's checks (molecule/upgrade) share the integration suite's fixtures."""

from tests.integration.conftest import secret_values, target  # noqa: F401 (fixtures)
