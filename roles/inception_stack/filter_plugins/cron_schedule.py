"""Filters over cron schedules; the parsing lives with the test plugin
(test_plugins/cron.py), written once."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "inception_cron", Path(__file__).resolve().parent.parent / "test_plugins" / "cron.py"
)
_CRON = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_CRON)


class FilterModule:
    def filters(self):
        return {
            "inception_cron_longest_gap": _CRON.inception_cron_longest_gap,
            "inception_cron_problem": _CRON.inception_cron_problem,
        }
