"""scripts/benchmark's own parsing, and its reference stack as a fixture that
stays what it claims to be (see benchmarks/reference-stack/README.md)."""

from __future__ import annotations

import importlib.machinery
import importlib.util

import yaml

from tests.support.project import PROJECT

_LOADER = importlib.machinery.SourceFileLoader("benchmark", str(PROJECT / "scripts" / "benchmark"))
benchmark = importlib.util.module_from_spec(importlib.util.spec_from_loader("benchmark", _LOADER))
_LOADER.exec_module(benchmark)

REFERENCE = PROJECT / "benchmarks" / "reference-stack"


def test_the_assets_of_a_page_are_its_own_sites_once_each_in_order():
    base = "https://site.test:8443"
    page = (
        f'<link rel="stylesheet" href="{base}/wp-includes/style.min.css?ver=6.1" />'
        '<script src="/wp-includes/js/a.js"></script>'
        "<style>@font-face{src:url('/fonts/dm.woff2') format('woff2')}</style>"
        f'<img src="{base}/wp-content/uploads/a.png"><a href="{base}/about/">about</a>'
        '<script src="https://elsewhere.test/b.js"></script>'
        f'<link href="{base}/wp-includes/style.min.css?ver=6.1">'
    )
    assert benchmark.same_origin_assets(page, base) == [
        f"{base}/wp-includes/style.min.css?ver=6.1",
        f"{base}/wp-includes/js/a.js",
        f"{base}/fonts/dm.woff2",
        f"{base}/wp-content/uploads/a.png",
    ]


def test_the_reference_stack_is_debians_untuned():
    """Every image from debian:bookworm, three services, no limit, no cache:
    the yardstick, not a second product."""
    compose = yaml.safe_load((REFERENCE / "docker-compose.yml").read_text())
    assert sorted(compose["services"]) == ["mariadb", "nginx", "wordpress"]
    for name, service in compose["services"].items():
        dockerfile = (REFERENCE / service["build"] / "Dockerfile").read_text()
        assert {line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM ")} == {
            "debian:bookworm"
        }, name
        assert not {"mem_limit", "cpus", "pids_limit", "deploy"} & set(service), name
    assert compose["services"]["nginx"]["ports"] == ["127.0.0.1:8443:443"]
    conf = (REFERENCE / "nginx" / "reference.conf").read_text()
    assert "cache" not in conf
    assert "http2" not in conf
