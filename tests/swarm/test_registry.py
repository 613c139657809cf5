"""The cluster's image registry (swarm.yml, role image_registry): Debian's
docker-registry on the first manager, over TLS with a certificate for
registry.<domain> from the cluster's CA, which every node's engine trusts.
Each test with `host` runs once per node, after the nodes were killed and
started again (test_cluster.py runs first): the registry comes back by itself.
"""

from __future__ import annotations

import json

import pytest

from tests.support.project import PROJECT, load_yaml
from tests.swarm.nodes import inventory_value, other_host, registry_node_name

REGISTRY_PORT = 5000
REGISTRY_IMAGE = "inception/registry:{}".format(
    load_yaml(PROJECT / "roles" / "image_registry" / "defaults" / "main.yml")["image_registry_image_tag"]
)
# Run on a node: GET /v2/ from the registry over TLS, verified against the
# CA file given (or the system's CAs when none) for the name given, with the
# client key and certificate given (or none). Prints the TLS version and the
# status line, or why the connection was refused.
ASK_REGISTRY = """
import socket, ssl, sys
name, port, cafile, server_hostname, client = sys.argv[1:]
request = f"GET /v2/ HTTP/1.1\\r\\nHost: {name}\\r\\nConnection: close\\r\\n\\r\\n"
context = ssl.create_default_context(cafile=cafile or None)
if client:
    context.load_cert_chain(client + ".cert", client + ".key")
try:
    with socket.create_connection((name, int(port)), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_hostname) as tls:
            tls.sendall(request.encode())
            print(tls.version(), tls.recv(4096).split(b"\\r\\n")[0].decode())
except ssl.SSLCertVerificationError as error:
    print("refused:", error.verify_message)
except OSError as error:
    print("rejected:", error)
"""


def registry_name(host) -> str:
    return f"registry.{inventory_value(host, 'inception_domain')}"


@pytest.fixture(scope="module")
def registry_node(host):
    """The node that runs the registry."""
    return other_host(host, registry_node_name(host))


def ask_registry(host, cafile: str, server_hostname: str, client: str = "") -> str:
    name = registry_name(host)
    arguments = [name, str(REGISTRY_PORT), cafile, server_hostname, client]
    command = host.run("python3 -c %s %s %s %s %s %s", ASK_REGISTRY, *arguments)
    assert command.rc == 0, command.stderr
    return command.stdout.strip()


def test_this_node_pulls_the_registrys_image_from_it(host, registry_node):
    remote = f"{registry_name(host)}:{REGISTRY_PORT}/{REGISTRY_IMAGE}"
    if host.backend.host != registry_node.backend.host:
        # Whatever an earlier pull left must not answer for this one.
        host.run("docker image rm %s", remote)
    pulled = host.run("docker pull %s", remote)
    assert pulled.rc == 0, pulled.stderr
    built = registry_node.check_output("docker image inspect -f '{{.Id}}' %s", REGISTRY_IMAGE)
    assert host.check_output("docker image inspect -f '{{.Id}}' %s", remote) == built


def test_the_registry_and_this_node_prove_who_they_are_with_the_clusters_ca(host):
    name = registry_name(host)
    engines = f"/etc/docker/certs.d/{name}:{REGISTRY_PORT}"
    version, status = ask_registry(host, f"{engines}/ca.crt", name, f"{engines}/client").split(" ", 1)
    assert version in {"TLSv1.2", "TLSv1.3"}
    assert status == "HTTP/1.1 200 OK"
    # Not a certificate any public CA vouches for, nor one for another name.
    assert ask_registry(host, "", name, f"{engines}/client").startswith("refused:")
    other_name = inventory_value(host, "inception_domain")
    assert "mismatch" in ask_registry(host, f"{engines}/ca.crt", other_name, f"{engines}/client")
    # Whoever has no client certificate from the cluster's CA gets nothing.
    assert ask_registry(host, f"{engines}/ca.crt", name).startswith("rejected:")


def test_the_registry_runs_without_privileges_and_keeps_its_key_out_of_the_image(registry_node):
    container = json.loads(registry_node.check_output("docker container inspect inception-registry"))[0]
    host_config = container["HostConfig"]
    assert container["State"]["Running"]
    assert host_config["CapDrop"] == ["ALL"]
    assert host_config["ReadonlyRootfs"] is True
    assert "no-new-privileges:true" in host_config["SecurityOpt"]
    assert host_config["RestartPolicy"]["Name"] == "unless-stopped"
    # Reachable at the node's address on the nodes' network only.
    address = registry_node.interface.default().addresses[0]
    bindings = host_config["PortBindings"][f"{REGISTRY_PORT}/tcp"]
    assert [binding["HostIp"] for binding in bindings] == [address]
    tls_mount = next(m for m in container["Mounts"] if m["Destination"] == "/etc/docker/registry/tls")
    assert tls_mount["RW"] is False
    found = registry_node.check_output(
        "docker run --rm --entrypoint find %s / -xdev -name '*.key'", REGISTRY_IMAGE
    )
    assert found == ""
