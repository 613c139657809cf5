#!/usr/bin/python3
# Ansible managed
"""Upgrade the site for a new WordPress image with a one-off Swarm job, before
the rolling update that puts the image on the replicas (Swarm mode).

The job is WordPress's running service as deployed (its secrets, mounts,
network, limits and placement beside a Galera member), with the new image and
a command that ends: the image's entrypoint prepares the site as a replica's
would (core files replaced, database upgraded, once, when the image's
WordPress is newer than the site's), then `php-fpm --test` exits. So no
replica of the update does it at its start, and none races another for it.
Prints the job's log; exits 0 once the job completed, 1 if it failed, 2 if
it did not end within the timeout. The job's service is removed either way.

Usage: inception-wordpress-upgrade-job [--timeout S] <service> <image>
"""

from __future__ import annotations

import argparse
import copy
import sys
import time

import docker
from docker.types import EndpointSpec, ServiceMode

# The states a task of a job ends in.
ENDED = {"complete", "failed", "rejected", "shutdown", "orphaned", "remove"}


def job_spec(service_spec: dict, image: str) -> dict:
    """The running service's task template, for a one-off run of the image."""
    template = copy.deepcopy(service_spec["TaskTemplate"])
    container = template["ContainerSpec"]
    container["Image"] = image
    # The entrypoint's set-up, then php-fpm checks its configuration and exits.
    container["Args"] = ["php-fpm8.2", "--test"]
    container.pop("Command", None)
    # No healthcheck for a run that ends, and no second attempt of a failed one.
    container["Healthcheck"] = {"Test": ["NONE"]}
    template["RestartPolicy"] = {"Condition": "none"}
    template.pop("ForceUpdate", None)
    # On the same networks, but not under the service's names: NGINX sends
    # no request to it.
    for network in template.get("Networks", []):
        network.pop("Aliases", None)
    return template


def remove_service(client: docker.DockerClient, name: str) -> None:
    for found in client.api.services(filters={"name": name}):
        if found["Spec"]["Name"] == name:
            client.api.remove_service(found["ID"])


def job_state(client: docker.DockerClient, job_id: str) -> tuple[str, str]:
    """The state of the job's task ("" before it has one) and its error."""
    tasks = client.api.tasks(filters={"service": job_id})
    if not tasks:
        return "", ""
    latest = max(tasks, key=lambda task: task["CreatedAt"])
    return latest["Status"]["State"], latest["Status"].get("Err", "")


def print_log(client: docker.DockerClient, job_id: str) -> None:
    for line in client.api.service_logs(job_id, stdout=True, stderr=True, follow=False):
        sys.stdout.write(line.decode(errors="replace"))
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service", help="WordPress's service, e.g. inception_wordpress")
    parser.add_argument("image", help="the new image, as the nodes pull it")
    parser.add_argument("--timeout", type=int, default=600, help="seconds the job may take (default 600)")
    arguments = parser.parse_args()

    client = docker.from_env()
    service = client.api.inspect_service(arguments.service)
    name = f"{arguments.service}-upgrade"
    # What an interrupted run left behind goes first.
    remove_service(client, name)
    created = client.api.create_service(
        job_spec(service["Spec"], arguments.image),
        name=name,
        labels={"org.inception.upgrade-of": arguments.service},
        mode=ServiceMode("replicated-job", replicas=1, concurrency=1),
        # Found as the service is (DNS round robin where there is no IPVS).
        endpoint_spec=EndpointSpec(mode=service["Spec"].get("EndpointSpec", {}).get("Mode", "vip")),
    )
    job_id = created["ID"]
    print(f"wordpress-upgrade-job: {name} runs {arguments.image}", flush=True)
    try:
        deadline = time.monotonic() + arguments.timeout
        state, error = job_state(client, job_id)
        while state not in ENDED:
            if time.monotonic() > deadline:
                print(
                    f"wordpress-upgrade-job: not done after {arguments.timeout} s (task: {state or 'none'})"
                )
                print_log(client, job_id)
                return 2
            time.sleep(1)
            state, error = job_state(client, job_id)
        print_log(client, job_id)
        if state != "complete":
            print(f"wordpress-upgrade-job: the job ended {state}: {error}")
            return 1
        print("wordpress-upgrade-job: the job completed")
        return 0
    finally:
        client.api.remove_service(job_id)


if __name__ == "__main__":
    sys.exit(main())
