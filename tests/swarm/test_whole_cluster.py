"""The whole cluster stopped (every node's container, with a clean shutdown),
then killed (no shutdown at all), and each time started again: it comes back
by itself, with nobody's help, the site on every node with the posts written
before. The Galera pitfall: no member may simply start the database again,
and the one whose data goes furthest founds it (after a kill, each reads its
position from InnoDB). Runs once, after the per-node tests (the file's name
sorts last)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.support.site import https_get, write_post
from tests.swarm.nodes import files_mount, member_holds_post, member_synced, task_container
from tests.swarm.test_cluster import BACK_WITHIN, docker_here, nodes_seen_from, record, wait_for
from tests.swarm.test_registry import REGISTRY_PORT, ask_registry, registry_name
from tests.swarm.test_stack import CONVERGE_TIMEOUT, node_target


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_the_whole_cluster_stopped_and_started_comes_back_by_itself(managers, how):
    nodes = managers
    # The clean stop's numbers keep their names; the kill's are apart.
    timing = "whole_cluster" if how == "stop" else "whole_cluster_killed"
    names = sorted(node.backend.host for node in nodes)
    mark = uuid.uuid4().hex[:8]
    marker = f"{files_mount(nodes[0])}/whole-cluster-{mark}.txt"
    assert nodes[0].run("echo written-before-the-stop > %s", marker).rc == 0
    post = write_post(
        nodes[0],
        f"Written before the whole cluster stopped {mark}",
        "whole cluster",
        container=task_container(nodes[0], "wordpress"),
    )

    docker_here(how, *names)
    docker_here("start", *names)
    started = time.monotonic()

    def swarm_back() -> bool:
        for node in nodes:
            seen = nodes_seen_from(node)
            if seen is None or sorted(seen) != names or {row["Status"] for row in seen.values()} != {"Ready"}:
                return False
            if [row["ManagerStatus"] for row in seen.values()].count("Leader") != 1:
                return False
        return True

    record(f"{timing}_swarm_back_seconds", wait_for("every node ready, one leader", BACK_WITHIN, swarm_back))
    # Each node mounted the files at boot, though no brick was up before it.
    for node in nodes:
        name = node.backend.host
        assert node.mount_point(files_mount(node)).exists, f"{name} did not mount the files at boot"
        assert node.mount_point(files_mount(node)).filesystem == "fuse.glusterfs", name
        assert node.file(marker).content_string == "written-before-the-stop\n", name
    record(f"{timing}_files_back_seconds", time.monotonic() - started)

    def registry_back() -> bool:
        engines = f"/etc/docker/certs.d/{registry_name(nodes[0])}:{REGISTRY_PORT}"
        answers = [
            ask_registry(node, f"{engines}/ca.crt", registry_name(node), f"{engines}/client")
            for node in nodes
        ]
        return all(answer.endswith("HTTP/1.1 200 OK") for answer in answers)

    record(f"{timing}_registry_back_seconds", wait_for("the registry answering", BACK_WITHIN, registry_back))

    # The site on every node's 443, with the post written before the stop.
    def post_everywhere() -> bool:
        for node in nodes:
            try:
                answer = https_get(node_target(node), f"/?p={post}")
            except OSError:
                return False
            if answer.status != 200 or mark not in answer.body.decode():
                return False
        return True

    record(
        f"{timing}_site_back_seconds",
        wait_for("the post on every node", CONVERGE_TIMEOUT, post_everywhere),
    )

    # One database again: every member Synced in one primary cluster (NGINX
    # may have served the post from another node's replica while a member
    # still received its copy), each holding the post.
    def members_synced() -> bool:
        return all(member_synced(node, len(nodes)) for node in nodes)

    record(
        f"{timing}_database_synced_seconds", wait_for("every member Synced", CONVERGE_TIMEOUT, members_synced)
    )
    for node in nodes:
        assert member_holds_post(node, post), node.backend.host
    assert nodes[0].run("rm %s", marker).rc == 0
