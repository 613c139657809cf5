"""The project's paths, and its services as the stack role has them (never a
list of the tests' own)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import yaml

PROJECT = Path(__file__).resolve().parents[2]
# Measurements and screenshots the suites leave for people to read.
ARTIFACTS = PROJECT / "artifacts"
ROLES = sorted(p for p in (PROJECT / "roles").iterdir() if (p / "tasks" / "main.yml").exists())
STACK = PROJECT / "roles" / "inception_stack"
# Swarm mode's settings derived from the inventory (swarm.yml reads them).
SWARM_SETTINGS = PROJECT / "playbooks" / "vars" / "swarm.yml"


def load_source(name: str, path: Path) -> ModuleType:
    """A Python file of the project as a module (scripts have no .py suffix),
    registered in sys.modules, where dataclasses look their module up."""
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text()) if path.exists() else None


def _bonus_declared() -> tuple[str, ...]:
    spec = load_yaml(STACK / "meta" / "argument_specs.yml")
    return tuple(spec["argument_specs"]["main"]["options"]["inception_stack_bonus"]["options"])


# The subject's three, the database first (test_tree_layout proves they are
# the role's folders under srcs/requirements/).
SERVICES = ("mariadb", "wordpress", "nginx")
# Every bonus service the role declares, the opt-in Portainer included.
BONUS_SERVICES = _bonus_declared()
# Every bonus service on: the setting the template tests render with.
ALL_BONUS = dict.fromkeys(BONUS_SERVICES, True)
