"""The tree exported as a git repository (scripts/submission, `make
submission`), and what a fresh clone's Makefile does before Docker is needed:
the passwords, the certificates (openssl here, or a container of the base
image), the hand-over to the tree that manages the machine's stack. The whole
`make` on a fresh target is the submission tier (molecule/submission)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from tests.support.compose import compose_config
from tests.support.history import key_lines, private_keys_in_history, values_in_history
from tests.support.project import PROJECT

SUBMISSION = PROJECT / "scripts" / "submission"
SECRET_FILES = {
    "db_password.txt",
    "db_root_password.txt",
    "credentials.txt",
    "redis_password.txt",
    "ftp_password.txt",
    "adminer_password.txt",
}


def export(dest: Path, inventory: Path = PROJECT / "inventory" / "vm") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SUBMISSION), str(dest), str(inventory)], capture_output=True, text=True, check=False, timeout=300
    )


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def make(tree: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-C", str(tree), *args], capture_output=True, text=True, check=False, timeout=600
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("export") / "inception"
    run = export(dest)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "changed=true"
    return dest


@pytest.fixture
def clone(exported, tmp_path) -> Path:
    target = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(exported), str(target)], check=True)
    return target


def test_the_export_is_one_commit_of_the_subjects_tree(exported):
    assert git(exported, "rev-list", "--count", "HEAD").strip() == "1"
    tracked = set(git(exported, "ls-files").split())
    for needed in ("Makefile", ".gitignore", "README.md", "USER_DOC.md", "DEV_DOC.md", "srcs/.env"):
        assert needed in tracked
    assert "srcs/docker-compose.yml" in tracked
    assert not [path for path in tracked if path.startswith("secrets/") or path.endswith(".tar.gz")]
    assert git(exported, "status", "--porcelain") == ""
    # The tree's scripts keep their executable bit in git.
    mode = git(exported, "ls-files", "--stage", "srcs/requirements/tools/make-secrets.sh").split()[0]
    assert mode == "100755"


def test_the_saved_archives_are_ignored_where_the_roles_put_them(exported):
    """The base image's copy (base_image) and Portainer's release (inception_stack)."""
    stack_vars = yaml.safe_load((PROJECT / "roles/inception_stack/vars/main.yml").read_text())
    for path in (
        "srcs/requirements/tools/debian-bookworm.tar.gz",
        stack_vars["inception_stack_portainer_archive_in_tree"],
    ):
        ignored = subprocess.run(["git", "-C", str(exported), "check-ignore", "--quiet", path], check=False)
        assert ignored.returncode == 0, f"{path} is not ignored"


def test_a_second_export_adds_no_commit_and_a_changed_setting_adds_one(exported, tmp_path):
    run = export(exported)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "changed=false"
    assert git(exported, "rev-list", "--count", "HEAD").strip() == "1"
    # An inventory of its own, beside the project's settings, with another title.
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "group_vars").symlink_to(PROJECT / "inventory" / "group_vars")
    (inventory / "vm").write_text(
        "all:\n  hosts:\n    inception-vm:\n      inception_site_title: Handed in\n"
        "      ansible_connection: local\n"
    )
    run = export(exported, inventory / "vm")
    assert run.returncode == 0, run.stderr
    assert git(exported, "rev-list", "--count", "HEAD").strip() == "2"
    # The title is in the environment and in the static site's page.
    assert git(exported, "diff", "--name-only", "HEAD~1", "HEAD").split() == [
        "srcs/.env",
        "srcs/requirements/bonus/website/site/index.html",
    ]
    # Back to the project's settings: a third commit, the first tree again.
    assert export(exported).returncode == 0
    assert git(exported, "diff", "HEAD~2", "HEAD") == ""


def test_nothing_is_lost_a_folder_with_other_files_or_uncommitted_work_is_refused(exported, tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me\n")
    run = export(other)
    assert run.returncode == 2
    assert "neither empty nor a git repository" in run.stderr
    assert [p.name for p in other.iterdir()] == ["mine.txt"]

    readme = exported / "README.md"
    before = readme.read_text()
    readme.write_text(before + "my own line\n")
    try:
        run = export(exported)
        assert run.returncode == 2
        assert "uncommitted changes" in run.stderr
        assert readme.read_text() == before + "my own line\n"
    finally:
        readme.write_text(before)


def test_make_creates_the_secrets_and_certificates_once_and_git_ignores_them(clone):
    run = make(clone, "secrets", "certificates")
    assert run.returncode == 0, run.stderr
    secrets = clone / "secrets"
    assert {p.name for p in secrets.iterdir() if p.is_file()} == SECRET_FILES
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    for path in secrets.rglob("*"):
        expected = "0o700" if path.is_dir() else "0o644" if path.suffix == ".crt" else "0o600"
        assert oct(path.stat().st_mode & 0o777) == expected, path
    credentials = dict(line.split("=", 1) for line in (secrets / "credentials.txt").read_text().splitlines())
    assert set(credentials) == {"wp_admin_password", "wp_user_password"}
    values = [(secrets / name).read_text().strip() for name in SECRET_FILES - {"credentials.txt"}]
    values += list(credentials.values())
    assert all(len(value) == 24 and value.isalnum() for value in values)
    assert len(set(values)) == len(values)
    ca = x509.load_pem_x509_certificate((secrets / "tls" / "ca.crt").read_bytes())
    server = x509.load_pem_x509_certificate((secrets / "tls" / "server.crt").read_bytes())
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["jdoe.42.fr"]
    permitted = ca.extensions.get_extension_for_class(x509.NameConstraints).value.permitted_subtrees
    assert [name.value for name in permitted] == ["jdoe.42.fr"]

    # Never replaced: a second make keeps every byte.
    made = {path: path.read_bytes() for path in secrets.rglob("*") if path.is_file()}
    run = make(clone, "secrets", "certificates")
    assert run.returncode == 0, run.stderr
    assert "created" not in run.stdout, run.stdout
    assert {path: path.read_bytes() for path in secrets.rglob("*") if path.is_file()} == made

    # Nothing make made can be committed, and no commit holds any of it.
    assert git(clone, "status", "--porcelain", "--untracked-files=all") == ""
    keys = [
        line for name in ("ca.key", "server.key") for line in key_lines((secrets / "tls" / name).read_text())
    ]
    assert values_in_history(clone, values + keys) == []
    assert private_keys_in_history(clone) == []


def test_the_history_search_finds_a_planted_secret(clone):
    make(clone, "secrets", "certificates")
    password = (clone / "secrets" / "db_password.txt").read_text().strip()
    key = (clone / "secrets" / "tls" / "server.key").read_text()
    (clone / "srcs" / "notes.txt").write_text(f"db: {password}\n")
    git(clone, "add", "srcs/notes.txt")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "oops")
    git(clone, "rm", "--quiet", "srcs/notes.txt")
    git(
        clone,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "--quiet",
        "-m",
        "removed, still in history",
    )
    assert values_in_history(clone, [password]) != []
    (clone / "leaked.pem").write_text(key)
    assert private_keys_in_history(clone) != []
    assert values_in_history(clone, key_lines(key)) != []


def test_without_openssl_a_container_of_the_base_image_makes_the_certificates(clone):
    run = make(clone, "certificates", "CERT_TOOL=container")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "in a container of debian:bookworm" in run.stdout
    tls = clone / "secrets" / "tls"
    ca = x509.load_pem_x509_certificate((tls / "ca.crt").read_bytes())
    x509.load_pem_x509_certificate((tls / "server.crt").read_bytes()).verify_directly_issued_by(ca)
    assert oct((tls / "server.key").stat().st_mode & 0o777) == "0o600"


def test_wordpress_may_use_two_cpus_or_the_one_the_engine_counts(exported, tmp_path):
    """Docker refuses a CPU limit above the machine's CPUs: the Makefile asks
    the engine and sets WORDPRESS_CPUS (1.0 on a one-CPU machine, empty
    elsewhere), which the compose file reads with 2.0 as its default. The
    one-CPU machine itself is the submission tier's target."""
    without = {name: value for name, value in os.environ.items() if name != "WORDPRESS_CPUS"}
    read = {
        setting: compose_config(exported / "srcs", env=without | env)["services"]["wordpress"]["cpus"]
        for setting, env in (
            ("unset", {}),
            ("empty", {"WORDPRESS_CPUS": ""}),
            ("one", {"WORDPRESS_CPUS": "1.0"}),
        )
    }
    assert read == {"unset": 2, "empty": 2, "one": 1}
    # The Makefile's rule, on this machine's engine and on the counts given to it.
    engine_cpus = subprocess.run(
        ["docker", "info", "--format", "{{.NCPU}}"], capture_output=True, text=True, check=True
    ).stdout.strip()
    exported_value = {
        count: make(
            exported,
            "--no-print-directory",
            f"DATA_DIR={tmp_path}",
            *([f"ENGINE_CPUS={count}"] if count else []),
            "--eval",
            'engine-cpus: ; @echo "[$$WORDPRESS_CPUS]"',
            "engine-cpus",
        ).stdout.strip()
        for count in ("", "1", "2", "16")
    }
    assert exported_value == {
        "": "[1.0]" if engine_cpus == "1" else "[]",
        "1": "[1.0]",
        "2": "[]",
        "16": "[]",
    }


