"""The swarm tier's times start empty on every run; the cluster's managers,
for the tests that run once rather than once per node; the password change
runs last."""

import pytest
import testinfra

from tests.swarm.test_cluster import TIMINGS


def pytest_collection_modifyitems(items: list) -> None:
    """The password change after every other test: the cluster keeps the new
    passwords (the inventory's are not put back: a second run of the
    playbook would not fit the tier's time), and the tier destroys it next."""
    items.sort(key=lambda item: item.path.name == "test_stack_rotation.py")


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
