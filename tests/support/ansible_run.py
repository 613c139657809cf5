"""Running the project's roles and playbooks on this machine, and rendering
their files through Ansible, for the unit tier: no target needed."""

from __future__ import annotations

import atexit
import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import add_all_plugin_dirs, lookup_loader
from ansible.template import Templar, trust_as_template

from tests.support.project import PROJECT, STACK, load_source, load_yaml


def role_plugin(role: Path, kind: str, name: str) -> ModuleType:
    """A role's plugin module (e.g. filter_plugins/tree_layout.py), imported by path."""
    return load_source(f"{role.name}_{kind}_{name}", role / kind / f"{name}.py")


# The stack role's tree plan, the very filter its task calls.
inception_tree_layout = role_plugin(STACK, "filter_plugins", "tree_layout").inception_tree_layout


def ansible_playbook(
    arguments: list[str], env: dict[str, str], timeout: int, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """This virtualenv's ansible-playbook with the project's ansible.cfg, the
    settings in env on top; its exit code and output, never raising."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"), **env},
        check=False,
        timeout=timeout,
        cwd=cwd,
    )


@functools.cache
def _session_fact_cache() -> str:
    """A folder for Ansible's fact cache, this test session's own (removed
    when it ends): no run trusts facts an earlier session read."""
    folder = tempfile.TemporaryDirectory(prefix="inception-facts-")
    atexit.register(folder.cleanup)
    return folder.name


def run_role_here(
    workdir: Path,
    role: str,
    role_vars: dict,
    timeout: int = 180,
    packages_read_once: bool = False,
    tasks_from: str = "main",
) -> tuple[int, dict]:
    """Runs one of the project's roles on this machine (connection local),
    from its entry point tasks_from.

    With packages_read_once, the play first reads the installed packages
    unless an earlier run of this session did (they are cached): a role then
    skips its apt task for a package already there, as on a target where
    docker_engine read them first (apt opening its cache took ~5 s of a TLS
    role run on a loaded machine; on a quiet one the gain was in the noise).

    Returns ansible-playbook's exit code and its report (the json callback).
    """
    playbook = workdir / f"{role}.yml"
    play = {
        "name": role,
        "hosts": "localhost",
        "gather_facts": False,
    }
    if tasks_from == "main":
        play["roles"] = [{"role": role, "vars": role_vars}]
    else:
        play["tasks"] = [
            {
                "name": f"{role}: {tasks_from}",
                "ansible.builtin.include_role": {"name": role, "tasks_from": tasks_from},
                "vars": role_vars,
            }
        ]
    env = {
        "ANSIBLE_ROLES_PATH": str(PROJECT / "roles"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
    }
    if packages_read_once:
        play["pre_tasks"] = [
            {
                "name": "Read the installed packages once a session",
                "ansible.builtin.package_facts": {"manager": "apt"},
                "when": "ansible_facts.packages is not defined",
            }
        ]
        env["ANSIBLE_CACHE_PLUGIN"] = "ansible.builtin.jsonfile"
        env["ANSIBLE_CACHE_PLUGIN_CONNECTION"] = _session_fact_cache()
    playbook.write_text(json.dumps([play]))  # JSON is YAML
    done = ansible_playbook(["-c", "local", str(playbook)], env, timeout)
    # The timing callback (ansible.cfg) writes lines of its own around the report.
    report, _ = json.JSONDecoder().raw_decode(done.stdout[done.stdout.index("{") :])
    return done.returncode, report


# Values for the inputs a role requires (no defaults): what an inventory gives.
REQUIRED = {
    "host_layout_login": "jdoe",
    "host_layout_domain": "jdoe.42.fr",
    "tls_certificates_domain": "jdoe.42.fr",
    "tls_certificates_dir": "/home/jdoe/inception/secrets/tls",
    "tls_certificates_controller_ca_path": "/tmp/ca.crt",
    "tls_certificates_controller_ca_key_path": "/tmp/secrets/ca.key",
    "base_image_target_archive": "/home/jdoe/inception/srcs/requirements/tools/debian-bookworm.tar.gz",
    "image_registry_name": "registry.jdoe.42.fr",
    "image_registry_listen_address": "192.168.57.11",
    "image_registry_tls_dir": "/home/jdoe/inception/secrets/registry-tls",
    "image_registry_client_tls_dir": "/home/jdoe/inception/secrets/node-tls",
    "image_registry_data_dir": "/home/jdoe/data/registry",
    "image_registry_build_dir": "/home/jdoe/inception/registry",
    "gluster_volume_name": "wordpress",
    "gluster_volume_nodes": ["inception-node1", "inception-node2", "inception-node3"],
    "gluster_volume_addresses": ["192.168.57.11", "192.168.57.12", "192.168.57.13"],
    "gluster_volume_brick_dir": "/home/jdoe/data/gluster/wordpress",
    "gluster_volume_mount_point": "/home/jdoe/data/wordpress",
    "inception_stack_login": "jdoe",
    "inception_stack_domain": "jdoe.42.fr",
    "inception_stack_admin_user": "siteowner",
    "inception_stack_admin_email": "siteowner@jdoe.42.fr",
    "inception_stack_user": "reader",
    "inception_stack_user_email": "reader@jdoe.42.fr",
    "inception_stack_db_password": "db-password-123",
    "inception_stack_db_root_password": "root-password-123",
    "inception_stack_admin_password": "admin-password-123",
    "inception_stack_user_password": "user-password-123",
    "swarm_stack_login": "jdoe",
    "swarm_stack_domain": "jdoe.42.fr",
    "swarm_stack_registry": "registry.jdoe.42.fr:5000",
    "swarm_stack_tree_dir": "/home/jdoe/inception",
    "swarm_stack_database_nodes": [
        {"host": f"node{index}", "id": f"x2y7sw9kq0d1node{index}id", "name": f"node{index}", "cpus": 2}
        for index in (1, 2, 3)
    ],
    "swarm_stack_secret_versions": {
        name: f"{index:02d}" + "ab" * 31
        for index, name in enumerate(
            ["db_password.txt", "db_root_password.txt", "credentials.txt", "redis_password.txt"]
        )
    },
    "swarm_stack_certificate_serial": "1f2e3d4c5b6a79881726354453627180",
    "swarm_stack_site_title": "Inception",
    "swarm_stack_admin_user": "siteowner",
    "swarm_stack_admin_email": "siteowner@jdoe.42.fr",
    "swarm_stack_user": "reader",
    "swarm_stack_user_email": "reader@jdoe.42.fr",
    "swarm_stack_db_password": "swarm-db-Pw-5b1f",
    "swarm_stack_db_root_password": "swarm-root-Pw-8c2e",
    "swarm_stack_admin_password": "swarm-admin-Pw-3d9a",
    "swarm_stack_user_password": "swarm-user-Pw-7e4b",
    # Set by the role's task that renders the file (one at the first start).
    "swarm_stack_wordpress_running": 3,
}


def render_text(role: Path, text: str, **overrides) -> str:
    """Text rendered as the role's templates are: its defaults, vars, the
    required inputs and its own filter and test plugins."""
    add_all_plugin_dirs(str(role))
    # As for a host of the play: the first of the cluster's nodes above.
    variables = {
        "ansible_managed": "Ansible managed: do not edit",
        "role_path": str(role),
        "inventory_hostname": REQUIRED["gluster_volume_nodes"][0],
    }
    variables |= load_yaml(role / "defaults" / "main.yml") or {}
    variables |= {k: v for k, v in REQUIRED.items() if k.startswith(role.name + "_")}
    variables |= overrides
    templar = Templar(loader=DataLoader(), variables=variables)
    # Role vars reference inputs: resolve them like Ansible does.
    for name, value in (load_yaml(role / "vars" / "main.yml") or {}).items():
        variables[name] = templar.template(trust_as_template(value) if isinstance(value, str) else value)
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template(text))


def render(role: Path, template: Path, **overrides) -> str:
    return render_text(role, template.read_text(), **overrides)


@functools.cache
def filetree_lookup():
    loader = DataLoader()
    return lookup_loader.get("community.general.filetree", loader=loader, templar=Templar(loader=loader))


def filetree(folder: Path) -> list[dict]:
    """What the role's task hands the filter: community.general.filetree's listing."""
    return filetree_lookup().run([str(folder)], variables={})


def plan(role: Path, bonus_on: list[str]) -> dict:
    """The plan the role's task makes, from the same three listings."""
    shared = filetree(role / "shared") if (role / "shared").is_dir() else []
    return inception_tree_layout(filetree(role / "templates"), filetree(role / "files"), bonus_on, shared)


HOST = "inception-preflight-nowhere"
PROVISIONING_PLAY = "PLAY [Provision the Inception stack]"


def _site_playbook(
    tmp_path: Path, hosts: dict[str, dict], extra: list[str], env: dict[str, str], timeout: int
) -> subprocess.CompletedProcess[str]:
    """site.yml against an inventory of these hosts (each with its variables)
    over the real inventory's group_vars, as for every target."""
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "group_vars").symlink_to(PROJECT / "inventory" / "group_vars")
    defaults = {"ansible_connection": "community.docker.docker", "target_https_forwarded_port": 1}
    # JSON is YAML: every value keeps its type and its characters.
    inventory_hosts = {name: {**defaults, **settings} for name, settings in hosts.items()}
    (inventory / "hosts.yml").write_text(json.dumps({"all": {"hosts": inventory_hosts}}))
    arguments = [str(PROJECT / "site.yml"), "-i", str(inventory)]
    arguments += ["-e", f"inception_controller_dir={tmp_path / 'controller'}"]
    for pair in extra:
        arguments += ["-e", pair]
    # The exit code and the output are what the tests read.
    return ansible_playbook(arguments, env, timeout, cwd=PROJECT)


