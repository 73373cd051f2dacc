"""A cron schedule as a period, for the schedulers that take one (systemd
timer, a loop without systemd)."""

from __future__ import annotations

import re

_EVERY = re.compile(r"^\*/(\d+)$")


def interval_seconds(schedule: str) -> int:
    """Period of simple cron schedules: ``*/M * * * *`` (minutes), ``M */H * * *``
    (hours), ``M H * * *`` (daily); anything else is refused with the field named."""
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"kubernetes.etcdSnapshots.schedule {schedule!r}: expected 5 cron fields")
    minute, hour, dom, month, dow = fields
    if (dom, month, dow) != ("*", "*", "*"):
        raise ValueError(f"kubernetes.etcdSnapshots.schedule {schedule!r}: day/month/weekday fields must be '*'")
    if (m := _EVERY.match(minute)) and hour == "*":
        return int(m[1]) * 60
    if minute.isdigit() and (h := _EVERY.match(hour)):
        return int(h[1]) * 3600
    if minute.isdigit() and hour == "*":
        return 3600
    if minute.isdigit() and hour.isdigit():
        return 86400
    raise ValueError(f"kubernetes.etcdSnapshots.schedule {schedule!r}: use '*/M * * * *', 'M */H * * *' or 'M H * * *'")
