"""The stack file of Swarm mode (roles/swarm_stack), rendered here: it carries
what the tree's compose file says of the same services (hardening, limits,
healthchecks, secrets, in-memory folders), every service is found by DNS
round robin (no IPVS), a secret's name changes with its content, and the
inventory's values reach WordPress intact through `docker stack deploy`'s
interpolation (read back by Compose v2, which interpolates alike)."""

from __future__ import annotations

import copy
import importlib.util
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.ansible_run import REQUIRED, render, render_text
from tests.support.compose import compose_config
from tests.support.project import PROJECT, STACK

SWARM_STACK = PROJECT / "roles" / "swarm_stack"
STACK_FILE = SWARM_STACK / "templates" / "stack.yml.j2"
COMPOSE_FILE = STACK / "templates" / "srcs" / "docker-compose.yml.j2"
SERVICES = ("mariadb", "wordpress", "nginx", "redis", "backup")
# Swarm mode's bonus services (playbooks/vars/swarm.yml).
SWARM_BONUS = {"website": False, "adminer": False, "redis": True, "vsftpd": False, "backup": True}
UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3}
GALERA_FILES = SWARM_STACK / "files" / "galera"
# What a Galera member adds to the stack's MariaDB: its place in the cluster,
# and what it tells the others (in memory). Its socket folder is a volume
# shared with WordPress on the same node, not a tmpfs of its own.
GALERA_ENVIRONMENT = {
    "INCEPTION_GALERA_NODE",
    "INCEPTION_GALERA_FOUNDER",
    "INCEPTION_GALERA_MEMBERS",
    "INCEPTION_GALERA_PEERS",
}
# Titles and addresses pre-flight lets through, with every character
# `docker stack deploy` or YAML could take for their own.
HOSTILE = ['Café "l\'été" $HOME ${5} <b>bold</b> \\ 100%; #1', "$$ and $", "`id` $(id) a=b # c", "日本語"]


def stack(**overrides) -> dict:
    return yaml.safe_load(render(SWARM_STACK, STACK_FILE, **overrides))


def compose() -> dict:
    return yaml.safe_load(render(STACK, COMPOSE_FILE, inception_stack_bonus=SWARM_BONUS))


def size(text: str) -> int:
    match = re.fullmatch(r"([0-9]+)([kmg]?)", str(text).lower())
    assert match, text
    return int(match[1]) * UNITS.get(match[2], 1)


def tmpfs_folders(service: dict) -> dict[str, int]:
    """Each in-memory folder of a stack service, with its size (0: none)."""
    return {
        mount["target"]: mount.get("tmpfs", {}).get("size", 0)
        for mount in service.get("volumes", [])
        if mount["type"] == "tmpfs"
    }


def compose_tmpfs(service: dict) -> dict[str, int]:
    folders = {}
    for entry in service.get("tmpfs", []):
        folder, _, options = entry.partition(":")
        sizes = [size(option[5:]) for option in options.split(",") if option.startswith("size=")]
        folders[folder] = sizes[0] if sizes else 0
    return folders


def test_wordpress_gets_one_cpu_where_a_node_it_may_run_on_has_one():
    # Docker refuses a limit above the machine's CPUs (the submission tier's
    # one-CPU target proves it): the fewest a database node counts, at most two.
    nodes = REQUIRED["swarm_stack_database_nodes"]
    one_small = [nodes[0], {**nodes[1], "cpus": 1}, {**nodes[2], "cpus": 8}]
    all_large = [{**node, "cpus": 16} for node in nodes]
    limits = {
        name: {service: spec["deploy"]["resources"]["limits"]["cpus"] for service, spec in services.items()}
        for name, services in (
            ("one small", stack(swarm_stack_database_nodes=one_small)["services"]),
            ("all large", stack(swarm_stack_database_nodes=all_large)["services"]),
        )
    }
    assert limits["one small"].pop("wordpress") == "1.0"
    assert limits["all large"].pop("wordpress") == "2.0"
    assert limits["one small"] == limits["all large"]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_carries_the_compose_files_hardening_and_limits(name):
    swarm, single = stack()["services"][name], compose()["services"][name]
    assert swarm["read_only"] is single["read_only"] is True
    assert swarm["cap_drop"] == single["cap_drop"] == ["ALL"]
    assert swarm.get("cap_add") == single.get("cap_add")
    limits = swarm["deploy"]["resources"]["limits"]
    assert size(limits["memory"]) == size(single["mem_limit"])
    # The compose file's WordPress: two CPUs unless the machine has one (${WORDPRESS_CPUS:-2.0}).
    assert float(limits["cpus"]) == float(re.sub(r"^\$\{WORDPRESS_CPUS:-(.*)\}$", r"\1", str(single["cpus"])))
    assert limits["pids"] == single["pids_limit"]
    assert set(swarm.get("environment", {})) - GALERA_ENVIRONMENT == set(single.get("environment", {}))
    assert [secret["source"] for secret in swarm.get("secrets", [])] == single.get("secrets", [])
    folders, single_folders = tmpfs_folders(swarm), compose_tmpfs(single)
    if name == "mariadb":
        assert folders.pop("/run/galera") == 0
        assert single_folders.pop("/run/mysqld") == 0
    assert folders == single_folders


