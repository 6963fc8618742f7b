"""The demo's report history: close the 30 past days of the points demo so that the
dashboards show trends and rankings from the first visit, and compute today's live figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xuexi.core.time import business_day
from xuexi.reports import rollup
from xuexi.reports.models import ReportDay

DEMO_DAYS = 30  # the points demo's history: the 30 days up to yesterday


def reports_demo_seed() -> None:
    yesterday = business_day() - dt.timedelta(days=1)
    rollup.report_days_close_missing(until=yesterday, days=DEMO_DAYS)
    rollup.report_today_refresh()


@dataclass(frozen=True)
class ReportsDemoSummary:
    final_days: int
    reconciled_days: int

    def line(self) -> str:
        return (
            f"学习报表：已结算 {self.final_days} 天"
            f"（{self.reconciled_days} 天与积分明细一致），今日数据实时更新。"
        )


def reports_demo_summary() -> ReportsDemoSummary:
    final = ReportDay.objects.filter(final=True)
    return ReportsDemoSummary(
        final_days=final.count(), reconciled_days=final.filter(reconciled=True).count()
    )
