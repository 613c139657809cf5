"""How old an object-cache value a node may serve after another node changed
it: WordPress's object cache keeps a per-node copy in APCu for
INCEPTION_L1_TTL seconds when Redis (shared by every node) holds the truth,
Swarm mode's own, shorter time (inception_swarm_apcu_ttl). The site's title
is changed through WordPress on the first node, and every node's 443 is
asked (uncached pages) until each shows it: measured, and bounded by that
time. Runs once."""

from __future__ import annotations

import time
import uuid

from tests.support.project import SWARM_SETTINGS, load_yaml
from tests.support.site import https_get, wordpress_php
from tests.swarm.nodes import task_container
from tests.swarm.test_cluster import record
from tests.swarm.test_stack import converged_services, node_target

L1_TTL = load_yaml(SWARM_SETTINGS)["inception_swarm_apcu_ttl"]
# A page's own time and the polling's, beyond the TTL.
MARGIN = 5


def test_a_change_on_one_node_reaches_every_node_within_the_apcu_ttl(managers):
    first = managers[0]
    converged_services(first)
    container = task_container(first, "wordpress")
    # The time WordPress runs with on the cluster, from its object cache.
    assert wordpress_php(first, "echo INCEPTION_L1_TTL;", container=container) == str(L1_TTL)
    record("object_cache_apcu_ttl_seconds", L1_TTL)
    title = wordpress_php(first, "echo get_option('blogname');", container=container)
    changed = f"{title} {uuid.uuid4().hex[:8]}"
    # Every node's APCu holds the options first: the worst case.
    for node in managers:
        assert https_get(node_target(node), f"/?warm={uuid.uuid4().hex}").status == 200
    wordpress_php(first, "update_option('blogname', $argv[1]);", changed, container=container)
    started = time.monotonic()
    seen: dict[str, float] = {}
    try:
        while len(seen) < len(managers) and time.monotonic() - started < L1_TTL + 3 * MARGIN:
            for node in managers:
                name = node.backend.host
                if name not in seen:
                    page = https_get(node_target(node), f"/?fresh={uuid.uuid4().hex}").body.decode()
                    if changed in page:
                        seen[name] = time.monotonic() - started
            time.sleep(0.2)
    finally:
        wordpress_php(first, "update_option('blogname', $argv[1]);", title, container=container)
    for name, seconds in seen.items():
        record(f"object_cache_change_seen_on_{name}_seconds", seconds)
    assert sorted(seen) == sorted(node.backend.host for node in managers), seen
    assert max(seen.values()) <= L1_TTL + MARGIN, seen
