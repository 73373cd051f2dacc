"""A cron schedule as a period, for the schedulers that take one (systemd
timer, a loop without systemd).

Only schedules whose runs are evenly spaced are accepted, so cron, the
timer and the loop agree: a minute step must divide 60, an hour step 24.
"""

from __future__ import annotations

import re

_EVERY = re.compile(r"^\*/(\d+)$")
_FORMS = "use '*/M * * * *', 'M */H * * *' or 'M H * * *'"


def interval_seconds(schedule: str) -> int:
    """Period of simple cron schedules: ``*/M * * * *`` (minutes), ``M */H * * *``
    (hours), ``M H * * *`` (daily); anything else is refused with the field named."""
    def refuse(why: str) -> ValueError:
        return ValueError(f"kubernetes.etcdSnapshots.schedule {schedule!r}: {why}")

    fields = schedule.split()
    if len(fields) != 5:
        raise refuse("expected 5 cron fields")
    minute, hour, dom, month, dow = fields
    if (dom, month, dow) != ("*", "*", "*"):
        raise refuse("day/month/weekday fields must be '*'")
    if minute.isdigit() and int(minute) > 59:
        raise refuse("the minute must be 0-59")
    if hour.isdigit() and int(hour) > 23:
        raise refuse("the hour must be 0-23")
    if (m := _EVERY.match(minute)) and hour == "*":
        return _step(int(m[1]), 60, "minute", refuse) * 60
    if minute.isdigit() and (h := _EVERY.match(hour)):
        return _step(int(h[1]), 24, "hour", refuse) * 3600
    if minute.isdigit() and hour == "*":
        return 3600
    if minute.isdigit() and hour.isdigit():
        return 86400
    raise refuse(_FORMS)


def _step(step: int, whole: int, unit: str, refuse) -> int:
    # cron restarts a step at each whole hour/day: only a divisor keeps the gaps even.
    if step == 0 or whole % step:
        divisors = ", ".join(str(d) for d in range(1, whole + 1) if whole % d == 0)
        article = "an" if unit == "hour" else "a"
        raise refuse(f"{article} {unit} step must divide {whole} evenly ({divisors})")
    return step
