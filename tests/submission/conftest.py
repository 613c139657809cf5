"""The submission tier's own checks run in the same session as the
integration suite (molecule/submission): its fixtures, shared."""

from tests.integration.conftest import docker, secret_values, target  # noqa: F401 (fixtures)
