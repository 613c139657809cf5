"""The entrypoints' one way to read Docker secrets
(roles/inception_stack/shared/tools/secrets.sh), run by bash as they run it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.project import PROJECT

LIBRARY = PROJECT / "roles" / "inception_stack" / "shared" / "tools" / "secrets.sh"
VALUE = "s3cr3t-Value-1234"


def entrypoint(secrets: Path, script: str) -> subprocess.CompletedProcess[str]:
    """bash with the library sourced as an entrypoint sources it."""
    program = f"set -euo pipefail\nENTRYPOINT_NAME=demo\n. {LIBRARY}\n{script}\n"
    return subprocess.run(
        ["bash", "-c", program],
        capture_output=True,
        text=True,
        env={"SECRETS_DIR": str(secrets), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_a_secret_is_read_without_its_newline(tmp_path):
    (tmp_path / "db_password").write_text(VALUE + "\n")
    done = entrypoint(tmp_path, 'printf "[%s]" "$(read_secret db_password)"')
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"[{VALUE}]"


def test_a_missing_or_empty_secret_stops_naming_it(tmp_path):
    (tmp_path / "empty").write_text("")
    for name in ("absent", "empty"):
        done = entrypoint(tmp_path, f"read_secret {name}; echo reached")
        assert done.returncode == 1
        assert f"demo: the Docker secret {name} is missing or empty" in done.stderr
        assert "reached" not in done.stdout


def test_one_key_of_a_key_value_secret_never_shows_the_others(tmp_path):
    (tmp_path / "credentials").write_text(f"wp_admin_password={VALUE}\nwp_user_password=other=value $x\n")
    done = entrypoint(tmp_path, 'printf "[%s]" "$(read_secret_key credentials wp_user_password)"')
    assert done.stdout == "[other=value $x]"  # read, not sourced: nothing expands
    missing = entrypoint(tmp_path, "read_secret_key credentials wp_root_password")
    assert missing.returncode == 1
    assert "demo: the Docker secret credentials has no wp_root_password" in missing.stderr
    assert VALUE not in missing.stderr + missing.stdout
