"""Cron schedules as Debian's cron reads them, for pre-flight and the role:
`value is inception_cron_schedule` (five valid fields, or a clear no), and
the longest wait between two runs, `value | inception_cron_longest_gap` (in
seconds), which tells the backup service's healthcheck how old its newest
backup may be.

Debian's cron ignores a whole file when one field is out of range (61 minutes,
*/0): the stack would silently never back up. So each field is checked here
against cron's own grammar: `*`, a number, a range `a-b`, each with an
optional step `/n` (n at least 1), lists of those with `,`, and the month and
weekday names cron knows.
"""

from __future__ import annotations

import datetime
import itertools
import re

# (lowest, highest, names) per field: minute, hour, day of month, month, weekday.
_FIELDS = (
    (0, 59, ()),
    (0, 23, ()),
    (1, 31, ()),
    (1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    # 7 is Sunday too, as 0 is.
    (0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_TERM = re.compile(r"^(?P<range>\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(?P<step>[0-9]+))?$")


class CronError(ValueError):
    """A schedule cron would not run."""


def _value(text: str, lowest: int, highest: int, names: tuple[str, ...]) -> int:
    if text in names:
        # Months count from 1, weekdays from 0.
        return names.index(text) + lowest if lowest == 1 else names.index(text)
    if not text.isdigit():
        raise CronError(f"'{text}' is neither a number nor a name cron knows")
    number = int(text)
    if not lowest <= number <= highest:
        raise CronError(f"{number} is outside {lowest}-{highest}")
    return number


def _field(text: str, lowest: int, highest: int, names: tuple[str, ...]) -> set[int]:
    values: set[int] = set()
    for term in text.lower().split(","):
        match = _TERM.match(term)
        if not match:
            raise CronError(f"'{term}' is not a cron term (*, n, a-b, each with an optional /step)")
        step = int(match["step"]) if match["step"] is not None else 1
        if step < 1:
            raise CronError(f"'{term}': a step must be at least 1")
        if match["range"] == "*":
            first, last = lowest, highest
        else:
            first_text, _, last_text = match["range"].partition("-")
            first = _value(first_text, lowest, highest, names)
            last = _value(last_text, lowest, highest, names) if last_text else first
            if match["step"] is not None and not last_text:
                # "5/10" means from 5 to the end, every 10.
                last = highest
            if last < first:
                raise CronError(f"'{term}': the range runs backwards")
        values.update(range(first, last + 1, step))
    return values


def parse(schedule: object) -> tuple[set[int], set[int], set[int], set[int], set[int], bool, bool]:
    """The sets of minutes, hours, days, months and weekdays a schedule
    runs at, and whether its day of month and weekday fields are restricted."""
    if not isinstance(schedule, str):
        raise CronError("a schedule is text of five fields")
    fields = schedule.split()
    if len(fields) != 5:
        raise CronError(f"cron needs five fields (minute hour day month weekday), got {len(fields)}")
    sets = [_field(text, *spec) for text, spec in zip(fields, _FIELDS, strict=True)]
    weekdays = {0 if day == 7 else day for day in sets[4]}
    return sets[0], sets[1], sets[2], sets[3], weekdays, fields[2] != "*", fields[4] != "*"


def inception_cron_problem(schedule: object) -> str:
    """Why cron would not run this schedule (regularly), or '' when it would."""
    try:
        inception_cron_longest_gap(schedule)
    except CronError as problem:
        return str(problem)
    return ""


def inception_cron_schedule(schedule: object) -> bool:
    return inception_cron_problem(schedule) == ""


def _runs_on(day: datetime.date, when: tuple) -> bool:
    """Whether the schedule (parse()'s answer) runs on that day."""
    _, _, days, months, weekdays, days_restricted, weekdays_restricted = when
    if day.month not in months:
        return False
    by_day = day.day in days
    by_weekday = (day.isoweekday() % 7) in weekdays
    # cron: when both are restricted, either one matching is enough.
    if days_restricted and weekdays_restricted:
        return by_day or by_weekday
    return by_day and by_weekday


def inception_cron_longest_gap(schedule: object) -> int:
    """The longest time, in seconds, between two runs of the schedule, over
    four years (a leap day's schedule runs once in four)."""
    when = parse(schedule)
    minutes, hours = when[0], when[1]
    times = sorted(hour * 60 + minute for hour in hours for minute in minutes)
    # Within a day the gaps are the same every day it runs.
    longest = max((later - earlier for earlier, later in itertools.pairwise(times)), default=0)
    first_day = datetime.date(2024, 1, 1)
    days_run = 0
    previous_end = None  # minutes since first_day of the last run so far
    for offset in range(4 * 366 + 8):
        if not _runs_on(first_day + datetime.timedelta(days=offset), when):
            continue
        days_run += 1
        if previous_end is not None:
            longest = max(longest, offset * 1440 + times[0] - previous_end)
        previous_end = offset * 1440 + times[-1]
    if days_run * len(times) < 2:
        raise CronError("the schedule runs less than twice in four years")
    return longest * 60


class TestModule:
    def tests(self):
        return {"inception_cron_schedule": inception_cron_schedule}
