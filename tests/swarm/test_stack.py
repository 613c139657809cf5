"""The Inception stack on the swarm (swarm.yml, role swarm_stack): NGINX on
every node serves the site over TLS on that node's own 443 (reached here
through each node's forwarded loopback port, verified with the cluster's
CA), the same site from each, WordPress in replicas spread over the nodes,
every image from the cluster's registry. Runs after the nodes were killed
and started again (test_cluster.py): the stack comes back by itself."""

from __future__ import annotations

import dataclasses
import json
import re
import time

import pytest

from tests.support.project import PROJECT
from tests.support.site import https_get, read_target
from tests.swarm.nodes import (
    galera_status,
    inventory_value,
    member_status,
    member_synced,
    other_host,
    registry_node_name,
    task_container,
)

# The cluster's CA, on the controller (playbooks/vars/swarm.yml).
SWARM_CONTROLLER_DIR = PROJECT / ".inception" / "swarm"
# After a node's restart, its tasks are placed again: minutes at most.
CONVERGE_TIMEOUT = 300
# Every article's title on the home page (the default theme's markup).
ARTICLE_TITLE = re.compile(r'<h2 class="entry-title[^"]*"><a href="[^"]*">([^<]*)</a>')


def node_target(host):
    """This node's site, as the tests' HTTPS helpers reach it: its own
    forwarded port, the cluster's CA."""
    return dataclasses.replace(read_target(host), controller_dir=str(SWARM_CONTROLLER_DIR))


def services(manager) -> dict[str, dict]:
    listed = manager.check_output("docker service ls --format json")
    return {entry["Name"]: entry for entry in map(json.loads, listed.splitlines())}


def running_tasks(manager, service: str) -> list[str]:
    """The nodes where a service's tasks are running."""
    out = manager.check_output(
        "docker service ps --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' %s", service
    )
    return [line.split()[0] for line in out.splitlines() if " Running " in f" {line} "]


@pytest.fixture(scope="module")
def manager(host):
    return other_host(host, registry_node_name(host))


def converged_services(manager) -> dict[str, dict]:
    """Every service at its size (NGINX on each node), waited for."""
    deadline = time.monotonic() + CONVERGE_TIMEOUT
    while True:
        listed = services(manager)
        replicas = {name: entry["Replicas"] for name, entry in listed.items()}
        done = [r.split(" ")[0].split("/") for r in replicas.values()]
        if listed and all(running == wanted for running, wanted in done):
            return listed
        assert time.monotonic() < deadline, f"not converged after {CONVERGE_TIMEOUT} s: {replicas}"
        time.sleep(3)


@pytest.fixture(scope="module")
def converged(manager) -> dict[str, dict]:
    return converged_services(manager)


def home_page(host) -> str:
    """The home page from this node's 443, waited for (its NGINX may be
    starting again after the restarts)."""
    deadline = time.monotonic() + CONVERGE_TIMEOUT
    while True:
        try:
            answer = https_get(node_target(host))
            if answer.status == 200:
                return answer.body.decode()
            seen = f"HTTP {answer.status}"
        except OSError as error:
            seen = str(error)
        assert time.monotonic() < deadline, f"no home page from this node after {CONVERGE_TIMEOUT} s: {seen}"
        time.sleep(2)


def test_every_service_converged_with_its_images_from_the_registry(converged, host):
    registry = f"registry.{inventory_value(host, 'inception_domain')}:5000/inception/"
    assert set(converged) == {
        f"inception_{name}" for name in ("mariadb", "wordpress", "nginx", "redis", "backup")
    }
    assert converged["inception_nginx"]["Mode"] == "global"
    nodes = len(host.ansible.get_variables()["groups"]["swarm_managers"])
    assert converged["inception_nginx"]["Replicas"].split(" ")[0] == f"{nodes}/{nodes}"
    for name, entry in converged.items():
        assert entry["Image"].startswith(registry), (name, entry["Image"])


def test_wordpress_replicas_run_on_different_nodes(converged, manager):
    placed = running_tasks(manager, "inception_wordpress")
    assert len(placed) == 3
    assert len(set(placed)) == 3, placed


def test_wordpress_gets_one_cpu_since_a_node_it_runs_on_has_one(converged, manager):
    """inception-node3 runs on one of this machine's CPUs (its host_vars), so
    its engine counts one and would refuse WordPress's two: every replica
    gets one, and all three run (above)."""
    counted = manager.check_output(
        "docker node inspect --format '{{.Description.Resources.NanoCPUs}}' $(docker node ls --quiet)"
    )
    assert min(map(int, counted.split())) == 10**9, counted
    limit = manager.check_output(
        "docker service inspect --format %s inception_wordpress",
        "{{.Spec.TaskTemplate.Resources.Limits.NanoCPUs}}",
    )
    assert limit == str(10**9)


