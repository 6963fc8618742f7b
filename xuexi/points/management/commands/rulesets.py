"""``manage.py rulesets check|list``: the shipped rule sets against PRODUCT.md §6.

Every file in ``xuexi/points/rulesets/`` (or the files given with ``--file``, an operator's
drafts) is parsed on its own, so one broken file does not hide the others, and the engine's
daily maximum is compared with the ``expected_daily_max`` the file declares. ``check`` fails
(exit status 1) when a file is invalid or a maximum does not match; ``list`` prints the same
table and never fails.

The daily maximum compared leaves out 线下学习活动 (``offline_activity``, administrators'
awards): §6 does not count them, but ``RuleSetSpec.daily_max()`` counts every rule, so the
table shows both figures (see docs/points-rules.md).
"""

from __future__ import annotations

import dataclasses
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xuexi.points import scoring

# Rules whose points are not part of a rule set's daily maximum in PRODUCT.md §6.

OK, MISMATCH, INVALID = "OK", "MISMATCH", "INVALID"
HEADER = ("生效日期", "代码", "名称", "规则数", "引擎上限", "预期上限", "结果")


@dataclasses.dataclass
class Row:
    """One rule set file, checked."""

    path: Path
    spec: scoring.RuleSetSpec | None = None
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def engine_max(self) -> int | None:
        return self.spec.daily_max() if self.spec else None

    @property
    def status(self) -> str:
        if self.spec is None:
            return INVALID
        return MISMATCH if self.problems else OK

    def cells(self) -> tuple[str, ...]:
        if self.spec is None:
            return (self.path.name, "", "", "", "", "", INVALID)
        spec = self.spec
        expected = spec.expected_daily_max
        return (
            spec.effective_from.isoformat(),
            spec.code,
            spec.title,
            str(len(spec.rules)),
            str(self.engine_max),
            "—" if expected is None else str(expected),
            self.status,
        )


def load_row(path: Path) -> Row:
    """Parse one file; every failure becomes a problem of its row, never an exception."""
    row = Row(path)
    try:
        row.spec = scoring.load_file(path)
    except scoring.RuleSetInvalid as exc:
        row.problems.append(f"规则集无效：{exc}")
    except tomllib.TOMLDecodeError as exc:
        row.problems.append(f"TOML 语法错误：{exc}")
    except (OSError, UnicodeDecodeError) as exc:
        row.problems.append(f"无法读取文件：{exc}")

    return row


def check_rows(paths: Iterable[Path], *, shipped: bool) -> list[Row]:
    """Check every file: valid, maximum as declared; shipped files also named by their date,
    with distinct codes and dates."""
    rows = [load_row(path) for path in paths]
    for row in rows:
        spec = row.spec
        if spec is None:
            continue
        if spec.expected_daily_max is None:
            row.problems.append("[ruleset] 未填写 expected_daily_max，无法核对每日上限")
        elif row.engine_max != spec.expected_daily_max:
            row.problems.append(
                f"引擎算出的每日上限 {row.engine_max} 分，与预期的 {spec.expected_daily_max} 分不符"
            )
        if shipped and row.path.stem != spec.effective_from.isoformat():
            row.problems.append(
                f"文件名应为生效日期 {spec.effective_from.isoformat()}.toml，而不是 {row.path.name}"
            )
    if shipped:
        valid = [(row, row.spec) for row in rows if row.spec is not None]
        codes = Counter(spec.code for _, spec in valid)
        dates = Counter(spec.effective_from for _, spec in valid)
        for row, spec in valid:
            if codes[spec.code] > 1:
                row.problems.append(f"代码 {spec.code} 被多个规则集使用")
            if dates[spec.effective_from] > 1:
                row.problems.append(f"生效日期 {spec.effective_from} 被多个规则集使用")
    return sorted(
        rows,
        key=lambda row: (row.spec is None, row.spec.effective_from if row.spec else row.path.name),
    )


def shipped_paths() -> list[Path]:
    return sorted(scoring.SHIPPED_DIR.glob("*.toml"))


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    space = " " * max(0, width - _width(text))
    return space + text if right else text + space


def render(rows: list[Row]) -> list[str]:
    """The table, then one line per problem."""
    table = [HEADER, *(row.cells() for row in rows)]
    widths = [max(_width(line[i]) for line in table) for i in range(len(HEADER))]
    numeric = {3, 4, 5, 6}
    lines = [
        "  ".join(
            _pad(cell, widths[i], right=i in numeric and line is not HEADER)
            for i, cell in enumerate(line)
        ).rstrip()
        for line in table
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append("")
    lines.append("引擎上限：引擎算出的每日最高分（不含管理员赋分的线下学习活动）。")
    for row in rows:
        name = row.spec.code if row.spec else row.path.name
        lines.extend(f"{name}：{problem}" for problem in row.problems)
    return lines


class Command(BaseCommand):
    help = (
        "核对积分规则集：check 逐个解析 xuexi/points/rulesets/ 下的规则集（或 --file 指定的草稿），"
        "比较引擎算出的每日上限与预期上限，有无效或不符时以状态 1 退出；list 只列出，不判定。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check", "list"], help="check 核对；list 列出")
        parser.add_argument(
            "--file",
            dest="files",
            action="append",
            type=Path,
            metavar="PATH",
            help="只核对这个规则集文件（可重复），例如运营人员的草稿",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] | None = options["files"]
        if files:
            rows = check_rows(files, shipped=False)
        else:
            rows = check_rows(shipped_paths(), shipped=True)
        if not rows:
            raise CommandError(f"没有找到规则集文件（{scoring.SHIPPED_DIR}）。")
        for line in render(rows):
            self.stdout.write(line)
        bad = [row for row in rows if row.status != OK]
        if options["action"] == "list":
            return
        if bad:
            raise CommandError(
                f"{len(bad)} 个规则集未通过核对（共 {len(rows)} 个）："
                + "、".join(row.spec.code if row.spec else row.path.name for row in bad)
            )
        self.stdout.write(self.style.SUCCESS(f"{len(rows)} 个规则集全部通过核对。"))
