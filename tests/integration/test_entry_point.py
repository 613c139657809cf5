"""443 is the only entry point on the target; nothing listens on 80."""

from __future__ import annotations

import json
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


def published_ports(target) -> dict[str, set[int]]:
    """What each service publishes on the target: 443 for NGINX; FTP's control
    port and passive range when the vsftpd bonus service is on; Portainer's
    2307 when that opt-in is on; nothing else."""
    expected = {"nginx": {443}}
    if "vsftpd" in target.services:
        first, last = target.ftp_passive_ports
        expected["vsftpd"] = {21, *range(first, last + 1)}
    if "portainer" in target.services:
        expected["portainer"] = {2307}
    return expected


def test_only_nginx_publishes_a_port_and_only_443(docker, target):
    published: dict[str, set[int]] = {}
    for name in docker("ps", "--format", "{{.Names}}").split():
        # "3306/tcp" is only exposed to the stack's network; bindings are published.
        bindings = json.loads(docker("inspect", "-f", "{{json .HostConfig.PortBindings}}", name)) or {}
        ports = {int(port.split("/")[0]) for port, hosts in bindings.items() if hosts}
        if ports:
            published[name] = ports
    assert published == published_ports(target)


# On a VM, the SSH that Ansible and Vagrant use listens too.
MANAGEMENT_LISTENERS = {22: {"sshd"}}


def test_exact_set_of_ports_listening_beyond_loopback(host, target):
    expected = {port: {"docker-proxy"} for ports in published_ports(target).values() for port in ports}
    expected |= MANAGEMENT_LISTENERS
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
    unexpected = {port: names for port, names in outside.items() if not names <= expected.get(port, set())}
    assert unexpected == {}
    # And every published port does listen.
    assert {port for ports in published_ports(target).values() for port in ports} <= set(outside)
