"""WordPress's files in Swarm mode (swarm.yml, role gluster_volume): one
GlusterFS volume, a brick on each manager, mounted on every node. Runs once
per node; test_cluster.py's kill test covers a node away and back."""

from __future__ import annotations

import uuid

from tests.swarm.nodes import files_brick, files_mount, other_host


def test_a_file_written_here_is_on_every_node_and_every_brick(host):
    mount = host.mount_point(files_mount(host))
    assert mount.exists
    assert mount.filesystem == "fuse.glusterfs"
    name = f"from-{host.backend.host}-{uuid.uuid4().hex[:8]}.txt"
    assert host.run("echo %s > %s/%s", name, files_mount(host), name).rc == 0
    try:
        for node_name in host.ansible.get_variables()["groups"]["swarm_managers"]:
            node = other_host(host, node_name)
            assert node.file(f"{files_mount(node)}/{name}").content_string == f"{name}\n", node_name
            assert node.file(f"{files_brick(node)}/{name}").exists, node_name
    finally:
        host.run("rm -f %s/%s", files_mount(host), name)