@pytest.mark.parametrize("name", [name for name in SERVICES if name != "mariadb"])
def test_each_service_keeps_the_compose_files_healthcheck(name):
    swarm, single = stack(), compose()
    anchors = (swarm["x-healthcheck"], single["x-healthcheck"])
    assert anchors[0] == anchors[1]
    checks = (swarm["services"][name]["healthcheck"], single["services"][name]["healthcheck"])
    assert checks[0] == checks[1]


def test_every_service_is_found_by_dns_round_robin_and_nginx_is_on_every_node():
    services = stack()["services"]
    assert {name: service["deploy"]["endpoint_mode"] for name, service in services.items()} == dict.fromkeys(
        SERVICES, "dnsrr"
    )
    nginx = services["nginx"]
    assert nginx["deploy"]["mode"] == "global"
    assert nginx["ports"] == [{"target": 443, "published": 443, "protocol": "tcp", "mode": "host"}]
    wordpress = services["wordpress"]["deploy"]
    assert wordpress["replicas"] == 3
    assert wordpress["placement"]["max_replicas_per_node"] == 1
    assert wordpress["update_config"]["order"] == "stop-first"
    assert wordpress["update_config"]["failure_action"] == "rollback"
    on_database_nodes = ["node.labels.org.inception.database == true"]
    assert services["mariadb"]["deploy"]["mode"] == "global"
    for name in ("mariadb", "wordpress", "backup"):
        assert services[name]["deploy"]["placement"]["constraints"] == on_database_nodes, name
    for name in ("redis", "backup"):
        assert services[name]["deploy"]["replicas"] == 1
    # Nothing but NGINX's 443 is published.
    assert [name for name, service in services.items() if "ports" in service] == ["nginx"]


def test_virtual_ips_are_a_rendering_option_not_exercised_here():
    """Rendered only: this machine's kernel has no IPVS, which they need."""
    services = stack(swarm_stack_virtual_ips=True)["services"]
    assert {service["deploy"]["endpoint_mode"] for service in services.values()} == {"vip"}
    assert services["nginx"]["ports"] == [
        {"target": 443, "published": 443, "protocol": "tcp", "mode": "ingress"}
    ]
    assert "not exercised" in render(SWARM_STACK, STACK_FILE, swarm_stack_virtual_ips=True)


def test_the_first_start_runs_one_wordpress_replica():
    assert stack(swarm_stack_wordpress_running=1)["services"]["wordpress"]["deploy"]["replicas"] == 1


def test_every_image_comes_from_the_clusters_registry():
    images = {name: service["image"] for name, service in stack()["services"].items()}
    assert images == {
        name: f"registry.jdoe.42.fr:5000/inception/{'mariadb-galera' if name == 'mariadb' else name}:1.0.0"
        for name in SERVICES
    }


