"""The rendered tree's plan, found on disk: which file goes where, with which
mode, into which service's image.

The role keeps its sources at the path they take in the tree: files that use
variables under ``templates/`` (with ``.j2``), the others under ``files/``.
Files under ``shared/`` go into the folder of every service that has an
entrypoint (``tools/docker-entrypoint.sh``), at the same path below it: each
image builds from its own folder and cannot reach a common one. Nothing lists
them by hand: this filter reads what ``community.general.filetree`` found in
the three folders and decides, in one place, what the task writing the tree
needs.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from ansible.errors import AnsibleFilterError

REQUIREMENTS = ("srcs", "requirements")
BONUS = "bonus"
EXECUTABLE = 0o111
ENTRYPOINT = PurePosixPath("tools", "docker-entrypoint.sh")


def _service_folder(path: PurePosixPath) -> PurePosixPath | None:
    """The folder of ``srcs/requirements/`` (or of ``srcs/requirements/bonus/``)
    that holds ``path``, or None for a path outside every such folder."""
    parts = path.parts
    if parts[:2] != REQUIREMENTS or len(parts) < 4:
        return None
    depth = 4 if parts[2] == BONUS else 3
    return PurePosixPath(*parts[:depth]) if len(parts) > depth else None


def _services_on_disk(paths: list[PurePosixPath]) -> set[PurePosixPath]:
    """The service folders: those that hold a Dockerfile directly."""
    return {
        path.parent for path in paths if path.name == "Dockerfile" and path.parent == _service_folder(path)
    }


def _service_of(path: PurePosixPath, services: set[PurePosixPath]) -> tuple[str, bool]:
    """The service whose image a path goes into ("" for none), and whether it
    is a bonus service."""
    folder = _service_folder(path)
    if folder not in services:
        return "", False
    return folder.name, folder.parts[2] == BONUS


def _mode(entry: dict) -> str:
    return "0755" if int(str(entry["mode"]), 8) & EXECUTABLE else "0644"


def _role_sources(templates: list[dict], files: list[dict]) -> dict[PurePosixPath, tuple[dict, bool]]:
    """Every file of the tree, by its path there: its listing entry, and
    whether it is a template."""
    sources: dict[PurePosixPath, tuple[dict, bool]] = {}
    for listing, templated in ((templates, True), (files, False)):
        for entry in listing:
            if entry.get("state") != "file":
                continue
            src = PurePosixPath(entry["path"])
            if templated and src.suffix != ".j2":
                raise AnsibleFilterError(f"templates/{src}: a template's name ends with .j2")
            path = src.with_suffix("") if templated else src
            if path in sources:
                raise AnsibleFilterError(f"{path}: found both under templates/ and files/; keep one")
            sources[path] = (entry, templated)
    return sources


def _add_shared(sources: dict, services: set[PurePosixPath], shared: list[dict]) -> None:
    """The shared files, copied into the folder of each service with an
    entrypoint; their source is given by its absolute path."""
    with_entrypoint = [folder for folder in sorted(services) if folder / ENTRYPOINT in sources]
    for entry in (e for e in shared if e.get("state") == "file"):
        for folder in with_entrypoint:
            path = folder / entry["path"]
            if path in sources:
                raise AnsibleFilterError(
                    f"{path}: found both under files/ or templates/ and shared/; keep one"
                )
            sources[path] = ({**entry, "path": f"{entry['root']}/{entry['path']}"}, False)


def inception_tree_layout(
    templates: list[dict], files: list[dict], bonus_on: list[str], shared: list[dict] | None = None
) -> dict:
    """Plan the tree from the ``community.general.filetree`` listings of the
    role's ``templates/``, ``files/`` and ``shared/``.

    ``bonus_on`` names the bonus services switched on: the sources of the
    others are left out. Returns ``folders`` (every folder, parents first),
    ``templated`` and ``static`` (each a list of ``path`` in the tree, ``src``
    relative to the role's ``templates/`` or ``files/``, or the absolute path of
    a ``shared/`` file, ``mode``, ``service``),
    ``services`` (every service on disk whose sources are in the tree) and
    ``bonus_on_disk`` (every bonus service the role has sources for).
    """
    sources = _role_sources(templates, files)
    services = _services_on_disk(list(sources))
    _add_shared(sources, services, shared or [])
    bonus_on_disk = sorted(folder.name for folder in services if folder.parts[2] == BONUS)
    unknown = sorted(set(bonus_on) - set(bonus_on_disk))
    if unknown:
        raise AnsibleFilterError(f"bonus services switched on but not in the role: {', '.join(unknown)}")

    plan: dict = {"folders": set(), "templated": [], "static": [], "services": set()}
    for path in sorted(sources):
        entry, templated = sources[path]
        service, bonus = _service_of(path, services)
        if bonus and service not in bonus_on:
            continue
        plan["folders"].update(str(parent) for parent in path.parents if str(parent) != ".")
        if service:
            plan["services"].add(service)
        plan["templated" if templated else "static"].append(
            {"path": str(path), "src": entry["path"], "mode": _mode(entry), "service": service}
        )
    # Parents sort before their children; sets become lists for YAML and JSON.
    plan["folders"] = sorted(plan["folders"])
    plan["services"] = sorted(plan["services"])
    plan["bonus_on_disk"] = bonus_on_disk
    return plan


class FilterModule:
    def filters(self):
        return {"inception_tree_layout": inception_tree_layout}
