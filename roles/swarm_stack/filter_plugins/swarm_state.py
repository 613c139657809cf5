"""Whether the stack's services on the swarm are settled, decided in one place.

A deploy that changed nothing need not wait: `docker stack deploy
--detach=false` would still watch each service, one after the other, for its
update's monitor time. The role reads the services with `docker stack
services` (running and wanted tasks) and `docker service inspect` (the state
of each one's last update); this filter turns both answers into the decision.
"""

from __future__ import annotations

import json
import re

from ansible.errors import AnsibleFilterError

# An update that has not ended: Swarm is still replacing tasks, or stopped
# half-way (failure_action: pause) with old and new tasks side by side.
UNSETTLED_UPDATES = frozenset({"updating", "paused", "rollback_started", "rollback_paused"})
# "3/3", or "3/3 (max 1 per node)" with a placement limit.
REPLICAS = re.compile(r"^(\d+)/(\d+)\b")


def _json(text: str, what: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise AnsibleFilterError(f"{what} printed something that is not JSON: {error}") from error


def swarm_stack_services_settled(listed: list[str], inspected: str) -> bool:
    """True when the stack has services (``listed``: `docker stack services
    --format '{{json .}}'`, one object a line), each runs every task it wants
    (a task with a healthcheck counts as running once healthy), and none is in
    an update that has not ended (``inspected``: `docker service inspect` of
    them, a JSON array)."""
    services = [_json(line, "docker stack services") for line in listed if line.strip()]
    if not services:
        return False
    for service in services:
        counted = REPLICAS.match(str(service.get("Replicas", "")))
        if counted is None:
            raise AnsibleFilterError(
                f"{service.get('Name')}: no running/wanted count in {service.get('Replicas')!r}"
            )
        running, wanted = (int(number) for number in counted.groups())
        if running != wanted:
            return False
    for service in _json(inspected, "docker service inspect"):
        if (service.get("UpdateStatus") or {}).get("State") in UNSETTLED_UPDATES:
            return False
    return True


class FilterModule:
    def filters(self):
        return {"swarm_stack_services_settled": swarm_stack_services_settled}