def test_each_nodes_galera_member_is_synced_in_one_primary_cluster(converged, host):
    """The database on every node: one member each, all in the same
    primary component (a member still joining is waited for)."""
    members = len(host.ansible.get_variables()["groups"]["swarm_managers"])
    deadline = time.monotonic() + CONVERGE_TIMEOUT
    while not member_synced(host, members):
        assert time.monotonic() < deadline, (
            f"this node's member after {CONVERGE_TIMEOUT} s: {galera_status(host)}"
        )
        time.sleep(2)


def test_the_site_answers_over_tls_on_this_nodes_443(converged, host):
    page = home_page(host)
    assert f"<title>{inventory_value(host, 'inception_site_title')}" in page.replace("&#8211;", "-")


def test_every_node_serves_the_same_site(converged, host):
    names = host.ansible.get_variables()["groups"]["swarm_managers"]
    titles = {name: ARTICLE_TITLE.findall(home_page(other_host(host, name))) for name in names}
    assert titles[names[0]], "no article on the home page"
    assert all(found == titles[names[0]] for found in titles.values()), titles


def test_the_stacks_processes_cannot_gain_privileges(converged, host):
    """A stack file has no security_opt: the node's engine gives every
    container no-new-privileges (docker_engine_no_new_privileges)."""
    containers = host.check_output("docker ps -q -f label=com.docker.stack.namespace=inception").split()
    assert containers
    for container in containers:
        pid = host.check_output("docker inspect --format '{{.State.Pid}}' %s", container)
        assert "NoNewPrivs:\t1" in host.file(f"/proc/{pid}/status").content_string, container


# Where a WordPress replica's entrypoint keeps its copy of the database
# password (read at each request; roles/swarm_stack/tasks/rotate.yml).
REPLICA_DB_PASSWORD_FILE = "/run/inception/db_password"
# Requests to each node's NGINX while one replica is refused its database.
REQUESTS_PER_NODE = 30


def refused_logins(nodes) -> int:
    """How many logins the cluster's MariaDB members have refused, all together."""
    counts = [member_status(node, "Access_denied_errors") for node in nodes]
    assert all(counts), counts
    return sum(int(count["Access_denied_errors"]) for count in counts)


def test_a_replica_refused_its_database_is_passed_over(managers):
    """A WordPress replica whose database refuses it answers 500 (as while
    its node's Galera member restarts); every node's NGINX asks another
    replica instead, so readers get the page. The replica is given a wrong
    password (its real one kept aside in its container, never read here);
    the members' count of refused logins shows it was asked."""
    converged_services(managers[0])
    replica = task_container(managers[0], "wordpress")
    kept, wrong = f"{REPLICA_DB_PASSWORD_FILE}.kept", f"{REPLICA_DB_PASSWORD_FILE}.wrong"
    # Made as the role makes it (the container's root may not write a file
    # it cannot read-write): a new file, moved over the old, whose other
    # name keeps it.
    managers[0].check_output(
        "docker exec --user=root %s sh -c %s",
        replica,
        f"umask 0227 && echo not-the-password > {wrong} && chgrp www-data {wrong}"
        f" && ln -f {REPLICA_DB_PASSWORD_FILE} {kept} && mv -f {wrong} {REPLICA_DB_PASSWORD_FILE}",
    )
    refused_before = refused_logins(managers)
    answers: dict[str, list[int]] = {}
    try:
        for node in managers:
            target = node_target(node)
            answers[node.backend.host] = [
                https_get(target, f"/?passed-over={time.monotonic_ns()}").status
                for _ in range(REQUESTS_PER_NODE)
            ]
    finally:
        managers[0].check_output(
            "docker exec --user=root %s mv -f %s %s", replica, kept, REPLICA_DB_PASSWORD_FILE
        )
    refused = refused_logins(managers) - refused_before
    # About a third of the requests reach that replica first (three replicas).
    assert refused >= REQUESTS_PER_NODE // 2, (refused, answers)
    assert all(status == 200 for statuses in answers.values() for status in statuses), answers
    assert https_get(node_target(managers[0]), f"/?passed-over={time.monotonic_ns()}").status == 200


def test_wordpress_reaches_its_own_site_at_its_domain(converged, host):
    """WP-Cron (a post scheduled for later, the weekly Site Health check):
    WordPress asks its own site, at its domain, for wp-cron.php. On the
    stack's network that name is NGINX's (its alias), from this node's
    WordPress replica too."""
    domain = inventory_value(host, "inception_domain")
    probe = (
        "$context = stream_context_create(['ssl' => ['verify_peer' => false, 'verify_peer_name' => false]]);"
        "file_get_contents('https://' . $argv[1] . '/wp-cron.php', false, $context);"
        "echo $http_response_header[0] ?? 'no answer';"
    )
    answer = host.check_output(
        "docker exec %s php -r %s %s", task_container(host, "wordpress"), probe, domain
    )
    assert answer.split()[1:2] == ["200"], answer
