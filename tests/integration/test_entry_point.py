"""443 is the only entry point on the target; nothing listens on 80."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.evaluation("4")


def test_nothing_listens_on_port_80(host):
    assert not host.socket("tcp://0.0.0.0:80").is_listening
    assert not host.socket("tcp://:::80").is_listening
    # And a connection to it is refused, not redirected.
    assert host.run("bash -c ': > /dev/tcp/127.0.0.1/80'").rc != 0


def test_nginx_listens_on_443(host):
    assert host.socket("tcp://0.0.0.0:443").is_listening


def test_only_nginx_publishes_a_port_and_only_443(docker):
    published = {}
    for line in docker("ps", "--format", "{{.Names}} {{.Ports}}").splitlines():
        name, _, ports = line.partition(" ")
        # "3306/tcp" is only exposed to the stack's network; "->" is published.
        mapped = [p.strip() for p in ports.split(",") if "->" in p]
        if mapped:
            published[name] = mapped
    assert list(published) == ["nginx"]
    assert set(published["nginx"]) <= {
        "0.0.0.0:443->443/tcp",
        ":::443->443/tcp",
        "[::]:443->443/tcp",
    }
