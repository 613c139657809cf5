"""Whether a deploy must wait for the stack's services
(roles/swarm_stack/filter_plugins/swarm_state.py), on the answers `docker
stack services --format '{{json .}}'` and `docker service inspect` give
(the lines below are a real cluster's, from the swarm tier)."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from tests.support.ansible_run import role_plugin
from tests.support.project import PROJECT

settled = role_plugin(
    PROJECT / "roles" / "swarm_stack", "filter_plugins", "swarm_state"
).swarm_stack_services_settled

LISTED = [
    '{"ID":"3w9jx44k4cvm","Image":"registry.jdoe.42.fr:5000/inception/backup:1.0.0","Mode":"replicated",'
    '"Name":"inception_backup","Ports":"","Replicas":"1/1"}',
    '{"ID":"rdzv2h7fpy6x","Image":"registry.jdoe.42.fr:5000/inception/mariadb-galera:1.0.0","Mode":"global",'
    '"Name":"inception_mariadb","Ports":"","Replicas":"3/3"}',
    '{"ID":"xy1brfumuchq","Image":"registry.jdoe.42.fr:5000/inception/wordpress:1.0.0","Mode":"replicated",'
    '"Name":"inception_wordpress","Ports":"","Replicas":"3/3 (max 1 per node)"}',
]


def inspected(*update_states: str | None) -> str:
    """`docker service inspect` of the listed services, each with that last
    update's state (None: never updated, as Docker leaves it out)."""
    services = []
    for line, state in zip(LISTED, update_states, strict=True):
        listed = json.loads(line)
        service = {"ID": listed["ID"], "Spec": {"Name": listed["Name"]}}
        if state is not None:
            service["UpdateStatus"] = {"State": state, "Message": "update " + state}
        services.append(service)
    return json.dumps(services)


def test_every_task_running_and_no_update_under_way_is_settled():
    assert settled(LISTED, inspected(None, "completed", "rollback_completed"))


@pytest.mark.parametrize("state", ["updating", "paused", "rollback_started", "rollback_paused"])
def test_an_update_that_has_not_ended_is_not_settled(state):
    assert not settled(LISTED, inspected(None, state, None))


@pytest.mark.parametrize("replicas", ["2/3", "0/1", "2/3 (max 1 per node)"])
def test_a_service_short_of_its_tasks_is_not_settled(replicas):
    listed = [*LISTED[:2], LISTED[2].replace('"3/3 (max 1 per node)"', json.dumps(replicas))]
    assert not settled(listed, inspected(None, None, None))


def test_no_service_at_all_is_not_settled():
    assert not settled([], "[]")


def test_an_answer_it_cannot_read_is_an_error_not_a_guess():
    with pytest.raises(AnsibleFilterError, match="not JSON"):
        settled(["inception_backup 1/1"], "[]")
    with pytest.raises(AnsibleFilterError, match="no running/wanted count"):
        settled([LISTED[0].replace('"1/1"', '"unknown"')], "[]")
