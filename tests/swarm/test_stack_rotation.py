"""Passwords changed in the inventory, in Swarm mode: swarm.yml run again
with new ones for WordPress's database account, MariaDB's root and both
WordPress users, under HTTPS load on every node's 443. The role sets each
where it is checked before the deploy hands the services their new secrets
(roles/swarm_stack/tasks/rotate.yml). Afterwards: every Galera member takes
the new database passwords and refuses the old ones, WordPress the new
logins on every node, the services read the new secrets and the old ones are
gone from the swarm, and no new value shows in a service's configuration or
a container's log. What the load saw is recorded, and no request fails,
while the playbook runs or after it (NGINX passes a 500 from a replica whose
Galera member is restarting to another replica).

Runs last (conftest.py): the cluster keeps the new passwords (the tier
destroys it next)."""

from __future__ import annotations

import dataclasses
import json
import shlex
import time
import uuid

from tests.support.site import https_get, refused_or_accepted, run_playbook, wordpress_accepts
from tests.swarm.load import Load
from tests.swarm.nodes import inventory_value, member_synced, task_container
from tests.swarm.test_cluster import TIMINGS, record
from tests.swarm.test_stack import converged_services, node_target

SERVICES = ("mariadb", "wordpress", "nginx", "redis", "backup")
# Each password changed, by the inventory's name: the Swarm secret it is in,
# and the start of its new value.
CHANGED = {
    "inception_db_password": ("db_password", "Db"),
    "inception_db_root_password": ("db_root_password", "Root"),
    "inception_admin_password": ("credentials", "Admin"),
    "inception_user_password": ("credentials", "User"),
}
# Once the playbook returned, every request must be answered: the deploy
# waited for every task.
SETTLED = 3
PLAYBOOK_LOG = TIMINGS.with_name("password-change-playbook.log")
# Every answer the load got, its time counted from the playbook's start.
LOAD_LOG = TIMINGS.with_name("password-change-load.json")
INSPECT = "docker service inspect " + " ".join(f"inception_{service}" for service in SERVICES)


def secrets_read(manager) -> dict[str, set[str]]:
    """The Swarm secrets each of the stack's services reads, by name in the service."""
    inspected = json.loads(manager.check_output(INSPECT))
    read: dict[str, set[str]] = {}
    for service in inspected:
        for secret in service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Secrets") or []:
            read.setdefault(secret["File"]["Name"], set()).add(secret["SecretName"])
    return read


def member_accepts(node, user: str, password: str) -> bool:
    """Whether this node's Galera member lets that account in with that
    password (as the mysql account over the socket: root's socket login does
    not apply)."""
    check = f"read -r MYSQL_PWD; export MYSQL_PWD; exec mariadb --user={user} --execute='SELECT 1'"
    container = task_container(node, "mariadb")
    return refused_or_accepted(
        node, f"docker exec -i -u mysql {container} sh -c {shlex.quote(check)}", password
    )


def assert_every_request_was_answered(load: Load, started: float, ended: float) -> None:
    """What the load saw while the passwords changed, and once it was over:
    recorded (every answer in LOAD_LOG), then asserted."""
    during = [a for a in load.answers if started <= a.at < ended]
    failed_during = [a for a in load.failed(after=started) if a.at < ended]
    record("password_change_requests", len(during))
    record("password_change_failed_requests", len(failed_during))
    record("password_change_longest_gap_seconds", load.longest_gap(after=started))
    LOAD_LOG.write_text(json.dumps([dataclasses.asdict(a) | {"at": a.at - started} for a in load.answers]))
    assert during, "no request was sent while the playbook ran"
    assert failed_during == [], f"{len(failed_during)} of {len(during)} failed: {failed_during[:5]}"
    assert load.failed(after=ended + SETTLED) == [], load.failed(after=ended + SETTLED)[:5]


