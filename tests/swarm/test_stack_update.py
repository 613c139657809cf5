"""A new WordPress image under HTTPS load on every node's 443: a one-off
job upgrades the site first (inception-wordpress-upgrade-job, which the role
runs before a deploy with a new image), then a rolling update puts the image
on the replicas one at a time (the stack file's update_config), NGINX sending
the requests to the others meanwhile, and no request sent during the update
gets anything but a 2xx. The new image's WordPress is the site's with a
higher version number, so the job has core files to replace; no replica of
the update replaces any. The site and the service (its whole spec) are put
back afterwards.
Runs once, after the failover (the file's name sorts after it)."""

from __future__ import annotations

import json
import re
import time
import uuid

from tests.swarm.load import Load
from tests.swarm.nodes import files_mount
from tests.swarm.test_cluster import record
from tests.swarm.test_stack import converged_services, node_target, running_tasks

SERVICE = "inception_wordpress"
UPDATE_TIMEOUT = 600
VERSION_FILE = "wp-includes/version.php"
UPGRADE_JOB = "/usr/local/sbin/inception-wordpress-upgrade-job"
# The same WordPress, one version number up: the image's copy of version.php.
NEWER_DOCKERFILE = """FROM {base}
LABEL org.inception.rolling-test={tag}
RUN sed -i "s/^\\$wp_version = '[^']*';/\\$wp_version = '{version}';/" /usr/src/wordpress/{file}
"""


def service_spec(manager) -> dict:
    """The service's spec, its mounts in one order: `docker service update`
    sorts them by target, `docker stack deploy` keeps the stack file's."""
    spec = json.loads(manager.check_output("docker service inspect --format '{{json .Spec}}' %s", SERVICE))
    container = spec["TaskTemplate"]["ContainerSpec"]
    container["Mounts"] = sorted(container.get("Mounts", []), key=lambda mount: mount["Target"])
    return spec


def update_service(manager, *options: str) -> float:
    """`docker service update` with those options, waited for; its seconds."""
    started = time.monotonic()
    updated = manager.run(
        "timeout %s docker service update --detach=false --quiet" + " %s" * len(options) + " %s",
        str(UPDATE_TIMEOUT),
        *options,
        SERVICE,
    )
    assert updated.rc == 0, updated.stderr
    return time.monotonic() - started


def put_back(manager, spec: dict) -> float:
    """The service back on the image of that spec: every replica at once
    (no load runs any more; the stack file's one at a time, 10 s of watch
    each, took as long as the rolling update, ~60 s), then the spec's own
    update settings, which replace no task. Its seconds."""
    update = spec["UpdateConfig"]
    return update_service(
        manager,
        "--update-parallelism=0",
        "--update-monitor=1s",
        f"--image={spec['TaskTemplate']['ContainerSpec']['Image']}",
    ) + update_service(
        manager, f"--update-parallelism={update['Parallelism']}", f"--update-monitor={update['Monitor']}ns"
    )


def site_version(manager) -> str:
    text = manager.file(f"{files_mount(manager)}/{VERSION_FILE}").content_string
    return re.search(r"^\$wp_version = '([^']*)';", text, re.MULTILINE)[1]


def test_a_new_image_upgrades_the_site_in_a_job_then_rolls_out_under_load_answering_every_request(managers):
    manager = managers[0]
    converged_services(manager)
    spec = service_spec(manager)
    original = spec["TaskTemplate"]["ContainerSpec"]["Image"]
    base = original.split("@")[0]
    repository = base.rsplit(":", 1)[0]
    tag = f"rolling-{uuid.uuid4().hex[:8]}"
    newer = f"{repository}:{tag}"
    before = site_version(manager)
    version = f"{before}.1"
    built = manager.run(
        "printf '%%s' %s | docker build --quiet --tag %s - && docker push --quiet %s",
        NEWER_DOCKERFILE.format(base=base, tag=tag, version=version, file=VERSION_FILE),
        newer,
        newer,
    )
    assert built.rc == 0, built.stderr

    try:
        with Load([node_target(node) for node in managers]) as load:
            time.sleep(3)
            job_started = time.monotonic()
            job = manager.run("%s %s %s", UPGRADE_JOB, SERVICE, newer)
            update_started = time.monotonic()
            update_since = manager.check_output("date -u +%s", "%Y-%m-%dT%H:%M:%SZ")
            record("upgrade_job_seconds", update_started - job_started)
            record("rolling_update_seconds", update_service(manager, f"--image={newer}"))
            time.sleep(3)

        assert job.rc == 0, job.stdout + job.stderr
        # The job replaced the core files and upgraded what there was to upgrade.
        assert f"replacing WordPress {before}'s core files with {version}'s" in job.stdout, job.stdout
        assert site_version(manager) == version
        assert manager.check_output("docker service ls -q --filter name=%s-upgrade", SERVICE) == ""
        # The replicas found the site upgraded: none of them replaced anything.
        replicas = manager.check_output("docker service logs --since %s %s 2>&1", update_since, SERVICE)
        assert "replacing WordPress" not in replicas, replicas[-2000:]

        # The job rewrites the core files under the old replicas (they keep
        # serving): what that cost is reported; the update must cost nothing.
        during_job = [a for a in load.failed() if a.at < update_started]
        record("upgrade_job_failed_requests", len(during_job))
        record("rolling_update_requests", len([a for a in load.answers if a.at >= update_started]))
        record(
            "rolling_update_slowest_answer_seconds",
            max(a.seconds for a in load.answers if a.at >= update_started),
        )
        assert load.answers, "no request was sent"
        assert load.failed(after=update_started) == [], load.failed(after=update_started)[:5]
        assert service_spec(manager)["TaskTemplate"]["ContainerSpec"]["Image"].startswith(newer + "@")
        assert len(running_tasks(manager, SERVICE)) == 3
    finally:
        # Back to the site's version and its image (an older image never starts
        # on a newer site).
        restored = manager.run(
            "docker run --rm --entrypoint cat %s /usr/src/wordpress/%s > %s/%s",
            base,
            VERSION_FILE,
            files_mount(manager),
            VERSION_FILE,
        )
        assert restored.rc == 0, restored.stderr
        record("put_back_seconds", put_back(manager, spec))
    assert service_spec(manager) == spec
    assert site_version(manager) == before
