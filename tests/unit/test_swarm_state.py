"""Whether a deploy's wait is over (roles/swarm_stack/filter_plugins/swarm_state.py),
on what inception-stack-state prints (roles/swarm_stack/files/stack-state.sh):
`docker stack services --format '{{json .}}'`, `docker service inspect` and
`docker service ps --format '{{json .}}'` of the tasks of the current spec
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
# The manager's clock before the deploy, and an update's start on each side of it.
DEPLOYED_AT = 1796418018  # 2026-12-04T21:00:18Z
BEFORE_THE_DEPLOY = "2026-12-04T20:41:02.11785932Z"
SINCE_THE_DEPLOY = "2026-12-04T21:00:19.396255686Z"


def task(name: str, state: str = "Running 7 seconds ago") -> str:
    return json.dumps(
        {
            "CurrentState": state,
            "DesiredState": "Running",
            "Error": "",
            "ID": "onwlhnacw7si",
            "Image": "registry.jdoe.42.fr:5000/inception/wordpress:1.0.0@sha256:" + "ab" * 32,
            "Name": name,
            "Node": "inception-node1",
            "Ports": "",
        }
    )


RUNNING = [
    task("inception_backup.1"),
    *(task(f"inception_mariadb.{node}") for node in ("jm2x0a1", "k3v9b7q", "p0c4d2e")),
    *(task(f"inception_wordpress.{slot}") for slot in (1, 2, 3)),
]


def inspected(*updates: tuple[str, str] | None) -> list[str]:
    """`docker service inspect` of the listed services, each with that last
    update's state and start (None: never updated, as Docker leaves it out)."""
    services = []
    for line, update in zip(LISTED, updates, strict=True):
        listed = json.loads(line)
        service = {"ID": listed["ID"], "Spec": {"Name": listed["Name"]}}
        if update is not None:
            state, started = update
            service["UpdateStatus"] = {"State": state, "StartedAt": started, "Message": "update " + state}
        services.append(service)
    return json.dumps(services, indent=4).splitlines()


def state(listed=LISTED, services=None, tasks=RUNNING) -> str:
    """inception-stack-state's output."""
    services = inspected(None, None, None) if services is None else services
    return "\n".join([*listed, "---", *services, "---", *tasks, "---"]) + "\n"


def test_every_task_of_the_current_spec_running_and_no_update_under_way_is_settled():
    updates = (None, ("completed", SINCE_THE_DEPLOY), ("rollback_completed", BEFORE_THE_DEPLOY))
    assert settled(state(services=inspected(*updates)), DEPLOYED_AT)


@pytest.mark.parametrize("update", ["updating", "rollback_started"])
def test_an_update_under_way_is_not_settled(update):
    assert not settled(state(services=inspected(None, (update, SINCE_THE_DEPLOY), None)), DEPLOYED_AT)


@pytest.mark.parametrize("update", ["paused", "rollback_paused"])
def test_a_paused_update_fails_the_wait_with_the_service_named(update):
    services = inspected(None, None, (update, BEFORE_THE_DEPLOY))
    with pytest.raises(AnsibleFilterError, match=f"inception_wordpress: its update is {update}"):
        settled(state(services=services), DEPLOYED_AT)


def test_a_rollback_of_this_deploys_update_fails_the_wait_and_an_earlier_one_does_not():
    rolled_back = inspected(None, ("rollback_completed", SINCE_THE_DEPLOY), None)
    with pytest.raises(AnsibleFilterError, match="inception_mariadb: the update was rolled back"):
        settled(state(services=rolled_back), DEPLOYED_AT)
    assert settled(
        state(services=inspected(None, ("rollback_completed", BEFORE_THE_DEPLOY), None)), DEPLOYED_AT
    )


@pytest.mark.parametrize(
    "tasks",
    [
        RUNNING[:-1],  # a replica of the new spec not placed yet
        [*RUNNING[:-1], task("inception_wordpress.3", "Starting 2 seconds ago")],  # not healthy yet
        RUNNING[1:],  # the backup's task still of the old spec
    ],
    ids=["missing", "starting", "old-spec"],
)
def test_a_service_short_of_running_tasks_of_its_current_spec_is_not_settled(tasks):
    assert not settled(state(tasks=tasks), DEPLOYED_AT)


def test_a_slots_earlier_task_is_counted_for_its_own_service():
    # `docker service ps` writes "\_ " before a slot's earlier task.
    tasks = [*RUNNING[:-1], task(r" \_ inception_wordpress.3")]
    assert settled(state(tasks=tasks), DEPLOYED_AT)
    assert not settled(state(tasks=[*RUNNING[:-1], task(r" \_ inception_backup.1")]), DEPLOYED_AT)


def test_no_service_at_all_is_not_settled():
    assert not settled("---\n[]\n---\n---\n", DEPLOYED_AT)


def test_an_answer_it_cannot_read_is_an_error_not_a_guess():
    with pytest.raises(AnsibleFilterError, match="not JSON"):
        settled(state(listed=["inception_backup 1/1"]), DEPLOYED_AT)
    with pytest.raises(AnsibleFilterError, match="no running/wanted count"):
        settled(state(listed=[LISTED[0].replace('"1/1"', '"unknown"')]), DEPLOYED_AT)
    with pytest.raises(AnsibleFilterError, match="printed 2 answers, not 3"):
        settled("\n".join(LISTED) + "\n---\n[]\n---\n", DEPLOYED_AT)
    with pytest.raises(AnsibleFilterError, match="StartedAt is not a time"):
        settled(state(services=inspected(None, None, ("rollback_completed", "yesterday"))), DEPLOYED_AT)
