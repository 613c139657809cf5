"""scripts/benchmark's own parsing, and its reference stack as a fixture that
stays what it claims to be (see benchmarks/reference-stack/README.md)."""

from __future__ import annotations

import yaml

from tests.support.project import PROJECT, load_source

benchmark = load_source("benchmark", PROJECT / "scripts" / "benchmark")

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


def _wrk(rps: float, p50: float) -> dict:
    return {
        "connections": 8,
        "requests_per_s": rps,
        "p50_ms": p50,
        "p99_ms": p50 * 2,
        "non_2xx": 0,
        "socket_errors": 0,
    }


def _h2load(rps: float, protocol: str) -> dict:
    return {
        "clients": 64,
        "urls": 7,
        "protocol": protocol,
        "requests_per_s": rps,
        "pages_per_s": rps / 7,
        "mean_ms": 50.0,
        "failed": 0,
        "non_2xx": 0,
    }


WRK_CASES = ("a_static_64", "b_uncached_8", "b_uncached_1", "c_served_64")


def test_the_report_gives_each_case_as_a_ratio_to_the_reference():
    """markdown() and svg_plot() on a result shaped as the benchmark writes it."""
    ours = {name: _wrk(rps, 10.0) for name, rps in zip(WRK_CASES, (7000, 80, 40, 6300), strict=True)}
    reference = {name: _wrk(rps, 20.0) for name, rps in zip(WRK_CASES, (7000, 40, 20, 35), strict=True)}
    ours["d_page_and_assets_64"] = _h2load(3500, "h2")
    reference["d_page_and_assets_64"] = _h2load(350, "http/1.1")
    names = [*benchmark.SERVICES, "debian", *(f"reference-{n}" for n in benchmark.REFERENCE_SERVICES)]
    images = {name: {"size_mib": 100.0, "shared_mib": 70.0, "unique_mib": 30.0} for name in names}
    serving = {
        "ours": ours,
        "reference": reference,
        "ours_http1": {"d_page_and_assets_64": _h2load(3000, "http/1.1")},
        "page_bytes": 27000,
    }
    result = {
        "provisioning": {"cold_s": 100, "warm_s": 10, "warm_changed": 0},
        "serving": serving,
        "footprint": {"images": images, "together_mib": 160.0, "reference_together_mib": 320.0},
        "idle_memory": {**dict.fromkeys(benchmark.SERVICES, 40.0), "total": 120.0, "reference_total": 150.0},
        "rebuild": {"changed_s": 4.0, "reverted_s": 4.0},
        "reference_up_s": 50,
    }
    report = benchmark.markdown(result)
    assert "| (c) as served, 64 |" in report
    assert "| 180.00 x req/s |" in report
    assert "| 2.00 x req/s |" in report  # the uncached page, 80 against 40
    assert "HTTP/2 / HTTP/1.1: 1.17 x req/s" in report
    assert "0.50 x (lower is smaller)" in report  # the images
    assert "same size: 0.90 x (goal ≥ 0.9: met)" in report
    plot = benchmark.svg_plot(serving)
    assert plot.startswith("<svg")
    assert "180.00 x" in plot
