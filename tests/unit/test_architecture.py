"""docs/ARCHITECTURE.md's picture stays true: the roles and the services it
names are the ones that exist, and the SVG was rendered from its source."""

from __future__ import annotations

import re

from tests.support.ansible_run import plan
from tests.support.project import BONUS_SERVICES, PROJECT, ROLES, STACK

SOURCE = PROJECT / "docs" / "architecture.dot"
PICTURE = PROJECT / "docs" / "architecture.svg"


def nodes(prefix: str) -> set[str]:
    declared = re.findall(r"^\s*([a-z_]+)\s*\[label=", SOURCE.read_text(), re.M)
    return {name.removeprefix(prefix) for name in declared if name.startswith(prefix)}


def test_the_picture_names_every_role_and_only_those():
    assert nodes("role_") == {role.name for role in ROLES}


def test_the_picture_names_every_service_and_only_those():
    assert nodes("svc_") == set(plan(STACK, list(BONUS_SERVICES))["services"])


def test_the_svg_was_rendered_from_the_source():
    # Graphviz writes each node's name as its title: a node added to the source
    # but not rendered (or removed) shows here.
    titles = set(re.findall(r"<title>([^<]+)</title>", PICTURE.read_text()))
    declared = set(re.findall(r"^\s*([a-z_]+)\s*\[label=", SOURCE.read_text(), re.M))
    assert declared <= titles
    graph_and_clusters = {t for t in titles if t == "inception" or t.startswith("cluster_")}
    assert {t for t in titles if re.fullmatch(r"[a-z_]+", t)} - graph_and_clusters == declared
    assert "architecture.svg" in (PROJECT / "docs" / "ARCHITECTURE.md").read_text()
