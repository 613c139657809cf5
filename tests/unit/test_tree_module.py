"""The inception_tree module (roles/inception_stack/library), run by Ansible on this machine."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.project import PROJECT

LIBRARY = PROJECT / "roles" / "inception_stack" / "library"


def run_module(args: dict, check: bool = False) -> tuple[int, dict]:
    """One `ansible localhost -m inception_tree` call; its return code and result."""
    command = [shutil.which("ansible") or "ansible", "localhost", "-M", str(LIBRARY), "-m", "inception_tree"]
    command += ["-a", json.dumps(args), "-o"] + (["--check"] if check else [])
    run = subprocess.run(
        command,
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"},
        timeout=120,
    )
    # "localhost | CHANGED => {...}" on one line with -o
    _, _, result = run.stdout.partition("=> ")
    return run.returncode, json.loads(result) if result else {"stderr": run.stderr}


@pytest.fixture
def tree(tmp_path) -> dict:
    return {
        "root": str(tmp_path / "tree"),
        "folders": ["conf", "conf/deep"],
        "files": [{"path": "conf/a.conf", "service": "nginx"}, {"path": "conf/deep/run.sh", "mode": "0755"}],
        "contents": ["listen 443;\n", "#!/bin/sh\nexec true\n"],
    }


def test_first_run_writes_everything_with_owner_and_mode(tree):
    rc, result = run_module(tree)
    assert rc == 0, result
    assert result["changed"]
    assert result["written"] == ["conf/a.conf", "conf/deep/run.sh"]
    assert result["folders_made"] == [".", "conf", "conf/deep"]
    script = os.stat(f"{tree['root']}/conf/deep/run.sh")
    assert oct(script.st_mode & 0o7777) == "0o755"
    assert (script.st_uid, script.st_gid) == (0, 0)
    assert Path(tree["root"], "conf/a.conf").read_text() == "listen 443;\n"


def test_second_run_changes_nothing(tree):
    run_module(tree)
    rc, result = run_module(tree)
    assert rc == 0
    assert not result["changed"]
    assert result["written"] == []
    assert result["folders_made"] == []


def test_only_the_file_that_differs_is_written(tree):
    run_module(tree)
    os.chmod(f"{tree['root']}/conf/a.conf", 0o600)
    tree["contents"][1] = "#!/bin/sh\nexec false\n"
    rc, result = run_module(tree)
    assert rc == 0
    assert result["written"] == ["conf/a.conf", "conf/deep/run.sh"]
    untouched = {**tree, "contents": list(tree["contents"])}
    os.chmod(f"{tree['root']}/conf/a.conf", 0o644)
    untouched["contents"][0] = "listen 8443;\n"
    assert run_module(untouched)[1]["written"] == ["conf/a.conf"]
    assert Path(tree["root"], "conf/deep/run.sh").read_text() == "#!/bin/sh\nexec false\n"


def test_check_mode_reports_and_writes_nothing(tree):
    rc, result = run_module(tree, check=True)
    assert rc == 0
    assert result["changed"]
    assert result["written"] == ["conf/a.conf", "conf/deep/run.sh"]
    assert not os.path.exists(tree["root"])


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "conf/../../escape"])
def test_path_outside_the_root_is_refused_before_anything_is_written(tree, path):
    tree["files"].append({"path": path})
    tree["contents"].append("x")
    rc, result = run_module(tree)
    assert rc != 0
    assert f"'{path}' must be a relative path inside root" in result["msg"]
    assert not os.path.exists(tree["root"])


def test_contents_that_do_not_match_the_files_are_refused(tree):
    tree["contents"].pop()
    rc, result = run_module(tree)
    assert rc != 0
    assert "2 files but 1 contents" in result["msg"]
    assert not os.path.exists(tree["root"])


def test_bad_mode_is_refused_by_name(tree):
    tree["files"][0]["mode"] = "rw-r--r--"
    rc, result = run_module(tree)
    assert rc != 0
    assert "'conf/a.conf' has mode 'rw-r--r--', not an octal number" in result["msg"]


def test_plain_paths_take_the_default_modes(tmp_path):
    secrets = {
        "root": str(tmp_path / "secrets"),
        "folder_mode": "0700",
        "file_mode": "0600",
        "files": ["db_password.txt"],
        "contents": ["not-a-real-password\n"],
    }
    rc, result = run_module(secrets)
    assert rc == 0, result
    assert oct(os.stat(secrets["root"]).st_mode & 0o7777) == "0o700"
    assert oct(os.stat(f"{secrets['root']}/db_password.txt").st_mode & 0o7777) == "0o600"
    assert not run_module(secrets)[1]["changed"]


def test_keep_existing_leaves_a_file_that_exists_and_names_it_when_it_differs(tree):
    """Secrets: whoever made them first (the tree's make, or an earlier run) wins."""
    Path(tree["root"], "conf/deep").mkdir(parents=True)
    made_first = Path(tree["root"], "conf/a.conf")
    made_first.write_text("made by make\n")
    made_first.chmod(0o600)
    rc, result = run_module({**tree, "keep_existing": True})
    assert rc == 0, result
    assert made_first.read_text() == "made by make\n"
    assert result["kept"] == ["conf/a.conf"]
    assert result["modes_set"] == ["conf/a.conf"]
    assert oct(made_first.stat().st_mode & 0o7777) == "0o644"
    # The missing one is written as usual.
    assert result["written"] == ["conf/deep/run.sh"]
    rc, again = run_module({**tree, "keep_existing": True})
    assert rc == 0, again
    assert not again["changed"], again
    assert again["kept"] == ["conf/a.conf"]


def test_with_a_record_its_own_files_are_rotated_and_others_kept(tree):
    """A secret the playbook wrote follows the inventory; one made by the tree's make stays."""
    args = {**tree, "keep_existing": True, "record": ".written"}
    rc, result = run_module(args)
    assert rc == 0, result
    assert result["written"] == ["conf/a.conf", "conf/deep/run.sh", ".written"]
    record = Path(tree["root"], ".written")
    assert oct(record.stat().st_mode & 0o7777) == "0o600"
    # The inventory's value changes: the module's own file is rewritten.
    rc, result = run_module({**args, "contents": ["listen 8443;\n", tree["contents"][1]]})
    assert rc == 0, result
    assert result["rotated"] == ["conf/a.conf"]
    assert Path(tree["root"], "conf/a.conf").read_text() == "listen 8443;\n"
    # Changed by someone else since: kept, and reported.
    Path(tree["root"], "conf/a.conf").write_text("made by hand\n")
    rc, result = run_module({**args, "contents": ["listen 9443;\n", tree["contents"][1]]})
    assert rc == 0, result
    assert result["kept"] == ["conf/a.conf"]
    assert result["rotated"] == []
    assert Path(tree["root"], "conf/a.conf").read_text() == "made by hand\n"
    # Nothing new: nothing changes.
    rc, result = run_module({**args, "contents": ["listen 9443;\n", tree["contents"][1]]})
    assert rc == 0, result
    assert not result["changed"], result


def test_digests_are_keyed_follow_each_file_and_the_key_is_made_once(tree):
    """A label can follow a secret: its digest moves when the file does, and is
    no plain sha256 (which a short password's could be found from)."""
    args = {**tree, "keep_existing": True, "record": ".written", "digest_key": ".digest-key"}
    rc, first = run_module(args)
    assert rc == 0, first
    key_file = Path(tree["root"], ".digest-key")
    key = key_file.read_bytes()
    assert len(key) == 32
    assert oct(key_file.stat().st_mode & 0o7777) == "0o600"
    content = tree["contents"][0].encode()
    assert first["digests"]["conf/a.conf"] == hmac.new(key, content, hashlib.sha256).hexdigest()
    assert hashlib.sha256(content).hexdigest() not in json.dumps(first)
    # The same files again: the same digests, the key kept, nothing changed.
    rc, again = run_module(args)
    assert rc == 0, again
    assert not again["changed"], again
    assert again["digests"] == first["digests"]
    assert key_file.read_bytes() == key
    # A file someone else changed is kept: its digest is the kept content's.
    Path(tree["root"], "conf/a.conf").write_text("made by hand\n")
    rc, kept = run_module(args)
    assert rc == 0, kept
    assert kept["kept"] == ["conf/a.conf"]
    assert kept["digests"]["conf/a.conf"] == hmac.new(key, b"made by hand\n", hashlib.sha256).hexdigest()
    assert kept["digests"]["conf/deep/run.sh"] == first["digests"]["conf/deep/run.sh"]
    # Check mode on a fresh tree makes no key and promises no digest.
    rc, checked = run_module({**args, "root": tree["root"] + "-new"}, check=True)
    assert rc == 0, checked
    assert checked["digests"] == {}
    assert not Path(tree["root"] + "-new").exists()
