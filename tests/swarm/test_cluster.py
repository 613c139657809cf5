"""The swarm tier (molecule/swarm): three container targets, each with its own
Docker engine, joined by playbooks/swarm.yml into one Docker Swarm with three
managers. Each test runs once per node (testinfra's host):

  - seen from that node, every node is ready and a reachable manager, and
    exactly one leads;
  - that node killed (its container, from this machine, without a shutdown):
    the two others still hold the quorum (a change to the cluster's state is
    accepted, a leader among them) and see it down; started again, it rejoins
    by itself, ready and a manager, with the change the others made.

Times go to artifacts/swarm/timings.json.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid

from tests.support.project import PROJECT
from tests.swarm.nodes import files_brick, files_mount, member_synced, other_host

TIMINGS = PROJECT / "artifacts" / "swarm" / "timings.json"
# Swarm marks a node down after a few missed heartbeats (2 s apart here):
# ~5 s, or ~20-30 s when the dead node led (a new leader is elected first, then
# waits out its own grace period), measured on a loaded machine; slower days
# are 2-3x slower.
SEEN_DOWN_WITHIN = 90
# A container target's boot, its engine's start and the rejoin.
BACK_WITHIN = 180
# GlusterFS's self-heal daemon looks every 10 minutes by default, but a
# client that reads a file heals it at once.
HEALED_WITHIN = 120
# A node's Galera member back in the cluster after its node started: the
# task placed again, then an incremental copy.
DATABASE_BACK_WITHIN = 300


def node_names(host) -> list[str]:
    return sorted(host.ansible.get_variables()["groups"]["swarm_managers"])


def nodes_seen_from(node) -> dict[str, dict[str, str]] | None:
    """`docker node ls` on that node, by hostname; None while it cannot answer."""
    listed = node.run("docker node ls --format '{{json .}}'")
    if listed.rc != 0:
        return None
    rows = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    return {row["Hostname"]: row for row in rows}


def wait_for(description: str, within: float, check) -> float:
    """Seconds until check() is true; fails the test after `within`."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"{description}: not within {within} s")
        time.sleep(1)


def record(name: str, seconds: float) -> None:
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    timings = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    timings[name] = round(seconds, 1)
    TIMINGS.write_text(json.dumps(timings, indent=2, sort_keys=True) + "\n")


def docker_here(*args: str) -> None:
    subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=120)


def test_every_node_is_ready_and_a_reachable_manager_and_one_leads(host):
    nodes = nodes_seen_from(host)
    assert nodes is not None, "docker node ls failed on this node"
    assert sorted(nodes) == node_names(host)
    assert {row["Status"] for row in nodes.values()} == {"Ready"}
    assert {row["Availability"] for row in nodes.values()} == {"Active"}
    statuses = sorted(row["ManagerStatus"] for row in nodes.values())
    assert statuses == ["Leader", "Reachable", "Reachable"], statuses


def test_a_killed_node_leaves_a_working_cluster_and_catches_up_by_itself(host):
    name = host.backend.host
    survivors = [other_host(host, other) for other in node_names(host) if other != name]
    label = f"org.inception.outage-{uuid.uuid4().hex[:8]}"
    written_away = f"{files_mount(host)}/outage-{uuid.uuid4().hex[:8]}.txt"

    docker_here("kill", name)
    killed = time.monotonic()

    def seen_down() -> bool:
        nodes = nodes_seen_from(survivors[0])
        return nodes is not None and nodes[name]["Status"] == "Down"

    record(f"{name}_seen_down_seconds", wait_for(f"the others see {name} down", SEEN_DOWN_WITHIN, seen_down))

    # A write to the cluster's state needs a quorum: two managers of three.
    survivor_name = survivors[0].backend.host
    labelled = survivors[1].run(f"docker node update --label-add {label}=1 {survivor_name}")
    assert labelled.rc == 0, labelled.stderr
    leaders = [row for row in nodes_seen_from(survivors[1]).values() if row["ManagerStatus"] == "Leader"]
    assert len(leaders) == 1, leaders
    assert leaders[0]["Hostname"] != name
    record(f"{name}_quorum_write_after_kill_seconds", time.monotonic() - killed)
    # The replicated files take a write with one brick of three away.
    wrote = survivors[0].run("echo written-while-away > %s", written_away)
    assert wrote.rc == 0, wrote.stderr

    docker_here("start", name)

    def back() -> bool:
        seen = nodes_seen_from(survivors[0])
        own = nodes_seen_from(host)
        return (
            seen is not None
            and seen[name]["Status"] == "Ready"
            and seen[name]["ManagerStatus"] == "Reachable"
            and own is not None
        )

    record(f"{name}_back_seconds", wait_for(f"{name} ready again", BACK_WITHIN, back))
    inspected = host.run(f"docker node inspect --format '{{{{json .Spec.Labels}}}}' {survivor_name}")
    assert inspected.rc == 0, inspected.stderr
    assert label in json.loads(inspected.stdout), "the node back has not caught up with the cluster's state"
    assert survivors[1].run(f"docker node update --label-rm {label} {survivor_name}").rc == 0

    # Its mount is back by itself (at boot), with what was written meanwhile,
    # and its own brick holds it once GlusterFS healed it.
    def healed() -> bool:
        return (
            host.run("cat %s", written_away).stdout == "written-while-away\n"
            and host.file(f"{files_brick(host)}/{written_away.rsplit('/', 1)[1]}").exists
        )

    record(f"{name}_files_healed_seconds", wait_for(f"{name}'s files caught up", HEALED_WITHIN, healed))
    assert survivors[0].run("rm %s", written_away).rc == 0

    # Its Galera member is back in the cluster before the next node goes: two
    # members of three must stay, or the database stops (and heals itself
    # only once Swarm restarted the members its healthcheck failed).
    def database_back() -> bool:
        return member_synced(host, len(node_names(host)))

    record(
        f"{name}_database_back_seconds",
        wait_for(f"{name}'s Galera member Synced", DATABASE_BACK_WITHIN, database_back),
    )
