"""Business time: a "day" is a calendar day in Asia/Shanghai, whatever the server's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current instant, timezone-aware (UTC)."""
    return timezone.now()


def business_day(at: dt.datetime | None = None) -> dt.date:
    """The Asia/Shanghai calendar day that contains ``at`` (default: now)."""
    return (at or now()).astimezone(BUSINESS_TZ).date()


def seconds_until_next_business_day(at: dt.datetime | None = None) -> int:
    """Seconds from ``at`` until the next midnight in Asia/Shanghai (at least 1)."""
    moment = (at or now()).astimezone(BUSINESS_TZ)
    midnight = dt.datetime.combine(
        moment.date() + dt.timedelta(days=1), dt.time.min, tzinfo=BUSINESS_TZ
    )
    return max(1, int((midnight - moment).total_seconds()))
