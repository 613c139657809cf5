"""Reading a compose or stack file as Compose v2 does (`config`): the unit
tier's check that values reach a service intact through its interpolation
($ starts a variable, $$ is one $), which `docker stack deploy` shares."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support.project import PROJECT

COMPOSE_V2 = PROJECT / ".cache" / "compose-v2" / "docker-compose"


def compose_config(
    folder: Path, file: str = "", consistency: bool = True, env: dict[str, str] | None = None
) -> dict:
    """The project in `folder` (its default file, or `file`) as Compose v2
    reads it, in the environment given (this process's by default)."""
    assert COMPOSE_V2.is_file(), "no Compose v2 here: run scripts/prerequisites (make test does)"
    command = [str(COMPOSE_V2), *(["--file", file] if file else []), "config", "--format", "json"]
    if not consistency:
        command.append("--no-consistency")
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
