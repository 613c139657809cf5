"""The evaluator's first step: no credential in git outside the secrets.

Runs on this machine, in the project's own repository: every secret the
target holds is looked for in every commit and in the working tree (files not
yet committed included, ignored ones excluded), and so is any private key.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.project import PROJECT

pytestmark = pytest.mark.evaluation("1")

# Split so that this file does not match itself.
PRIVATE_KEY = "-----BEGIN [A-Z ]*" + "PRIVATE KEY-----"


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(PROJECT), *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def revisions() -> list[str]:
    listed = git("rev-list", "--all")
    assert listed.returncode == 0, f"the project is not a git checkout: {listed.stderr}"
    return listed.stdout.split()


def assert_no_match(found: subprocess.CompletedProcess) -> None:
    # git grep: 1 = nothing found, 0 = found (the files are listed), else an error.
    assert found.returncode == 1, found.stdout or found.stderr


def test_no_secret_value_in_any_commit_or_in_the_working_tree(secret_values, revisions, tmp_path):
    patterns = tmp_path / "patterns"
    patterns.write_text("\n".join(secret_values.values()) + "\n")
    assert_no_match(git("grep", "-l", "-F", "-f", str(patterns), *revisions))
    assert_no_match(git("grep", "-l", "--untracked", "-F", "-f", str(patterns)))


def test_no_private_key_in_any_commit_or_in_the_working_tree(revisions):
    assert_no_match(git("grep", "-l", "-E", "-e", PRIVATE_KEY, *revisions))
    assert_no_match(git("grep", "-l", "--untracked", "-E", "-e", PRIVATE_KEY))


def test_generated_secrets_on_this_machine_are_ignored_by_git(target):
    generated = Path(target.controller_dir)
    assert (generated / "secrets").is_dir()
    for path in (generated / "secrets" / "db_password", target.ca_path):
        assert git("check-ignore", "--quiet", str(path)).returncode == 0, f"{path} is not ignored by git"
