"""What every benchmark shares: timing a measure, repeating it, printing the table.

A measure runs once to warm up (caches, plans, connections), then ``times`` more; the tables
give medians and their ratio to a baseline measured in the same run, because on a shared
2-core machine the ratios hold where the milliseconds do not.
"""

from __future__ import annotations

import os
import statistics
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    name: str
    seconds: list[float]  # one per repetition, the warm-up excluded
    sizes: str

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000


def clocked(work: Callable[[], object]) -> Callable[[], float]:
    """``work`` as a run that returns its own duration in seconds."""

    def run() -> float:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started

    return run


def repeat(run: Callable[[], float], times: int) -> list[float]:
    run()  # warm-up: caches and plans, not counted
    return [run() for _ in range(times)]


def text_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, width: int, *, right: bool) -> str:
    fill = " " * (width - text_width(text))
    return fill + text if right else text + fill


def print_markdown(
    header: Sequence[str], lines: Sequence[Sequence[str]], *, right: Sequence[int] = ()
) -> None:
    """A Markdown table aligned for the terminal; ``right`` lists the right-aligned columns."""
    rows = [list(header), *(list(line) for line in lines)]
    widths = [max(text_width(row[i]) for row in rows) for i in range(len(header))]
    for number, row in enumerate(rows):
        cells = [
            pad(cell, width, right=column in right)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("| " + " | ".join(cells) + " |")
        if number == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")


def print_table(results: Sequence[Measure], heading: str, *, ratio: str = "× baseline") -> None:
    """Medians in milliseconds and their ratio to the first measure, the baseline."""
    print(f"\n{heading}\n")
    baseline = results[0].median_ms
    lines = [
        (result.name, f"{result.median_ms:,.1f}", f"{result.median_ms / baseline:,.2f}",
         result.sizes)
        for result in results
    ]  # fmt: skip
    print_markdown(("measure", "median ms", ratio, "data sizes"), lines, right=(1, 2))


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0])


def machine() -> str:
    return f"PostgreSQL {server_version()}, {os.cpu_count()} CPUs"
