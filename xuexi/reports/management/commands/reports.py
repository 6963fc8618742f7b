"""``manage.py reports close [--day YYYY-MM-DD] [--days N] | refresh``: the operator's handle on
the report figures.

``close`` without ``--day`` does what the nightly job does (yesterday, then any day of the last
week left open); with ``--day`` it closes that day (again, if it was closed: late ledger
entries are then counted), with ``--days N`` also the N-1 days before it. ``refresh``
recomputes today's live figures. Each prints the organisations written, the points and
whether they agree with the ledger.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xuexi.core.time import business_day
from xuexi.reports import rollup, tasks


class Command(BaseCommand):
    help = "Close report days (make them final from the ledger) or refresh today's live figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["close", "refresh"], help="close 结算；refresh 刷新今日"
        )
        parser.add_argument("--day", help="结算这一天（YYYY-MM-DD）；默认为昨天")
        parser.add_argument("--days", type=int, default=1, help="连同之前的天数一并结算（默认 1）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "refresh":
            self._report(rollup.report_today_refresh, business_day())
            return
        if not options["day"]:
            for line in tasks.reports_close_nightly():
                self.stdout.write(str(line))
            return
        try:
            last = dt.date.fromisoformat(options["day"])
        except ValueError as exc:
            raise CommandError("--day 应为 YYYY-MM-DD 格式的日期。") from exc
        if last >= business_day():
            raise CommandError("只能结算已经结束的日期（今天及以后的日期尚未结束）。")
        if options["days"] < 1:
            raise CommandError("--days 至少为 1。")
        for offset in range(options["days"] - 1, -1, -1):
            day = last - dt.timedelta(days=offset)
            self._report(lambda day=day: rollup.report_day_close(day), day)

    def _report(self, compute: Any, day: dt.date) -> None:
        started = time.perf_counter()
        result = compute()
        seconds = time.perf_counter() - started
        agreement = "与积分明细一致" if result.reconciled else "与积分明细不一致！"
        self.stdout.write(
            f"{day}：{'已结算' if result.final else '实时'}，组织 {result.organizations} 个，"
            f"积分 {result.points_total}（明细 {result.ledger_points}，{agreement}），"
            f"用时 {seconds:.2f} 秒"
        )
