"""The evaluator's first step: no credential in git outside the secrets.

Runs on this machine, in the project's own repository: every secret the
target holds is looked for in every commit and in the working tree (files not
yet committed included, ignored ones excluded), and so is any private key.
The search is tests/support/history.py, shared with the exported submission's.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.history import private_keys_in_history, values_in_history
from tests.support.project import PROJECT

pytestmark = pytest.mark.evaluation("1")


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(PROJECT), *args], capture_output=True, text=True, check=False)


def test_no_secret_value_in_any_commit_or_in_the_working_tree(secret_values):
    assert values_in_history(PROJECT, list(secret_values.values())) == []


def test_no_private_key_in_any_commit_or_in_the_working_tree():
    assert private_keys_in_history(PROJECT) == []


def test_generated_secrets_on_this_machine_are_ignored_by_git(target):
    generated = Path(target.controller_dir)
    assert (generated / "secrets").is_dir()
    for path in (generated / "secrets" / "db_password", target.ca_path):
        assert git("check-ignore", "--quiet", str(path)).returncode == 0, f"{path} is not ignored by git"
