"""The swarm tier's times start empty on every run; the cluster's managers,
for the tests that run once rather than once per node."""

import pytest
import testinfra

from tests.swarm.test_cluster import TIMINGS


@pytest.fixture(scope="session", autouse=True)
def fresh_timings():
    TIMINGS.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def managers(pytestconfig) -> list:
    """Every manager, by name: the first holds the registry, the database and
    the stack's tree (swarm.yml)."""
    found = testinfra.get_hosts(
        ["ansible://swarm_managers"], ansible_inventory=pytestconfig.option.ansible_inventory
    )
    return sorted(found, key=lambda node: node.backend.host)
