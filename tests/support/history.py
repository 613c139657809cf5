"""Searching a git repository's whole history for secrets: the evaluator's
first step, for the project's own repository and for an exported submission
alike."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

# Split so that this file does not match itself.
PRIVATE_KEY = "-----BEGIN [A-Z ]*" + "PRIVATE KEY-----"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


def _matches(found: subprocess.CompletedProcess) -> list[str]:
    # git grep: 1 = nothing found, 0 = found (the places are listed), else an error.
    if found.returncode not in (0, 1):
        raise RuntimeError(found.stderr)
    return found.stdout.split("\n") if found.returncode == 0 else []


def revisions(repo: Path) -> list[str]:
    """Every commit reachable from any reference."""
    listed = _git(repo, "rev-list", "--all")
    if listed.returncode != 0:
        raise RuntimeError(f"{repo} is not a git checkout: {listed.stderr}")
    return listed.stdout.split()


def key_lines(pem: str) -> list[str]:
    """The body lines of a PEM private key: any one of them found is a leak."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def _found_anywhere(repo: Path, *pattern: str) -> list[str]:
    """git grep's places for the pattern: in every commit, then in the working
    tree (files not committed yet included, ignored ones left out)."""
    found = _matches(_git(repo, "grep", "-l", *pattern, *revisions(repo)))
    found += _matches(_git(repo, "grep", "-l", "--untracked", *pattern))
    return [place for place in found if place]


def values_in_history(repo: Path, values: list[str]) -> list[str]:
    """Where any of the values appears, in any commit or in the working tree.
    Empty: nowhere."""
    values = [value for value in values if value]
    if not values:
        raise ValueError("no value to look for: that search would prove nothing")
    with tempfile.NamedTemporaryFile("w", suffix=".patterns") as patterns:
        patterns.write("\n".join(values) + "\n")
        patterns.flush()
        return _found_anywhere(repo, "-F", "-f", patterns.name)


def private_keys_in_history(repo: Path) -> list[str]:
    """Where a PEM private key appears, in any commit or in the working tree."""
    return _found_anywhere(repo, "-E", "-e", PRIVATE_KEY)
