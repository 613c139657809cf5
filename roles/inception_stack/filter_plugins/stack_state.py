"""What the stack's state on the target asks of a run, decided in one place.

The role reads the state with maintained modules where they cost the warm run
little (community.docker.docker_image_info), and with one `docker compose ps`
where the module would cost it much (docker_compose_v2 with wait: +2 s of a
9 s run, measured). These filters turn those answers into decisions.
"""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError


def inception_images_to_build(
    layout: dict, written: list[str], images: list[dict], tag: str, also_changed: list[str]
) -> list[str]:
    """The services whose image must be built: those missing under ``tag``,
    those with a file among ``written`` (the tree's files written this run),
    those whose last upgrade failed and was put back (upgrade.sh keeps the
    new image as ``<tag>-failed-upgrade``: built again, it is tried again),
    and ``also_changed`` (services changed by other means). Sorted, once each.
    """
    sources = layout["templated"] + layout["static"]
    written_set = set(written)
    changed = {entry["service"] for entry in sources if entry["path"] in written_set and entry["service"]}
    present = {
        repo_tag.rpartition(":")[0]
        for image in images
        for repo_tag in image.get("RepoTags") or []
        if repo_tag.endswith(f":{tag}")
    }
    failed_upgrade = {
        repo_tag.rpartition(":")[0]
        for image in images
        for repo_tag in image.get("RepoTags") or []
        if repo_tag.endswith(f":{tag}-failed-upgrade")
    }
    missing = set(layout["services"]) - present
    return sorted(changed | missing | (failed_upgrade & set(layout["services"])) | set(also_changed))


def _containers(compose_ps_stdout: str) -> list[dict]:
    """`docker compose ps --format json` prints one JSON object a line
    (Compose >= 2.21) or one array (before)."""
    text = compose_ps_stdout.strip()
    if not text:
        return []
    try:
        if text.startswith("["):
            return json.loads(text)
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as error:
        raise AnsibleFilterError(f"docker compose ps printed something that is not JSON: {error}") from error


def inception_stack_is_up(compose_ps_stdout: str, services: list[str]) -> bool:
    """True when exactly ``services`` have a container, each running and
    healthy: then nothing needs `docker compose up`."""
    containers = _containers(compose_ps_stdout)
    if sorted(container.get("Service") for container in containers) != sorted(services):
        return False
    return all(c.get("State") == "running" and c.get("Health") == "healthy" for c in containers)


class FilterModule:
    def filters(self):
        return {
            "inception_images_to_build": inception_images_to_build,
            "inception_stack_is_up": inception_stack_is_up,
        }
