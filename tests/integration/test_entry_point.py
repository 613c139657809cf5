"""443 is the only entry point on the target; nothing listens on 80."""

from __future__ import annotations

import re

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


# Reachable from outside the target: NGINX's 443, and on a VM the SSH that
# Ansible and Vagrant use. Anything else listening beyond loopback fails.
EXPECTED_LISTENERS = {443: {"docker-proxy"}, 22: {"sshd"}}


def test_exact_set_of_ports_listening_beyond_loopback(host):
    listing = host.check_output("ss -Hltnp")
    outside = {}
    for line in listing.splitlines():
        fields = line.split()
        address, port = fields[3].rsplit(":", 1)
        if address.strip("[]") in ("127.0.0.1", "::1") or address.startswith("127."):
            continue
        processes = set(re.findall(r'\("([^"]+)"', fields[-1]))
        outside.setdefault(int(port), set()).update(processes)
    assert 443 in outside
    unexpected = {
        port: names for port, names in outside.items() if not names <= EXPECTED_LISTENERS.get(port, set())
    }
    assert unexpected == {}
