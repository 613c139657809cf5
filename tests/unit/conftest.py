"""Shared paths for the unit tests (no target needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (PROJECT / "roles").iterdir() if (p / "tasks" / "main.yml").exists())


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text()) if path.exists() else None


@pytest.fixture(scope="session")
def project() -> Path:
    return PROJECT
