"""The role host_layout, run on this machine against accounts it must not
touch: the login's account is made locked and without a shell, so an account
that already exists and is not such an account (a system account, or a
person's with a shell) is refused before anything changes."""

from __future__ import annotations

import json
import pwd
import subprocess

import pytest

from tests.support.ansible_run import run_role_here

REFUSAL = "was not made by this project; locking it would lock its owner out"


def run_role(tmp_path, login: str) -> tuple[int, str]:
    code, report = run_role_here(
        tmp_path, "host_layout", {"host_layout_login": login, "host_layout_domain": f"{login}.42.fr"}
    )
    return code, json.dumps(report)


def shadow_and_passwd(login: str) -> tuple[str, str]:
    entry = subprocess.run(["getent", "passwd", login], capture_output=True, text=True, check=True).stdout
    status = subprocess.run(["passwd", "--status", login], capture_output=True, text=True, check=True).stdout
    return entry, status.split()[1]


@pytest.mark.parametrize("login", ["daemon", "nobody"])
def test_a_system_account_is_refused_and_left_as_it_was(tmp_path, login):
    before = shadow_and_passwd(login)
    code, report = run_role(tmp_path, login)
    assert code != 0
    assert REFUSAL in report
    assert shadow_and_passwd(login) == before


@pytest.fixture
def person(tmp_path):
    """An ordinary account with a shell and a password, as a Vagrant box's is."""
    login = "inceptionperson"
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", login], check=True)
    subprocess.run(["chpasswd"], input=f"{login}:a-password-of-its-own\n", text=True, check=True)
    yield login
    subprocess.run(["userdel", "--remove", login], check=False, capture_output=True)


def test_a_persons_account_is_refused_and_left_as_it_was(tmp_path, person):
    assert pwd.getpwnam(person).pw_uid >= 1000
    before = shadow_and_passwd(person)
    assert before[1] == "P"  # a usable password
    code, report = run_role(tmp_path, person)
    assert code != 0
    assert REFUSAL in report
    assert shadow_and_passwd(person) == before
