"""requirements.yml names exactly the collections the pinned ansible bundles."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from tests.support.project import PROJECT, load_yaml


def installed_version(fqcn: str) -> str:
    namespace, name = fqcn.split(".")
    package = importlib.import_module(f"ansible_collections.{namespace}.{name}")
    manifest = Path(package.__path__[0]) / "MANIFEST.json"
    return json.loads(manifest.read_text())["collection_info"]["version"]


def test_requirements_yml_pins_the_bundled_collections():
    wanted = load_yaml(PROJECT / "requirements.yml")["collections"]
    assert {c["name"] for c in wanted} == {
        "community.docker",
        "community.crypto",
        "community.general",
        "ansible.posix",
    }
    assert {c["name"]: installed_version(c["name"]) for c in wanted} == {
        c["name"]: c["version"] for c in wanted
    }


def test_python_toolchain_is_fully_pinned():
    lines = [
        line.strip()
        for line in (PROJECT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines
    assert all("==" in line for line in lines)
    names = {line.split("==")[0].lower() for line in lines}
    for tool in ("ansible", "ansible-core", "molecule", "pytest-testinfra", "docker", "python-vagrant"):
        assert tool in names
