"""What the swarm tier's tests read from the nodes' inventory."""

from __future__ import annotations

import jinja2
import testinfra

# WordPress's database (the roles' default; swarm.yml keeps it).
DATABASE = "wordpress"


def inventory_value(host, name: str) -> str:
    """An inventory variable as Ansible renders it (testinfra gives the raw
    text, e.g. "{{ inception_login }}.42.fr")."""
    variables = host.ansible.get_variables()
    value = str(variables[name])
    while "{{" in value:
        value = jinja2.Template(value).render(variables)
    return value


def files_mount(host) -> str:
    """Where every node mounts the replicated WordPress files (swarm.yml)."""
    return f"/home/{inventory_value(host, 'inception_login')}/data/wordpress"


def files_brick(host) -> str:
    """This node's brick of that volume."""
    return f"/home/{inventory_value(host, 'inception_login')}/data/gluster/wordpress"


def other_host(host, name: str):
    """Another node of the same inventory, by its inventory name."""
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=host.backend.ansible_inventory)


def task_container(node, service: str) -> str:
    """The container of one of the stack's tasks on that node (service: its
    name in the stack file)."""
    found = node.check_output("docker ps -q -f label=com.docker.swarm.service.name=inception_%s", service)
    assert found, f"no {service} task on {node.backend.host}"
    return found.splitlines()[0]


def registry_node_name(host) -> str:
    """The node that runs the cluster's registry: the first manager
    (playbooks/vars/swarm.yml)."""
    return host.ansible.get_variables()["groups"]["swarm_managers"][0]


def node_running(nodes, service: str):
    """The node, of those, where a task of that service runs (one that runs once)."""
    for node in nodes:
        if node.check_output("docker ps -q -f label=com.docker.swarm.service.name=inception_%s", service):
            return node
    raise AssertionError(f"no {service} task on {[node.backend.host for node in nodes]}")


def member_status(node, *names: str) -> dict[str, str]:
    """Those of this node's Galera member's global status values (asked over
    its socket as root, inside its container); empty when it does not answer."""
    listed = ", ".join(f"'{name}'" for name in names)
    answer = node.run(
        "docker exec %s mariadb --batch --skip-column-names -e %s",
        task_container(node, "mariadb"),
        f"SHOW GLOBAL STATUS WHERE Variable_name IN ({listed})",
    )
    if answer.rc != 0:
        return {}
    return dict(line.split("\t", 1) for line in answer.stdout.splitlines() if "\t" in line)


def galera_status(node) -> dict[str, str]:
    """This node's Galera member, as it sees itself: wsrep_cluster_size,
    wsrep_cluster_status, wsrep_local_state_comment, wsrep_ready."""
    return member_status(
        node, "wsrep_cluster_size", "wsrep_cluster_status", "wsrep_local_state_comment", "wsrep_ready"
    )


def member_synced(node, members: int) -> bool:
    """Whether this node's Galera member is a Synced, ready member of the
    primary component, in a cluster of that many (False while its task is
    not started yet)."""
    try:
        status = galera_status(node)
    except AssertionError:
        return False
    return status == {
        "wsrep_cluster_size": str(members),
        "wsrep_cluster_status": "Primary",
        "wsrep_local_state_comment": "Synced",
        "wsrep_ready": "ON",
    }


def member_holds_post(node, post: int) -> bool:
    """Whether this node's Galera member holds that post (its own copy of the database)."""
    answer = node.run(
        "docker exec %s mariadb --batch --skip-column-names %s -e %s",
        task_container(node, "mariadb"),
        DATABASE,
        f"SELECT COUNT(*) FROM wp_posts WHERE ID = {int(post)}",
    )
    return answer.rc == 0 and answer.stdout.strip() == "1"
