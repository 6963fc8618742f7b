"""``manage.py seed_demo``: the demo data of a small province, composed from each domain.

Each domain owns its demo module (``xuexi.<app>.demo``); this command only runs them in order,
inside one transaction, and prints what the demo holds. Running it again changes nothing: the
organisations' demo is found by the province's code and every later domain builds on it.
"""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from xuexi.content import demo as content_demo
from xuexi.organizations import demo as organizations_demo
from xuexi.points import demo as points_demo
from xuexi.quizzes import demo as quizzes_demo
from xuexi.reports import demo as reports_demo


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = "装入演示数据：示范省的组织架构、3,000 名学员和六个演示账号。可重复运行，不会重复创建。"

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        with transaction.atomic():
            if organizations_demo.demo_exists():
                self.stdout.write(
                    f"演示数据已存在（{organizations_demo.PROVINCE_NAME}），本次未做任何改动。"
                )
            else:
                try:
                    organizations_demo.demo_seed()
                except organizations_demo.DemoConflict as conflict:
                    raise CommandError(f"无法装入演示数据，未写入任何内容：{conflict}") from None
                # Later domains add their demo here, in layer order, inside the same transaction.
                points_demo.points_demo_seed()
                content_demo.seed_content()  # after points: history follows the demo logins
                quizzes_demo.seed_quizzes()  # the bank, this week's set, two special papers
                reports_demo.reports_demo_seed()  # last: closes the 30 days of history
                elapsed = time.perf_counter() - started
                self.stdout.write(self.style.SUCCESS(f"演示数据已装入，用时 {elapsed:.1f} 秒。"))
        self._print_summary()

    def _print_summary(self) -> None:
        summary = organizations_demo.demo_summary()
        self.stdout.write(
            f"学习组织 {summary.organizations} 个（{summary.cities} 个市、"
            f"{summary.counties} 个县市区），学员 {summary.members} 名，"
            f"演示账号 {summary.accounts} 个。"
        )
        self.stdout.write(points_demo.points_demo_summary().line())
        self.stdout.write(content_demo.content_demo_summary().line())
        self.stdout.write(quizzes_demo.quizzes_demo_summary().line())
        self.stdout.write(reports_demo.reports_demo_summary().line())
        rows = organizations_demo.demo_account_rows()
        if not rows:
            return
        self.stdout.write(f"\n演示账号（密码均为 {organizations_demo.DEMO_PASSWORD}）：")
        header = ("手机号", "姓名", "角色", "所在组织")
        table = [header, *((r.phone, r.real_name, r.roles, r.member_of) for r in rows)]
        widths = [max(_width(row[column]) for row in table) for column in range(3)]
        for row in table:
            cells = [_pad(cell, width) for cell, width in zip(row[:3], widths, strict=True)]
            self.stdout.write("  " + "  ".join([*cells, row[3]]))
