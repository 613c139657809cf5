"""The unit tier's set-up (no target needed); its helpers live in the
tests.support package."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.plugins.loader import init_plugin_loader

from tests.support.project import PROJECT

# Ansible's collection finder must be installed before anything imports
# `ansible_collections` as a plain package (test_toolchain does), or lookups
# from collections cannot be loaded in the same process afterwards.
init_plugin_loader()


@pytest.fixture(scope="session")
def project() -> Path:
    return PROJECT
