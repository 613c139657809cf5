"""The swarm tier's times start empty on every run."""

import pytest

from tests.swarm.test_cluster import TIMINGS


@pytest.fixture(scope="session", autouse=True)
def fresh_timings():
    TIMINGS.unlink(missing_ok=True)
