"""The cron schedule plugin (roles/inception_stack/test_plugins/cron.py):
each field as Debian's cron reads it, and the longest wait between two runs
that the backup service's healthcheck holds the newest backup to."""

from __future__ import annotations

import importlib.util

import pytest

from tests.support.project import PROJECT

_SPEC = importlib.util.spec_from_file_location(
    "cron_plugin", PROJECT / "roles" / "inception_stack" / "test_plugins" / "cron.py"
)
cron = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(cron)

HOUR = 3600
DAY = 24 * HOUR


@pytest.mark.parametrize(
    ("schedule", "longest_gap"),
    [
        ("30 3 * * *", DAY),
        ("*/15 * * * *", 15 * 60),
        ("0 */6 * * *", 6 * HOUR),
        ("0 3,15 * * *", 12 * HOUR),
        ("0 12 * * 1-5", 3 * DAY),  # Friday noon to Monday noon
        ("0 12 * * mon-fri", 3 * DAY),
        ("5 4 * * sun", 7 * DAY),
        ("5 4 * * 7", 7 * DAY),  # 7 is Sunday too
        ("0 0 1 * *", 31 * DAY),
        ("0 0 1 jan,jul *", 184 * DAY),  # July 1st to January 1st
        ("15 10/5 * * *", 14 * HOUR),  # 10:15, 15:15, 20:15, then 10:15 the next day
        # Day of month and weekday both restricted: either one is enough.
        ("0 0 1 * mon", 7 * DAY),
    ],
)
def test_longest_gap_between_two_runs(schedule, longest_gap):
    assert cron.inception_cron_schedule(schedule)
    assert cron.inception_cron_longest_gap(schedule) == longest_gap


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("61 3 * * *", "61 is outside 0-59"),
        ("30 24 * * *", "24 is outside 0-23"),
        ("30 3 0 * *", "0 is outside 1-31"),
        ("30 3 * 13 *", "13 is outside 1-12"),
        ("30 3 * * 8", "8 is outside 0-7"),
        ("*/0 * * * *", "'*/0': a step must be at least 1"),
        ("30 3 * * * *", "cron needs five fields"),
        ("30 3 * *", "cron needs five fields"),
        ("", "cron needs five fields"),
        ("30-10 3 * * *", "the range runs backwards"),
        ("30 3 * * someday", "'someday' is neither a number nor a name"),
        ("@daily * * * *", "'@daily' is not a cron term"),
        ("30 3 31 2 *", "runs less than twice in four years"),
        ("30 3 29 2 *", "runs less than twice in four years"),
        # Twice a day, on a day that never comes: never.
        ("0,30 3 31 2 *", "runs less than twice in four years"),
    ],
)
def test_schedules_cron_would_not_run_are_named(schedule, problem):
    assert not cron.inception_cron_schedule(schedule)
    assert problem in cron.inception_cron_problem(schedule)


def test_a_schedule_that_is_not_text_is_refused():
    assert not cron.inception_cron_schedule(None)
    assert not cron.inception_cron_schedule(["30", "3", "*", "*", "*"])
