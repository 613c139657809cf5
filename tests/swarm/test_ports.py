"""Swarm mode's port allow-list (README, "Swarm mode"): the subject allows
443 alone, and Swarm mode opens the cluster's own ports between the nodes.
Each node, seen from inside (`ss`), listens on nothing else beyond its
loopback: a service that opens a port somewhere has to be added here, and to
the README's list, on purpose. Runs once per node.
"""

from __future__ import annotations

import ipaddress

from tests.support.project import PROJECT, load_yaml
from tests.swarm.nodes import registry_node_name
from tests.swarm.test_registry import REGISTRY_PORT

# What every node listens on: Swarm's management (managers), its gossip, and
# the overlay networks' VXLAN; SSH where the node is a VM.
CLUSTER_PORTS = {(2377, "tcp"), (7946, "tcp"), (7946, "udp"), (4789, "udp")}
MAYBE_PORTS = {(22, "tcp")}
# The site: NGINX publishes 443 on every node (host mode).
SITE_PORTS = {(443, "tcp")}
# The registry's node only.
REGISTRY_PORTS = {(REGISTRY_PORT, "tcp")}
# Every brick node (the managers): glusterd's management port, and one port
# per brick from the range the role gives glusterd: a brick of each volume
# (WordPress's files, the backups; swarm.yml).
GLUSTERD_PORTS = {(24007, "tcp")}
VOLUMES = ("wordpress", "backups")
FIRST_BRICK_PORT, LAST_BRICK_PORT = load_yaml(PROJECT / "roles" / "gluster_volume" / "defaults" / "main.yml")[
    "gluster_volume_brick_ports"
]
BRICK_PORTS = range(FIRST_BRICK_PORT, LAST_BRICK_PORT + 1)


def listening_beyond_loopback(host) -> set[tuple[int, str]]:
    """(port, protocol) of every listening socket not bound to a loopback
    address (Docker's embedded DNS, 127.0.0.11, is one)."""
    found = set()
    for line in host.check_output("ss -Hlntu").splitlines():
        protocol, _state, _recv, _send, local = line.split()[:5]
        address, _, port = local.rpartition(":")
        address = address.strip("[]").split("%")[0]
        if address not in {"*", ""} and ipaddress.ip_address(address).is_loopback:
            continue
        found.add((int(port), protocol))
    return found


def test_this_node_listens_on_the_allow_listed_ports_only(host):
    is_registry_node = host.backend.host == registry_node_name(host)
    expected = SITE_PORTS | CLUSTER_PORTS | GLUSTERD_PORTS | (REGISTRY_PORTS if is_registry_node else set())
    listening = listening_beyond_loopback(host)
    bricks = {(port, protocol) for port, protocol in listening if protocol == "tcp" and port in BRICK_PORTS}
    assert len(bricks) == len(VOLUMES), (
        f"a brick's port per volume {VOLUMES} in {BRICK_PORTS}: {sorted(bricks)}"
    )
    assert listening - MAYBE_PORTS - bricks == expected