def test_a_galera_member_runs_on_each_database_node_and_wordpress_beside_it():
    services = stack()["services"]
    mariadb, wordpress = services["mariadb"], services["wordpress"]
    environment = mariadb["environment"]
    # Swarm fills in each task's node; the first database node founds a new cluster.
    assert environment["INCEPTION_GALERA_NODE"] == "{{.Node.Hostname}}"
    assert environment["INCEPTION_GALERA_FOUNDER"] == "node1"
    assert environment["INCEPTION_GALERA_MEMBERS"] == "3"
    assert environment["INCEPTION_GALERA_PEERS"] == "tasks.inception_mariadb"
    assert mariadb["healthcheck"]["test"] == ["CMD", "/usr/local/bin/galera-healthcheck.sh"]
    # One member at a time in an update, so that two of three keep the quorum.
    assert mariadb["deploy"]["update_config"]["parallelism"] == 1
    assert mariadb["deploy"]["update_config"]["order"] == "stop-first"
    # WordPress reaches its own node's member over the socket PHP looks for.
    assert wordpress["environment"]["WORDPRESS_DB_HOST"] == "localhost"
    socket = {"type": "volume", "source": "mariadb-socket", "target": "/run/mysqld"}
    assert socket in mariadb["volumes"]
    assert socket in wordpress["volumes"]
    assert stack()["volumes"] == {"mariadb-socket": None}
    # As many members as database nodes; nothing of Galera is published.
    one_node = REQUIRED["swarm_stack_database_nodes"][:1]
    assert (
        stack(swarm_stack_database_nodes=one_node)["services"]["mariadb"]["environment"][
            "INCEPTION_GALERA_MEMBERS"
        ]
        == "1"
    )
    assert "ports" not in mariadb


def test_the_galera_image_is_built_from_the_stacks_own_mariadb_image():
    dockerfile = render(
        SWARM_STACK,
        SWARM_STACK / "templates" / "galera" / "Dockerfile.j2",
        swarm_stack_galera_base_image="mariadb:1.0.0",
    )
    lines = dockerfile.splitlines()
    assert lines[0] == "FROM mariadb:1.0.0"
    assert "Ansible managed" in lines[2]
    assert 'ENTRYPOINT ["/usr/local/bin/galera-entrypoint.sh"]' in lines
    # A Dockerfile's instruction goes on over a line that ends with a backslash.
    copied = next(line for line in dockerfile.replace("\\\n", " ").splitlines() if line.startswith("COPY "))
    assert sorted(copied.split()[1:-1]) == sorted(path.name for path in GALERA_FILES.iterdir())