def test_passwords_changed_in_the_inventory_reach_every_node_under_load(managers):
    first = managers[0]
    converged_services(first)
    tree = f"/home/{inventory_value(first, 'inception_login')}/inception"
    admin, user = inventory_value(first, "inception_admin_user"), inventory_value(first, "inception_user")
    old = {
        "inception_db_password": first.file(f"{tree}/secrets/db_password.txt").content_string.strip(),
        "inception_db_root_password": first.file(
            f"{tree}/secrets/db_root_password.txt"
        ).content_string.strip(),
    }
    credentials = dict(
        line.split("=", 1)
        for line in first.file(f"{tree}/secrets/credentials.txt").content_string.splitlines()
    )
    old["inception_admin_password"] = credentials["wp_admin_password"]
    old["inception_user_password"] = credentials["wp_user_password"]
    # Characters a shell, SQL, PHP or JSON would read as their own, in each.
    token = uuid.uuid4().hex[:8] + "#%;$x'\"\\`"
    new = {name: f"{start}{token}" for name, (_, start) in CHANGED.items()}
    read_before = secrets_read(first)

    with Load([node_target(node) for node in managers]) as load:
        started = time.monotonic()
        run = run_playbook(
            "swarm.yml", first.backend.ansible_inventory, json.dumps(new), expect_success=False
        )
        ended = time.monotonic()
        time.sleep(SETTLED + 3)
    record("password_change_playbook_seconds", ended - started)
    output = run.stdout + run.stderr
    PLAYBOOK_LOG.write_text(output)
    # The failed task's own lines, not only the recap that ends the output.
    failed_at = output.find("fatal:")
    excerpt = output[failed_at : failed_at + 4000] if failed_at >= 0 else output[-4000:]
    assert run.returncode == 0, f"{excerpt}\n(all of it: {PLAYBOOK_LOG})"

    assert_every_request_was_answered(load, started, ended)

    # Every member has the new database passwords, and refuses the old.
    converged_services(first)
    for node in managers:
        assert member_synced(node, len(managers)), node.backend.host
        assert member_accepts(node, "wordpress", new["inception_db_password"]), node.backend.host
        assert not member_accepts(node, "wordpress", old["inception_db_password"]), node.backend.host
        assert member_accepts(node, "root", new["inception_db_root_password"]), node.backend.host
        assert not member_accepts(node, "root", old["inception_db_root_password"]), node.backend.host
    # WordPress takes the new logins on every node, not the old.
    for node in managers:
        target = node_target(node)
        assert https_get(target, f"/?rotated={uuid.uuid4().hex}").status == 200
        assert wordpress_accepts(target, admin, new["inception_admin_password"]), node.backend.host
        assert wordpress_accepts(target, user, new["inception_user_password"]), node.backend.host
        assert not wordpress_accepts(target, admin, old["inception_admin_password"]), node.backend.host
        assert not wordpress_accepts(target, user, old["inception_user_password"]), node.backend.host

    # Every service reads the changed secrets' new versions, and the swarm
    # keeps no secret that no service reads.
    read_after = secrets_read(first)
    for secret in {secret for secret, _ in CHANGED.values()}:
        assert read_after[secret].isdisjoint(read_before[secret]), (
            secret,
            read_before[secret],
            read_after[secret],
        )
        assert len(read_after[secret]) == 1, read_after[secret]
    kept = set(first.check_output("docker secret ls --format '{{.Name}}'").split())
    assert kept == set().union(*read_after.values()), kept

    # No new value in a service's or a container's configuration, or in a
    # container's log (each node's own: `docker service logs` can hang on a
    # task that is gone), or in the playbook's output.
    shown = first.check_output(INSPECT) + output
    for node in managers:
        shown += node.run(
            "for c in $(docker ps -aq --filter label=com.docker.stack.namespace=inception); do"
            " docker inspect $c; docker logs $c 2>&1; done"
        ).stdout
    assert not [name for name, value in new.items() if value in shown]
