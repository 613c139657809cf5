"""A rolling update of WordPress's image under HTTPS load on every node's
443: Swarm replaces one replica at a time (the stack file's update_config),
NGINX sends the requests to the others meanwhile, and no request gets
anything but a 2xx. The service is put back on its image afterwards. Runs
once, after the failover (the file's name sorts after it)."""

from __future__ import annotations

import time
import uuid

from tests.swarm.load import Load
from tests.swarm.test_cluster import record
from tests.swarm.test_stack import converged_services, node_target, running_tasks

SERVICE = "inception_wordpress"
UPDATE_TIMEOUT = 600


def service_image(manager) -> str:
    return manager.check_output(
        "docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' %s", SERVICE
    )


def update_image(manager, image: str) -> float:
    """`docker service update --image`, waited for; its seconds."""
    started = time.monotonic()
    updated = manager.run(
        "timeout %s docker service update --detach=false --quiet --image %s %s",
        str(UPDATE_TIMEOUT),
        image,
        SERVICE,
    )
    assert updated.rc == 0, updated.stderr
    return time.monotonic() - started


def test_a_rolling_update_of_wordpress_under_load_answers_every_request(managers):
    manager = managers[0]
    converged_services(manager)
    original = service_image(manager)
    repository = original.split("@")[0].rsplit(":", 1)[0]
    newer = f"{repository}:rolling-{uuid.uuid4().hex[:8]}"
    # A new image of the same WordPress: another label, so another image ID.
    built = manager.run(
        "printf 'FROM %s\\nLABEL org.inception.rolling-test=%s\\n' | docker build --quiet --tag %s - "
        "&& docker push --quiet %s",
        original.split("@")[0],
        newer,
        newer,
        newer,
    )
    assert built.rc == 0, built.stderr

    with Load([node_target(node) for node in managers]) as load:
        time.sleep(3)
        record("rolling_update_seconds", update_image(manager, newer))
        time.sleep(3)

    record("rolling_update_requests", len(load.answers))
    record("rolling_update_slowest_answer_seconds", max(a.seconds for a in load.answers))
    assert load.answers, "no request was sent"
    assert load.failed() == [], load.failed()[:5]
    assert service_image(manager).startswith(newer + "@")
    assert len(running_tasks(manager, SERVICE)) == 3

    update_image(manager, original)
    assert service_image(manager) == original