def test_the_galera_scripts_pass_shellcheck():
    scripts = sorted(GALERA_FILES.glob("*.sh"))
    assert len(scripts) == 5
    checked = subprocess.run(
        ["shellcheck", "--format=gcc", *map(str, scripts)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("members", "founder", "founds"),
    [
        # The furthest Galera position founds, whoever the founder is.
        (["2 41 node1", "2 57 node2", "2 12 node3"], "node1", "node2"),
        # A tie goes to the founder's node, else to the first name.
        (["2 57 node1", "2 57 node2", "2 57 node3"], "node3", "node3"),
        (["2 57 node3", "2 57 node2"], "node9", "node2"),
        # A position InnoDB could not tell (-1) is below any known one.
        (["2 -1 node1", "2 0 node2"], "node1", "node2"),
        # Data from before Galera beats an empty folder, and any position beats both.
        (["0 -1 node1", "1 -1 node2", "0 -1 node3"], "node1", "node2"),
        (["1 -1 node1", "2 -1 node2"], "node1", "node2"),
        # A blank line (no other member answered) counts for nobody.
        (["", "0 -1 node2"], "node1", "node2"),
    ],
)
def test_the_member_whose_data_goes_furthest_founds_the_cluster(members, founder, founds):
    ranked = subprocess.run(
        ["bash", str(GALERA_FILES / "galera-rank.sh"), founder],
        input="\n".join(members) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert ranked.stdout == f"{founds}\n"


def load_upgrade_job():
    """The upgrade job's command (a script the role installs), as a module."""
    path = SWARM_STACK / "files" / "wordpress-upgrade-job.py"
    spec = importlib.util.spec_from_file_location("wordpress_upgrade_job", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_upgrade_job_is_the_running_wordpress_service_with_the_new_image_and_an_end():
    running = {
        "Name": "inception_wordpress",
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": "registry.jdoe.42.fr:5000/inception/wordpress:1.0.0@sha256:" + "ab" * 32,
                "Env": ["WORDPRESS_DB_HOST=localhost"],
                "Secrets": [
                    {"SecretName": "inception_db_password_0123456789abcdef", "File": {"Name": "db_password"}}
                ],
                "Mounts": [{"Type": "volume", "Source": "inception_mariadb-socket", "Target": "/run/mysqld"}],
                "ReadOnly": True,
                "Healthcheck": {
                    "Test": ["CMD", "/usr/local/bin/healthcheck.sh"],
                    "StartPeriod": 120000000000,
                },
            },
            "Networks": [{"Target": "network-id", "Aliases": ["wordpress"]}],
            "Placement": {"Constraints": ["node.labels.org.inception.database == true"], "MaxReplicas": 1},
            "RestartPolicy": {"Condition": "any", "Delay": 2000000000},
            "ForceUpdate": 3,
        },
    }
    kept = copy.deepcopy(running)
    job = load_upgrade_job().job_spec(running, "registry.jdoe.42.fr:5000/inception/wordpress:1.0.1")
    assert running == kept, "the running service's spec is left as it is"
    container = job["ContainerSpec"]
    assert container["Image"] == "registry.jdoe.42.fr:5000/inception/wordpress:1.0.1"
    # The entrypoint's set-up, then a command that ends.
    assert container["Args"] == ["php-fpm8.2", "--test"]
    assert container["Healthcheck"] == {"Test": ["NONE"]}
    assert job["RestartPolicy"] == {"Condition": "none"}
    assert "ForceUpdate" not in job
    # Its secrets, files, database socket and placement are the service's.
    for field in ("Env", "Secrets", "Mounts", "ReadOnly"):
        assert container[field] == kept["TaskTemplate"]["ContainerSpec"][field]
    assert job["Placement"] == kept["TaskTemplate"]["Placement"]
    # On the stack's network, but NGINX never finds it under WordPress's name.
    assert job["Networks"] == [{"Target": "network-id"}]


def test_a_secrets_name_changes_with_its_content_alone():
    before = stack()["secrets"]
    versions = dict(REQUIRED["swarm_stack_secret_versions"], **{"db_password.txt": "cd" * 32})
    after = stack(swarm_stack_secret_versions=versions)["secrets"]
    changed = sorted(name for name in before if before[name]["name"] != after[name]["name"])
    assert changed == ["db_password"]
    assert after["db_password"]["name"] == "inception_db_password_" + "cd" * 8
    assert before["tls_key"]["name"] == "inception_tls_key_1f2e3d4c5b6a7988"
    assert {secret["file"] for secret in before.values()} == {
        f"/home/jdoe/inception/secrets/{file}"
        for file in (
            "db_password.txt",
            "db_root_password.txt",
            "credentials.txt",
            "redis_password.txt",
            "tls/server.crt",
            "tls/server.key",
        )
    }


@pytest.mark.parametrize("service", ["redis", "backup"])
def test_without_a_bonus_service_nothing_names_it(service):
    rendered = render(SWARM_STACK, STACK_FILE, **{f"swarm_stack_{service}": False})
    assert service not in rendered.lower()


def stack_environment(tmp_path: Path, **settings) -> dict[str, str]:
    """WordPress's environment as Compose v2 reads the stack file ($$ is one
    $ to it, as to `docker stack deploy`; config writes each $ back as $$)."""
    (tmp_path / "stack.yml").write_text(render(SWARM_STACK, STACK_FILE, **settings))
    environment = compose_config(tmp_path, "stack.yml", consistency=False)["services"]["wordpress"][
        "environment"
    ]
    return {name: value.replace("$$", "$") for name, value in environment.items()}


@pytest.mark.parametrize("value", HOSTILE)
def test_the_title_and_an_address_reach_wordpress_intact(tmp_path, value):
    address = value.replace(" ", "") + "@jdoe.42.fr"
    environment = stack_environment(tmp_path, swarm_stack_site_title=value, swarm_stack_user_email=address)
    assert environment["WP_TITLE"] == value
    assert environment["WP_USER_EMAIL"] == address


def test_the_interpolation_check_fails_on_a_planted_escaping_slip(tmp_path):
    # The rendered file with its escaping undone: the check reads the
    # shell's $HOME, not the title.
    rendered = render(SWARM_STACK, STACK_FILE, swarm_stack_site_title="$HOME")
    assert '"$$HOME"' in rendered
    (tmp_path / "stack.yml").write_text(rendered.replace('"$$HOME"', '"$HOME"'))
    config = compose_config(
        tmp_path, "stack.yml", consistency=False, env={"HOME": "/planted", "PATH": "/usr/bin:/bin"}
    )
    assert config["services"]["wordpress"]["environment"]["WP_TITLE"] == "/planted"


def deployed_service(secret_names: dict[str, str], wanted: list[str]) -> dict:
    """A service as docker_swarm_service_info reads it, reading those secrets."""
    secrets = [{"SecretName": secret_names[name], "File": {"Name": name}} for name in wanted]
    return {"exists": True, "service": {"Spec": {"TaskTemplate": {"ContainerSpec": {"Secrets": secrets}}}}}


def rotated(wordpress: dict, database: dict, **overrides) -> list[str]:
    """The role's answer (tasks/main.yml) to: which checked passwords' new
    secrets do the deployed services not read yet?"""
    tasks = yaml.safe_load((SWARM_STACK / "tasks" / "main.yml").read_text())
    task = next(t for t in tasks if t["name"].startswith("Find the passwords changed"))
    known = {
        "swarm_stack_wordpress_service": wordpress,
        "swarm_stack_database_service": database,
        **overrides,
    }
    deployed = render_text(SWARM_STACK, task["vars"]["swarm_stack_deployed_secrets"], **known)
    return render_text(
        SWARM_STACK,
        task["ansible.builtin.set_fact"]["swarm_stack_rotated"],
        swarm_stack_deployed_secrets=deployed,
        **known,
    )


def test_the_passwords_set_before_a_deploy_are_the_checked_ones_whose_secret_changed():
    names = {name: entry["name"] for name, entry in stack()["secrets"].items()}
    wordpress = deployed_service(names, ["db_password", "credentials", "redis_password"])
    database = deployed_service(names, ["db_password", "db_root_password"])
    # As deployed: nothing to set.
    assert rotated(wordpress, database) == []
    # New database and Redis passwords, and a new certificate: only the
    # database's is checked by a running service before the deploy.
    versions = dict(REQUIRED["swarm_stack_secret_versions"], **{"db_password.txt": "cd" * 32})
    versions["redis_password.txt"] = "ef" * 32
    assert rotated(
        wordpress, database, swarm_stack_secret_versions=versions, swarm_stack_certificate_serial="42"
    ) == ["db_password"]
    versions = dict(versions, **{"db_root_password.txt": "12" * 32, "credentials.txt": "34" * 32})
    assert sorted(rotated(wordpress, database, swarm_stack_secret_versions=versions)) == [
        "credentials",
        "db_password",
        "db_root_password",
    ]
    # No stack deployed yet: the passwords are the first ones.
    assert rotated({"exists": False}, {"exists": False}, swarm_stack_secret_versions=versions) == []


def test_nginx_answers_to_the_sites_domain_on_the_stacks_network(tmp_path):
    """WordPress asks its own site at its domain (WP-Cron, which publishes a
    post scheduled for later; Site Health's loopback test): on the stack's
    network that name is NGINX's, on one machine (the alias read by Compose
    v2 from the rendered .env) and in Swarm mode alike."""
    srcs = tmp_path / "srcs"
    srcs.mkdir()
    for name in (".env", "docker-compose.yml"):
        (srcs / name).write_text(render(STACK, COMPOSE_FILE.parent / f"{name}.j2"))
    single = {name: service["networks"] for name, service in compose_config(srcs)["services"].items()}
    assert single.pop("nginx") == {"inception": {"aliases": [REQUIRED["inception_stack_domain"]]}}
    assert single == {name: {"inception": None} for name in single}
    swarm = {name: service["networks"] for name, service in stack()["services"].items()}
    assert swarm.pop("nginx") == {"inception": {"aliases": [REQUIRED["swarm_stack_domain"]]}}
    assert swarm == {name: ["inception"] for name in swarm}