def test_another_copy_hands_every_verb_to_the_tree_that_manages_the_data(exported, tmp_path):
    data = tmp_path / "data"
    first, second = tmp_path / "first", tmp_path / "second"
    for tree in (first, second):
        subprocess.run(["git", "clone", "--quiet", str(exported), str(tree)], check=True)
    # The first to run claims the data.
    assert make(first, f"DATA_DIR={data}", "data").returncode == 0
    assert (data / ".inception-tree").read_text().strip() == str(first)
    run = make(second, f"DATA_DIR={data}", "secrets")
    assert run.returncode == 0, run.stderr
    assert f"managed from {first}: running 'make secrets' there" in run.stdout
    assert (first / "secrets" / "db_password.txt").exists()
    assert not (second / "secrets").exists()
    # Once the first tree is gone, the next one takes over.
    subprocess.run(["rm", "-rf", str(first)], check=True)
    assert make(second, f"DATA_DIR={data}", "data").returncode == 0
    assert (data / ".inception-tree").read_text().strip() == str(second)


def test_hosts_adds_the_site_once_where_it_may_and_says_what_to_add_where_it_may_not(clone, tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n# 127.0.0.1 jdoe.42.fr (a comment does not count)\n")
    for _ in range(2):
        run = make(clone, f"HOSTS_FILE={hosts}", "hosts")
        assert run.returncode == 0, run.stderr
    assert hosts.read_text().splitlines()[-1] == "127.0.0.1 jdoe.42.fr"
    assert hosts.read_text().count("\n127.0.0.1 jdoe.42.fr") == 1
    # As an account that may not write it (root may write any file), in a
    # folder that account may read.
    with tempfile.TemporaryDirectory() as readable:
        shared = Path(readable)
        shared.chmod(0o755)
        tree = shutil.copytree(clone, shared / "tree")
        hosts = shared / "hosts"
        hosts.write_text("127.0.0.1 localhost\n")
        run = subprocess.run(
            [
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "--",
                "make",
                "-C",
                str(tree),
                f"HOSTS_FILE={hosts}",
                "hosts",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert f"add this line to {hosts} (as root): 127.0.0.1 jdoe.42.fr" in run.stdout
        assert hosts.read_text() == "127.0.0.1 localhost\n"


BASE_IMAGE_SCRIPT = PROJECT / "roles/inception_stack/files/srcs/requirements/tools/base-image.sh"


@pytest.fixture
def tiny_image(tmp_path):
    """A one-file image made here (no registry answers for it), saved to an archive."""
    name = f"inception-test/base:{os.getpid()}"
    content = tmp_path / "content"
    content.mkdir()
    (content / "hello").write_text("hello\n")
    subprocess.run(
        f"tar -C {content} -c . | docker import - {name}", shell=True, check=True, capture_output=True
    )
    archive = tmp_path / "base.tar.gz"
    subprocess.run(f"docker save {name} | gzip -1 > {archive}", shell=True, check=True)
    yield name, archive
    subprocess.run(["docker", "rmi", "--force", name], capture_output=True, check=False)


def base_image(name: str, archive: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(BASE_IMAGE_SCRIPT), name, str(archive)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_the_base_image_is_kept_else_loaded_from_the_saved_copy_else_explained(tiny_image, tmp_path):
    name, archive = tiny_image
    # Present: nothing to do, nothing said.
    run = base_image(name, tmp_path / "absent.tar.gz")
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    # Missing, and no registry has it: loaded from the saved copy.
    subprocess.run(["docker", "rmi", name], check=True, capture_output=True)
    run = base_image(name, archive)
    assert run.returncode == 0, run.stderr
    assert f"loading {archive}" in run.stdout
    assert (
        subprocess.run(["docker", "image", "inspect", name], capture_output=True, check=False).returncode == 0
    )
    # Missing, no registry, no copy: a message says how to get one.
    subprocess.run(["docker", "rmi", name], check=True, capture_output=True)
    run = base_image(name, tmp_path / "absent.tar.gz")
    assert run.returncode == 1
    assert f"docker save {name} | gzip > debian-bookworm.tar.gz" in run.stderr
    assert f"copy that file to {tmp_path / 'absent.tar.gz'}" in run.stderr
