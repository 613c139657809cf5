"""The VM tier: the stack in a real Debian 13 VM, brought up by `vagrant up`.

Builds (or reuses) the local box with Docker's packages in it
(scripts/build-vagrant-box --with-docker: Docker's install under emulation
took ~2 minutes; the container scenario proves that install on every run),
then, through python-vagrant and the libvirt provider:
  - `vagrant up` alone provisions the VM with site.yml and ends with a
    healthy stack. The inventory is inventory/vm under CI's overlay,
    tests/vm/inventory: the controller builds the images and only the
    mandatory services run (the bonus ones are proven on the container
    targets), which keeps the tier within its budget under emulation;
  - the container scenario's own testinfra files run against the VM: TLS on
    the port forwarded to this machine, the volumes, the WordPress install and
    its users, the containers' hardening;
  - `vagrant provision` changes nothing;
  - `vagrant reload` reboots it and the stack comes back by itself, with a post
    written before the reboot;
  - `vagrant destroy` leaves nothing running.
The rest of the suite runs in the container scenario (molecule). Times go to
artifacts/vm/timings.json, Vagrant's and the playbook's output to
artifacts/vm/vagrant.log, the VM's serial console (its last boot) to
artifacts/vm/console.log; a Vagrant command that fails shows the end of both.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import testinfra
import vagrant

from tests.support import site as suite
from tests.support.playbook_output import first_failure
from tests.support.project import PROJECT

# inventory/vm and CI's overlay (see its 20-ci.yml), for Vagrant and the tests alike.
INVENTORY = PROJECT / "tests" / "vm" / "inventory"
ARTIFACTS = PROJECT / "artifacts" / "vm"
VAGRANT_LOG = ARTIFACTS / "vagrant.log"
CONSOLE_LOG = ARTIFACTS / "console.log"
# The container scenario's files that prove what the VM must prove.
SUITE_FILES = ("tests/integration/test_tls.py", "tests/integration/test_stack.py")
PROVIDER = "libvirt"
# The local box with Debian's Docker packages already in it.
BOX = "inception/trixie64-docker"


@pytest.fixture(scope="module")
def timings():
    results: dict[str, float] = {}
    yield results
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps(results, indent=2) + "\n")


def _tail(path: Path, lines: int) -> str:
    if not path.exists():
        return f"({path.name}: none)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _timed(timings: dict[str, float], name: str, action) -> None:
    """Runs a Vagrant command and records its time; if it fails, the failure
    says why: Vagrant's last words and the console's (a boot that hung)."""
    started = time.monotonic()
    offset = VAGRANT_LOG.stat().st_size if VAGRANT_LOG.exists() else 0
    try:
        action()
    except subprocess.CalledProcessError as failed:
        # The first line is all a CI page's summary keeps: it names the task
        # that failed and why. Vagrant's output comes last, nearest the end
        # of the tier's log.
        output = _log_since(offset) if VAGRANT_LOG.exists() else ""
        command = shlex.join([Path(failed.cmd[0]).name, *failed.cmd[1:]])
        pytest.fail(
            f"{command} failed after {time.monotonic() - started:.0f} s: "
            f"{first_failure(output) or 'no task failed (see the ends of both logs below)'}\n"
            f"--- the end of {CONSOLE_LOG.name}:\n{_tail(CONSOLE_LOG, 30)}\n"
            f"--- the end of {VAGRANT_LOG.name}:\n{_tail(VAGRANT_LOG, 60)}"
        )
    timings[name] = round(time.monotonic() - started, 1)


VIRSH = ["virsh", "--connect", "qemu:///system"]


def _libvirt_domains() -> list[str]:
    """Every libvirt domain of the system, running or not, by name."""
    listed = subprocess.run(
        [*VIRSH, "list", "--all", "--name"], capture_output=True, text=True, check=True, timeout=60
    )
    return listed.stdout.split()


def _remove_a_leftover_domain() -> None:
    """Removes the VM a killed run left at this same path (CI clones to one
    path every time). A fresh checkout's Vagrant does not know that VM, so
    `vagrant destroy` leaves it, and `vagrant up` then fails on its name, which
    vagrant-libvirt takes from the folder: <folder>_default."""
    name = f"{PROJECT.name}_default"
    if name not in _libvirt_domains():
        return
    subprocess.run([*VIRSH, "destroy", name], capture_output=True, check=False, timeout=120)
    subprocess.run([*VIRSH, "undefine", name, "--remove-all-storage"], check=True, timeout=120)


@pytest.fixture(scope="module")
def machine(timings):
    for tool in ("vagrant", "virsh", "ansible-playbook"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not on PATH (needed: vagrant, vagrant-libvirt, libvirt, the venv)")
    _timed(
        timings,
        "box_seconds",
        lambda: subprocess.run(
            [str(PROJECT / "scripts" / "build-vagrant-box"), "--with-docker"], check=True, timeout=1800
        ),
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    VAGRANT_LOG.write_text("")
    log = vagrant.make_file_cm(str(VAGRANT_LOG))
    env = {
        **os.environ,
        "VAGRANT_DEFAULT_PROVIDER": PROVIDER,
        "INCEPTION_INVENTORY": str(INVENTORY),
        "INCEPTION_BOX": BOX,
        "INCEPTION_CONSOLE_LOG": str(CONSOLE_LOG),
        # One vCPU. With two, the emulated guest's kernel panicked after
        # `vagrant reload` twice in ~30 runs, as Docker started the containers
        # (an `int3` Oops; a jump into the middle of an instruction the kernel
        # was patching): most likely QEMU's multi-threaded emulation running
        # code on one vCPU while the other rewrote it. One vCPU has no other
        # to race, and makes the stack prove it starts on a one-CPU machine.
        "INCEPTION_CPUS": "1",
    }
    vm = vagrant.Vagrant(root=str(PROJECT), out_cm=log, err_cm=log, env=env)
    vm.destroy()  # a VM an interrupted run left behind, known to this checkout
    _remove_a_leftover_domain()  # and one left at this path by a checkout since removed
    try:
        _timed(timings, "vagrant_up_seconds", lambda: vm.up(provider=PROVIDER))
        yield vm
    finally:
        vm.destroy()


@pytest.fixture(scope="module")
def host(machine):
    return testinfra.get_host("ansible://inception-vm", ansible_inventory=str(INVENTORY))


@pytest.fixture(scope="module")
def target(host):
    return suite.read_target(host)


def _log_since(offset: int) -> str:
    with VAGRANT_LOG.open() as log:
        log.seek(offset)
        return log.read()


def test_vagrant_up_alone_ends_with_a_healthy_stack(machine, host, target):
    assert machine.status()[0].state == "running"
    # The console log is there for a boot that fails; it must hold this one's.
    assert "Linux version" in CONSOLE_LOG.read_text(errors="replace")
    # The playbook waited for health; a short grace for the slowest check.
    suite.wait_until_healthy(host, target.services, timeout=60)
    page = suite.https_get(target)
    assert page.status == 200
    assert target.site_title in page.body.decode()


def test_container_scenario_suite_passes_against_the_vm(machine, timings):
    started = time.monotonic()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--hosts=all",
            "--connection=ansible",
            f"--ansible-inventory={INVENTORY}",
            "-p",
            "no:cacheprovider",
            "-q",
            # Two at a time: each test waits mostly on its own round trips
            # into the emulated guest, and none changes the stack.
            "-n",
            "2",
            f"--junitxml={ARTIFACTS / 'suite.xml'}",
            *SUITE_FILES,
        ],
        check=False,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    timings["suite_seconds"] = round(time.monotonic() - started, 1)
    (ARTIFACTS / "suite.log").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", run.stdout)
    assert not re.search(r"\b\d+ (skipped|failed|error)", run.stdout), run.stdout[-2000:]


def test_vagrant_provision_changes_nothing(machine, timings):
    offset = VAGRANT_LOG.stat().st_size
    _timed(timings, "vagrant_provision_seconds", machine.provision)
    recap = _log_since(offset).rpartition("PLAY RECAP")[2]
    assert re.search(r"inception-vm\s*:\s*ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", recap), recap


@contextlib.contextmanager
def _console_shown_on_failure():
    """A failure while the guest boots says whether its kernel panicked, and
    shows the serial console's end. Under emulation that happened once, as
    Docker started its containers (an `int3` Oops, most likely the kernel
    patching its own code on one vCPU while another ran it); the inventory's SSH
    keep-alives end a connection to a guest that went silent."""
    try:
        yield
    except (AssertionError, RuntimeError) as failed:
        panicked = "Kernel panic" in (CONSOLE_LOG.read_text(errors="replace") if CONSOLE_LOG.exists() else "")
        cause = "the guest's kernel panicked" if panicked else "no kernel panic on the guest's console"
        pytest.fail(f"{cause}: {failed}\n--- the end of {CONSOLE_LOG.name}:\n{_tail(CONSOLE_LOG, 30)}")


def test_vagrant_reload_brings_the_stack_back_with_an_earlier_post(machine, host, target, timings):
    title = f"Before the reload {uuid.uuid4().hex[:12]}"
    post_id = suite.write_post(host, title, "Written before vagrant reload.")

    started = time.monotonic()
    _timed(timings, "vagrant_reload_seconds", machine.reload)
    # A new connection: the old SSH master went down with the guest.
    rebooted = testinfra.get_host("ansible://inception-vm", ansible_inventory=str(INVENTORY))
    with _console_shown_on_failure():
        assert float(rebooted.check_output("cut -d' ' -f1 /proc/uptime")) < time.monotonic() - started
        suite.wait_until_healthy(rebooted, target.services, timeout=900)
    timings["reload_to_healthy_seconds"] = round(time.monotonic() - started, 1)
    # host_recovery's setting outlives the reboot: the kernel reads it at boot.
    assert rebooted.file("/proc/sys/kernel/panic").content_string.strip() == "10"

    page = suite.https_get(target, f"/?p={post_id}")
    assert page.status == 200
    assert title in page.body.decode()


def test_vagrant_destroy_leaves_nothing_running(machine, host, target):
    machine.destroy()
    assert machine.status()[0].state == "not_created"
    domains = _libvirt_domains()
    assert not [name for name in domains if name.startswith(f"{PROJECT.name}_")], domains
    # The forwarded ports (vagrant-libvirt's SSH tunnels) are closed too.
    for port in (target.https_port, int(host.backend.get_variables()["ansible_port"])):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((suite.LOOPBACK, port), timeout=2).close()
