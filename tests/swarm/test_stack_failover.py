"""A node of the stack killed under HTTPS load (its container, from this
machine, no shutdown): the other nodes' 443 answer every request sent 10 s
or more after the kill; a post and an upload are written meanwhile; the node
back catches up with both, and the swarm and the stack are whole again.
Runs once, after test_stack.py.

The node killed is the last manager, with its Galera member and its
WordPress replica: the two other members keep the database's quorum. Redis
and the registry run on the first (README, "Swarm mode")."""

from __future__ import annotations

import json
import time
import uuid

from tests.support.site import https_get, wordpress_php, write_post
from tests.swarm.load import Load
from tests.swarm.nodes import files_mount, member_holds_post, member_synced, task_container
from tests.swarm.test_cluster import BACK_WITHIN, docker_here, nodes_seen_from, record, wait_for
from tests.swarm.test_stack import CONVERGE_TIMEOUT, converged_services, node_target

# The bound: survivors answer every request sent this long after the kill.
FAILOVER_WITHIN = 10
# How long the load runs after the kill: past Swarm's noticing a dead leader (22-31 s).
LOADED_FOR = 40
# An upload through WordPress's own function; prints the attachment's ID and file.
UPLOAD = """
$bits = wp_upload_bits($argv[1], null, $argv[2]);
if ($bits['error']) { fwrite(STDERR, $bits['error']); exit(1); }
$id = wp_insert_attachment(['post_mime_type' => 'text/plain', 'post_title' => $argv[1],
    'post_status' => 'inherit'], $bits['file']);
echo json_encode(['id' => $id, 'file' => $bits['file']]);
"""


def test_a_killed_node_leaves_every_request_answered_within_10_s_and_catches_up(managers):
    first, victim = managers[0], managers[-1]
    converged_services(first)
    survivors = [node_target(node) for node in managers[:-1]]
    mark = uuid.uuid4().hex[:8]

    with Load(survivors) as load:
        time.sleep(5)
        # Taken as the command starts: a request the kill cuts (an answer
        # half sent, from the victim's replica) can end before it returns.
        killed = time.monotonic()
        docker_here("kill", victim.backend.host)
        # Written during the outage, through WordPress on the first node.
        container = task_container(first, "wordpress")
        post = write_post(first, f"Written while a node was down {mark}", "failover", container=container)
        content = f"uploaded while a node was down {mark}\n"
        upload = json.loads(
            wordpress_php(first, UPLOAD, f"failover-{mark}.txt", content, container=container)
        )
        time.sleep(max(0.0, LOADED_FOR - (time.monotonic() - killed)))

    # Back at once, whatever the load shows: the tests after this one need it.
    docker_here("start", victim.backend.host)

    before = [a for a in load.answers if a.at < killed]
    after = [a for a in load.answers if a.at >= killed + FAILOVER_WITHIN]
    # The kill's casualties: requests sent inside the 10 s, and those in
    # flight when it came (NGINX waits on a dead node's php-fpm, which sends
    # no reset, until its read timeout; or an answer already under way is
    # cut short).
    failed_in_window = [
        a for a in load.failed() if a.at < killed + FAILOVER_WITHIN and a.at + a.seconds >= killed
    ]
    record("failover_requests_before_kill", len(before))
    record("failover_requests_after_kill", len(load.answers) - len(before))
    record("failover_failures_within_10s", len(failed_in_window))
    record("failover_longest_gap_seconds", load.longest_gap(killed))
    record("failover_slowest_answer_seconds", max(a.seconds for a in load.answers if a.at >= killed))
    assert before, "no request answered before the kill"
    assert load.failed() == failed_in_window, "failures outside the window: " + repr(load.failed()[:5])
    assert after, "no request sent after the failover window"

    started = time.monotonic()
    names = sorted(node.backend.host for node in managers)

    def all_ready() -> bool:
        seen = nodes_seen_from(first)
        return (
            seen is not None and sorted(seen) == names and {r["Status"] for r in seen.values()} == {"Ready"}
        )

    record("failover_node_ready_seconds", wait_for("every node ready again", BACK_WITHIN, all_ready))
    converged_services(first)
    record("failover_stack_whole_seconds", time.monotonic() - started)

    # The node back serves the post written while it was away, and holds the upload.
    target = node_target(victim)

    def post_served() -> bool:
        try:
            answer = https_get(target, f"/?p={post}")
        except OSError:
            return False
        return answer.status == 200 and mark in answer.body.decode()

    record(
        "failover_post_served_seconds", wait_for("the post from the node back", CONVERGE_TIMEOUT, post_served)
    )
    # Its Galera member caught up: Synced again (NGINX may have served the
    # post from another node's replica meanwhile), the post in its own copy.
    record(
        "failover_database_back_seconds",
        wait_for(
            "the node's Galera member Synced", CONVERGE_TIMEOUT, lambda: member_synced(victim, len(managers))
        ),
    )
    assert member_holds_post(victim, post)
    uploaded = upload["file"].replace("/var/www/html", files_mount(victim), 1)
    assert victim.file(uploaded).content_string == f"uploaded while a node was down {mark}\n"
