"""What the swarm tier's tests read from the nodes' inventory."""

from __future__ import annotations

import jinja2
import testinfra


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