def run_site(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    # As JSON extra vars, so that lists and numbers keep their type and a string its spaces.
    extra = [json.dumps({key: value}) for key, value in overrides.items()]
    return _site_playbook(tmp_path, {HOST: {}}, extra, {"ANSIBLE_NOCOLOR": "1"}, timeout=120)


def preflight_verdicts(tmp_path: Path, cases: dict[str, dict]) -> dict[str, list[str]]:
    """Pre-flight's refusals for many inventories at once: each case is a host
    of one inventory, with its settings as host variables over the real
    group_vars. site.yml runs once (its pre-flight reports every host before
    it stops); for each case, the messages it was refused with ([] when it
    passed pre-flight)."""
    result = _site_playbook(
        tmp_path, cases, [], {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}, timeout=300
    )
    # The report, then profile_tasks's lines (ansible.cfg enables it).
    report, _ = json.JSONDecoder().raw_decode(result.stdout[result.stdout.index("{") :])
    verdicts: dict[str, list[str]] = {name: [] for name in cases}
    for play in report["plays"]:
        if not play["play"]["name"].startswith("Pre-flight"):
            continue
        for task in play["tasks"]:
            for name, outcome in task["hosts"].items():
                for item in outcome.get("results", [outcome]):
                    if item.get("failed"):
                        verdicts[name].append(" ".join(str(item.get("msg", "")).split()))
    return verdicts
