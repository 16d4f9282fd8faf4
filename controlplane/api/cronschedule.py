"""Cron schedules as Kubernetes reads them: five fields, or an @hourly-style macro, in a time zone.

    schedule = parse("*/15 9-17 * * mon-fri", time_zone="Europe/Paris")
    schedule.next(after)       # the first time strictly after `after` (aware datetimes)
    schedule.previous(at)      # the last time at or before `at`

Fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or
jan-dec), day of week (0-6 or sun-sat); each `*` (or `?` in the day fields),
a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (from a to the end),
or a comma list of those. When both day fields are restricted a day matches
either (classic cron); when one is `*`, only the other counts. Times are wall
clock times in the zone (UTC by default): a time the clocks repeat runs once,
a time they skip runs as much later as the gap is long. Pure:
the CronJob controller and validation both use it.
"""
from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (name, low, high, names for low.., whether `?` is allowed)
_FIELDS = (("minute", 0, 59, (), False), ("hour", 0, 23, (), False), ("day of month", 1, 31, (), True),
           ("month", 1, 12, _MONTHS, False), ("day of week", 0, 6, _DAYS, True))
_SEARCH_YEARS = 5   # a schedule with no time in this many years never runs (e.g. February 30th)
_MINUTE = datetime.timedelta(minutes=1)


class ScheduleError(ValueError):
    """A schedule that cannot be read; the message says which part and why."""


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]      # 0 = Sunday
    days_restricted: bool         # day of month is not `*`
    weekdays_restricted: bool
    zone: datetime.tzinfo

    def _day_matches(self, day: datetime.datetime) -> bool:
        in_month = day.day in self.days
        in_week = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_month or in_week
        return in_month and in_week

    def next(self, after: datetime.datetime) -> datetime.datetime | None:
        """The first scheduled time strictly after `after`; None if there is none within years."""
        wall = after.astimezone(self.zone).replace(tzinfo=None, second=0, microsecond=0) + _MINUTE
        limit = wall.year + _SEARCH_YEARS
        while wall.year <= limit:
            if wall.month not in self.months:
                wall = (wall.replace(day=1, hour=0, minute=0) + datetime.timedelta(days=32)).replace(day=1)
            elif not self._day_matches(wall):
                wall = wall.replace(hour=0, minute=0) + datetime.timedelta(days=1)
            elif wall.hour not in self.hours:
                wall = wall.replace(minute=0) + datetime.timedelta(hours=1)
            elif wall.minute not in self.minutes:
                wall += _MINUTE
            else:
                found = _aware(wall, self.zone)
                if found > after:
                    return found
                wall += _MINUTE   # the second pass through a repeated hour (clocks set back)
        return None

    def previous(self, at: datetime.datetime) -> datetime.datetime | None:
        """The last scheduled time at or before `at`; None if there is none within years."""
        wall = at.astimezone(self.zone).replace(tzinfo=None, second=0, microsecond=0)
        limit = wall.year - _SEARCH_YEARS
        while wall.year >= limit:
            if wall.month not in self.months:
                wall = wall.replace(day=1, hour=23, minute=59) - datetime.timedelta(days=1)
            elif not self._day_matches(wall):
                wall = wall.replace(hour=23, minute=59) - datetime.timedelta(days=1)
            elif wall.hour not in self.hours:
                wall = wall.replace(minute=59) - datetime.timedelta(hours=1)
            elif wall.minute not in self.minutes:
                wall -= _MINUTE
            else:
                found = _aware(wall, self.zone)
                if found <= at:
                    return found
                wall -= _MINUTE
        return None


def _aware(wall: datetime.datetime, zone: datetime.tzinfo) -> datetime.datetime:
    """A wall time in `zone` as a UTC instant. A repeated time (clocks set back) is its first
    occurrence; a skipped one (clocks set forward) maps past the gap (PEP 495's fold=0)."""
    return wall.replace(tzinfo=zone).astimezone(datetime.timezone.utc)


def zone(name: str | None) -> datetime.tzinfo:
    """The IANA time zone `name` (UTC when empty); ScheduleError if there is no such zone."""
    if not name:
        return datetime.timezone.utc
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f'unknown time zone "{name}"') from None


def parse(text: str, *, time_zone: str | None = None) -> Schedule:
    """Read a schedule; ScheduleError naming the bad part."""
    spec = text.strip()
    if spec.startswith(("TZ=", "CRON_TZ=")):
        raise ScheduleError("cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    if spec.startswith("@"):
        if spec.lower() not in MACROS:
            raise ScheduleError(f'unrecognized descriptor "{spec}" (supported: {", ".join(MACROS)})')
        spec = MACROS[spec.lower()]
    words = spec.split()
    if len(words) != 5:
        raise ScheduleError(f"expected exactly 5 fields (minute hour day-of-month month day-of-week), "
                            f"found {len(words)}: {text!r}")
    sets = [_field(word, *field) for word, field in zip(words, _FIELDS)]
    return Schedule(*map(frozenset, sets), days_restricted=words[2] not in ("*", "?"),
                    weekdays_restricted=words[4] not in ("*", "?"), zone=zone(time_zone))


def _field(word: str, name: str, low: int, high: int, names: tuple[str, ...], question: bool) -> set[int]:
    values: set[int] = set()
    for part in word.split(","):
        values |= _part(part, name, low, high, names, question)
    return values


def _part(part: str, name: str, low: int, high: int, names: tuple[str, ...], question: bool) -> set[int]:
    span, _, step_text = part.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) == 0:
            raise ScheduleError(f'{name}: bad step "{step_text}" in "{part}"')
        step = int(step_text)
    if span == "*" or (span == "?" and question):
        start, end = low, high
    else:
        first, dash, last = span.partition("-")
        start = _value(first, name, low, high, names)
        end = _value(last, name, low, high, names) if dash else (high if step_text else start)
        if start > end:
            raise ScheduleError(f'{name}: range "{span}" runs backwards')
    return set(range(start, end + 1, step))


def _value(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if text.lower() in names:
        return low + names.index(text.lower())
    if not text.isdigit():
        raise ScheduleError(f'{name}: "{text}" is not a number' + (f" or a name ({names[0]}-{names[-1]})"
                                                                  if names else ""))
    value = int(text)
    if not low <= value <= high:
        raise ScheduleError(f"{name}: {value} is out of range {low}-{high}")
    return value
