"""Cron schedules (controlplane/api/cronschedule.py): syntax, next/previous times, time zones."""
import datetime
import re

import pytest

from controlplane.api import cronschedule

UTC = datetime.timezone.utc


def at(text: str, tz=UTC) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=tz)


def following(schedule: str, start: str, count: int, *, time_zone=None) -> list[str]:
    parsed = cronschedule.parse(schedule, time_zone=time_zone)
    out, t = [], at(start)
    for _ in range(count):
        t = parsed.next(t)
        out.append(t.astimezone(UTC).strftime("%Y-%m-%d %H:%M %a"))
    return out


@pytest.mark.parametrize("schedule, start, expected", [
    ("*/1 * * * *", "2026-03-01 10:00:30", ["2026-03-01 10:01 Sun", "2026-03-01 10:02 Sun"]),
    ("*/15 9-17 * * mon-fri", "2026-03-06 17:50", ["2026-03-09 09:00 Mon", "2026-03-09 09:15 Mon"]),
    ("0 0 1,15 * *", "2026-01-10 00:00", ["2026-01-15 00:00 Thu", "2026-02-01 00:00 Sun"]),
    ("30 2 * jan,JUL *", "2026-01-31 03:00", ["2026-07-01 02:30 Wed", "2026-07-02 02:30 Thu"]),
    ("5-20/5 * * * *", "2026-01-01 00:17", ["2026-01-01 00:20 Thu", "2026-01-01 01:05 Thu"]),
    ("10/20 * * * *", "2026-01-01 00:00", ["2026-01-01 00:10 Thu", "2026-01-01 00:30 Thu"]),
    ("0 12 13 * 5", "2026-02-01 00:00", ["2026-02-06 12:00 Fri", "2026-02-13 12:00 Fri"]),   # 13th OR Friday
    ("0 0 29 2 *", "2026-01-01 00:00", ["2028-02-29 00:00 Tue", "2032-02-29 00:00 Sun"]),
    ("@hourly", "2026-01-01 00:00", ["2026-01-01 01:00 Thu", "2026-01-01 02:00 Thu"]),
    ("@weekly", "2026-01-01 00:00", ["2026-01-04 00:00 Sun", "2026-01-11 00:00 Sun"]),
    ("@yearly", "2026-06-01 00:00", ["2027-01-01 00:00 Fri", "2028-01-01 00:00 Sat"]),
    ("0 9 ? * sun", "2026-01-01 00:00", ["2026-01-04 09:00 Sun", "2026-01-11 09:00 Sun"]),
])
def test_next_times(schedule, start, expected):
    assert following(schedule, start, 2) == expected


def test_time_zones_and_daylight_saving():
    # 09:00 in New York is 14:00 UTC in winter and 13:00 UTC once the clocks go forward (2026-03-08).
    assert following("0 9 * * *", "2026-03-06 15:00", 3, time_zone="America/New_York") == [
        "2026-03-07 14:00 Sat", "2026-03-08 13:00 Sun", "2026-03-09 13:00 Mon"]
    # 02:30 does not exist in Paris on 2026-03-29 (02:00 -> 03:00): that day's run comes after the gap.
    assert following("30 2 * * *", "2026-03-28 12:00", 2, time_zone="Europe/Paris") == [
        "2026-03-29 01:30 Sun", "2026-03-30 00:30 Mon"]
    # 01:30 happens twice in New York on 2026-11-01: one run.
    assert following("30 1 * * *", "2026-10-31 12:00", 2, time_zone="America/New_York") == [
        "2026-11-01 05:30 Sun", "2026-11-02 06:30 Mon"]


def test_previous_is_at_or_before():
    schedule = cronschedule.parse("*/10 * * * *")
    assert schedule.previous(at("2026-01-01 10:25:30")) == at("2026-01-01 10:20")
    assert schedule.previous(at("2026-01-01 10:20")) == at("2026-01-01 10:20")
    assert cronschedule.parse("0 0 1 1 *").previous(at("2026-06-01 00:00")) == at("2026-01-01 00:00")
    assert cronschedule.parse("0 0 31 2 *").next(at("2026-01-01 00:00")) is None   # never


@pytest.mark.parametrize("schedule, problem", [
    ("* * * *", "expected exactly 5 fields"),
    ("60 * * * *", "minute: 60 is out of range 0-59"),
    ("* * * * 7", "day of week: 7 is out of range 0-6"),
    ("* * * foo *", 'month: "foo" is not a number or a name (jan-dec)'),
    ("*/0 * * * *", 'minute: bad step "0"'),
    ("5-1 * * * *", 'minute: range "5-1" runs backwards'),
    ("? * * * *", 'minute: "?" is not a number'),
    ("@every 5m", 'unrecognized descriptor "@every 5m"'),
    ("TZ=UTC * * * * *", "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
])
def test_bad_schedules_name_the_problem(schedule, problem):
    with pytest.raises(cronschedule.ScheduleError, match=re.escape(problem)):
        cronschedule.parse(schedule)


def test_unknown_time_zone():
    with pytest.raises(cronschedule.ScheduleError, match='unknown time zone "Mars/Olympus"'):
        cronschedule.parse("* * * * *", time_zone="Mars/Olympus")
