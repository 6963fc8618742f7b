"""``manage.py rankings rebuild|expire``: the operator's handle on the Redis rankings.

``rebuild`` without ``--day`` does what the nightly job does (the periods containing yesterday
and today); with ``--day YYYY-MM-DD`` it rebuilds the periods containing that day, all four or
those named by ``--periods day,week,month,year``. ``expire`` drops the periods past their
retention. Without ``REDIS_URL`` rankings are read from the ledger and both say so and do
nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xuexi.points import rankings


def parse_periods(value: str) -> tuple[rankings.Period, ...]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in rankings.PERIODS]
    if not names or unknown:
        raise CommandError(f"--periods 只能是 {','.join(rankings.PERIODS)} 中的一个或几个。")
    return tuple(period for period in rankings.PERIODS if period in names)


class Command(BaseCommand):
    help = "Rebuild the Redis rankings from the ledger (rebuild) or drop expired periods (expire)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["rebuild", "expire"], help="rebuild 重建；expire 清理"
        )
        parser.add_argument(
            "--day", help="重建包含这一天（YYYY-MM-DD）的周期；默认为昨天和今天所在的周期"
        )
        parser.add_argument(
            "--periods", help="只重建这些周期，逗号分隔：day,week,month,year（需要 --day）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.REDIS_URL:
            self.stdout.write("未配置 REDIS_URL：排行直接从积分明细计算，无需重建或清理。")
            return
        if options["action"] == "expire":
            removed = rankings.rankings_expire()
            self.stdout.write(f"已删除超过保留期的排行键 {removed} 个。")
            return
        if options["periods"] and not options["day"]:
            raise CommandError("--periods 需要与 --day 一起使用。")
        if options["day"] is None:
            done = rankings.rankings_rebuild_current()
        else:
            try:
                day = dt.date.fromisoformat(options["day"])
            except ValueError as error:
                raise CommandError(f"--day 须为 YYYY-MM-DD：{options['day']}") from error
            periods = parse_periods(options["periods"]) if options["periods"] else rankings.PERIODS
            done = []
            for period in periods:
                started = time.monotonic()
                keys = rankings.rankings_rebuild(day, periods=(period,))
                span = rankings.period_span(period, day)
                done.append(rankings.Rebuilt(span, keys, time.monotonic() - started))
        for item in done:
            self.stdout.write(
                f"已重建 {item.span.period} {item.span.start.isoformat()}："
                f"{item.keys} 个键，{item.seconds:.1f} 秒。"
            )
