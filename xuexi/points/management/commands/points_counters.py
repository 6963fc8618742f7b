"""``manage.py points_counters``: prove the counters match the ledger, or rebuild them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xuexi.points.services import counters_compare, counters_rebuild


class Command(BaseCommand):
    help = "Compare the points counters with the ledger (exit 1 on any difference); --rebuild."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="replace the counters by the ledger's sums"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rebuild"]:
            rows = counters_rebuild()
            self.stdout.write(f"计数已按积分明细重建：{rows} 行。")
        differences = counters_compare()
        if differences:
            for (member, period, start, key), ledger, counter in differences[:50]:
                self.stdout.write(
                    f"学员 {member} {period} {start} {key}: 明细 {ledger} ≠ 计数 {counter}"
                )
            raise CommandError(f"{len(differences)} 个计数与积分明细不符。")
        self.stdout.write("积分计数与积分明细一致。")
