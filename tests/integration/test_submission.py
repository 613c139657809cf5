"""The tree on its own: what its `make` keeps or makes, and a copy of it.

On every target: the secrets are owner-only files with the subject's names,
the credentials in the tree are those that work (whoever made them: the
playbook, or the tree's own `make` on a target where only Docker and make
were installed), a second `make` replaces nothing, and a copy of the tree (an
evaluator's `git clone` beside it) manages the same stack instead of starting
a second one.
"""

from __future__ import annotations

import shlex

import pytest

from tests.support.site import make, wait_until_healthy, wordpress_login

pytestmark = pytest.mark.evaluation("submission")


def not_in_a_clone(host, target) -> list[str]:
    """What a clone of the tree lacks: the tree's own .gitignore, as tar
    patterns relative to the tree ("/secrets/" -> "./secrets")."""
    ignored = host.file(f"{target.tree}/.gitignore").content_string.splitlines()
    patterns = ["./" + line.strip("/") for line in ignored if line and not line.startswith("#")]
    assert "./secrets" in patterns
    return patterns


def stack_state(host, target) -> dict[str, str]:
    """Each service's container id and image id: what a recreation changes."""
    out = host.check_output("docker inspect -f '{{.Name}} {{.Id}} {{.Image}}' " + " ".join(target.services))
    return {line.split()[0]: line for line in out.splitlines()}


def secrets_state(host, target) -> str:
    """Every secret and certificate file with its checksum, mode and time."""
    return host.check_output(
        "cd %s && find secrets -type f -exec stat -c '%%n %%a %%Y' {} + | sort && "
        "find secrets -type f -exec sha256sum {} + | sort",
        target.tree,
    )


def test_secrets_are_owner_only_files_with_the_subjects_names(host, target):
    expected = {"db_password.txt", "db_root_password.txt", "credentials.txt"}
    expected |= {f"{name}_password.txt" for name in ("redis", "portainer", "adminer") if name in target.bonus}
    expected |= {"ftp_password.txt"} if "vsftpd" in target.bonus else set()
    listing = host.check_output("cd %s/secrets && stat -c '%%n %%a' * tls", target.tree).splitlines()
    found = dict(line.split() for line in listing)
    assert found.pop("tls") == "700"
    assert found == dict.fromkeys(expected, "600")
    assert host.file(f"{target.tree}/secrets").mode == 0o700


def test_the_credentials_in_the_tree_are_the_ones_that_work(host, target, secret_values):
    wordpress_login(target, target.admin_user, secret_values["wp_admin_password"])
    wordpress_login(target, target.user, secret_values["wp_user_password"])
    # The database account, with the password read from the tree's file; the
    # value travels in the environment, never on a command line.
    login = host.run(
        "MYSQL_PWD=$(cat %s) docker exec -e MYSQL_PWD mariadb "
        "mariadb --user=wordpress --protocol=tcp --host=127.0.0.1 --batch --skip-column-names "
        "--execute='SELECT CURRENT_USER()'",
        f"{target.tree}/secrets/db_password.txt",
    )
    assert login.rc == 0, login.stderr
    assert login.stdout.strip().startswith("wordpress@")


def test_a_second_make_replaces_nothing(host, target):
    before_stack, before_secrets = stack_state(host, target), secrets_state(host, target)
    run = make(host, target)
    assert run.rc == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "created" not in run.stdout, run.stdout
    assert stack_state(host, target) == before_stack
    assert secrets_state(host, target) == before_secrets


def test_a_clone_beside_the_tree_manages_the_same_stack(host, target):
    clone = "/root/evaluator-clone"
    excluded = " ".join(f"--exclude={shlex.quote(path)}" for path in not_in_a_clone(host, target))
    tree = shlex.quote(target.tree)
    host.check_output(
        f"rm -rf {clone} && mkdir -p {clone} && tar -C {tree} {excluded} -c . | tar -C {clone} -x"
    )
    before = stack_state(host, target)
    try:
        run = host.run("make -C %s", clone)
        assert run.rc == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert f"managed from {target.tree}: running 'make all' there" in run.stdout
        # Nothing made in the clone, nothing recreated, the mark unchanged.
        assert not host.file(f"{clone}/secrets").exists
        assert stack_state(host, target) == before
        assert host.file(f"{target.data}/.inception-tree").content_string.strip() == target.tree
        run = host.run("make -C %s ps", clone)
        assert run.rc == 0, run.stderr
        assert all(service in run.stdout for service in target.services)
    finally:
        host.run("rm -rf %s", clone)
    wait_until_healthy(host, target.services)
