"""Celery jobs of the reports (they only call the roll-up): today's live refresh every few
minutes and the nightly close of yesterday (beat, CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task

from xuexi.core.time import business_day
from xuexi.reports import rollup

logger = logging.getLogger(__name__)

# Days the nightly run looks back for days left open (a missed night, an outage).
CATCH_UP_DAYS = 7


@shared_task
def reports_refresh_today() -> dict[str, Any]:
    """Every few minutes: close again the past days that late ledger entries reopened, then
    recompute today's live figures."""
    reclosed = rollup.report_days_close_reopened()
    result = rollup.report_today_refresh()
    return {
        "day": result.day.isoformat(),
        "organizations": result.organizations,
        "reclosed": [r.day.isoformat() for r in reclosed],
    }


@shared_task
def reports_close_nightly() -> list[dict[str, Any]]:
    """After midnight (Asia/Shanghai): make yesterday final — recomputed from the ledger even
    if it was closed already — then any other day of the last week never closed, and any
    older day that late entries reopened."""
    yesterday = business_day() - dt.timedelta(days=1)
    results = [rollup.report_day_close(yesterday)]
    results += rollup.report_days_close_missing(
        until=yesterday - dt.timedelta(days=1), days=CATCH_UP_DAYS - 1
    )
    results += rollup.report_days_close_reopened()
    summary = [
        {
            "day": r.day.isoformat(),
            "organizations": r.organizations,
            "points_total": r.points_total,
            "ledger_points": r.ledger_points,
            "reconciled": r.reconciled,
        }
        for r in results
    ]
    logger.info("reports close: %s", summary)
    return summary
