"""Whether the stack's services on the swarm converged, decided in one place.

After a deploy, Swarm replaces tasks by itself. `docker stack deploy
--detach=false` would watch the services one after the other, each for its
update's monitor time, even when nothing changed (~35 s of every run). The
role instead reads all of them every few seconds with inception-stack-state
(files/stack-state.sh) and this filter decides from its answer.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime

from ansible.errors import AnsibleFilterError

# An update that has not ended: Swarm is still replacing tasks.
UPDATING = frozenset({"updating", "rollback_started"})
# An update stopped half-way (failure_action: pause), old and new tasks side
# by side: waiting cannot end it, an operator must.
PAUSED = frozenset({"paused", "rollback_paused"})
# "3/3", or "3/3 (max 1 per node)" with a placement limit.
REPLICAS = re.compile(r"^(\d+)/(\d+)\b")
# What inception-stack-state prints after each of its three answers.
SEPARATOR = "---"


def _json(text: str, what: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise AnsibleFilterError(f"{what} printed something that is not JSON: {error}") from error


def _sections(state: str) -> list[list[str]]:
    sections: list[list[str]] = [[]]
    for line in state.splitlines():
        if line.strip() == SEPARATOR:
            sections.append([])
        elif line.strip():
            sections[-1].append(line)
    if len(sections) != 4 or sections[3]:
        raise AnsibleFilterError(f"inception-stack-state printed {len(sections) - 1} answers, not 3")
    return sections[:3]


def _started_at(status: dict) -> float:
    """An update's start as a POSIX time (Docker gives up to nine digits of a
    second; Python reads six)."""
    started = re.sub(r"(\.\d{6})\d*", r"\1", status.get("StartedAt", ""))
    try:
        return datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
    except ValueError as error:
        raise AnsibleFilterError(f"an update's StartedAt is not a time: {status!r}") from error


def swarm_stack_services_settled(state: str, deployed_at: int) -> bool:
    """True when the stack has services, each runs every task it wants of its
    current spec (running: healthy, where it has a healthcheck), and none is
    in an update that has not ended. ``state`` is inception-stack-state's
    output; ``deployed_at`` the manager's clock (POSIX seconds) just before the
    deploy. An update that paused, or one that began since the deploy and was
    rolled back, is an error: waiting would not change it."""
    listed, inspected, current = _sections(state)
    services = [_json(line, "docker stack services") for line in listed]
    if not services:
        return False
    for service in _json("\n".join(inspected), "docker service inspect"):
        name = service.get("Spec", {}).get("Name", service.get("ID"))
        status = service.get("UpdateStatus") or {}
        if status.get("State") in PAUSED:
            raise AnsibleFilterError(f"{name}: its update is {status['State']}: {status.get('Message', '')}")
        if status.get("State") == "rollback_completed" and _started_at(status) >= deployed_at:
            raise AnsibleFilterError(f"{name}: the update was rolled back: {status.get('Message', '')}")
        if status.get("State") in UPDATING:
            return False
    # A task's name is its service's, then "." and its slot or node (after
    # "\_ " for a slot's earlier task, which the filter leaves out).
    running = Counter(
        str(task["Name"]).split()[-1].rsplit(".", 1)[0]
        for task in (_json(line, "docker service ps") for line in current)
        if str(task.get("CurrentState", "")).startswith("Running")
    )
    for service in services:
        counted = REPLICAS.match(str(service.get("Replicas", "")))
        if counted is None:
            raise AnsibleFilterError(
                f"{service.get('Name')}: no running/wanted count in {service.get('Replicas')!r}"
            )
        if running[service["Name"]] != int(counted.group(2)):
            return False
    return True


class FilterModule:
    def filters(self):
        return {"swarm_stack_services_settled": swarm_stack_services_settled}
