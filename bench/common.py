"""What every benchmark shares: its command line and setup, timing a measure, repeating it,
printing the table.

A measure runs once to warm up (caches, plans, connections), then ``times`` more; the tables
give medians and their ratio to a baseline measured in the same run, because on a shared
2-core machine the ratios hold where the milliseconds do not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

from bench.generate import (
    DEFAULT_DATABASE_URL,
    _dbname,
    read_meta,
    setup_django,
    unapplied_migrations,
)


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


class Measures(list[Measure]):
    """Measures taken one after the other, each timed by ``timing`` (which runs the work as
    often as it sees fit) and said as soon as it is taken."""

    def __init__(self, timing: Callable[[Callable[[], float]], list[float]]) -> None:
        super().__init__()
        self.timing = timing

    def add(self, name: str, work: Callable[[], Any], sizes: Callable[[Any], str]) -> None:
        """Time ``work``, keep its last answer for the sizes, say the median now."""
        answer: list[Any] = []

        def once() -> float:
            started = time.perf_counter()
            answer[:] = [work()]
            return time.perf_counter() - started

        seconds = self.timing(once)
        self.append(Measure(name, seconds, sizes(answer[0])))
        print(f"  {name}: {statistics.median(seconds) * 1000:,.1f} ms", flush=True)

    def add_baseline(self, table: str) -> None:
        """``SELECT count(*)`` of the whole ``table``, which the other measures are read against."""
        self.add(
            f"baseline: count(*) of all {table}",
            partial(count_all, table),
            lambda rows: f"{rows:,} rows",
        )


def count_all(table: str) -> int:
    """``SELECT count(*)`` of a whole table: the baseline the other measures are read against."""
    from django.db import connection

    with connection.cursor() as cursor:
        # The table name comes from the model, not from input.
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return int(cursor.fetchone()[0])


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


class Rated(Protocol):
    """A measure of concurrent runs: calls per second and their latencies."""

    @property
    def name(self) -> str: ...
    @property
    def threads(self) -> int: ...
    @property
    def rate(self) -> float: ...
    def latency_ms(self, quantile: float) -> float: ...


R = TypeVar("R", bound=Rated)


def print_rates(
    results: Sequence[R], anchor: Callable[[R], float], outcomes: Callable[[R], str], heading: str
) -> None:
    """Calls per second of each measure and their ratio to its ``anchor``'s, the median and
    99th percentile latencies, and ``outcomes`` in a last column titled ``heading``."""
    lines = [
        (
            result.name,
            str(result.threads),
            f"{result.rate:,.0f}",
            f"{result.rate / anchor(result):.2f}",
            f"{result.latency_ms(0.5):.2f}",
            f"{result.latency_ms(0.99):.2f}",
            outcomes(result),
        )
        for result in results
    ]
    print_markdown(
        ("measure", "threads", "calls/s", "× anchor", "p50 ms", "p99 ms", heading),
        lines,
        right=(1, 2, 3, 4, 5),
    )


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0])


def machine() -> str:
    return f"PostgreSQL {server_version()}, {os.cpu_count()} CPUs"


def bench_parser(
    module: str,
    description: str | None,
    *,
    env: str = "BENCH_DATABASE_URL",
    default: str = DEFAULT_DATABASE_URL,
) -> argparse.ArgumentParser:
    """The command line of ``python -m <module>``, with the ``--database-url`` of a database
    built by bench.generate (``$<env>`` or ``default``)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(env, default),
        help="a database built by bench.generate (its name must contain 'bench')",
    )
    return parser


def generated_data(parser: argparse.ArgumentParser, url: str) -> dict[str, Any]:
    """What bench.generate wrote at ``url``; the command stops unless the database's name
    says it is a bench's and bench.generate built it."""
    if "bench" not in _dbname(url):
        parser.error("refusing to write into a database whose name does not contain 'bench'")
    meta = read_meta(url)
    if meta is None:
        parser.error("no generated data there: run python -m bench.generate first (make bench)")
    return meta


def django_ready(parser: argparse.ArgumentParser, url: str) -> None:
    """Django on the bench database; the command stops unless its data is fully migrated."""
    setup_django(url)
    if pending := unapplied_migrations():
        parser.error(f"the data predates {pending} migrations: regenerate it (make bench does)")


def add_run_options(
    parser: argparse.ArgumentParser,
    *,
    threads: tuple[int, ...],
    members: int,
    repeat: int,
    workers: str = "concurrent workers",
) -> None:
    """``--threads``, ``--members`` and ``--repeat``: the options of a bench of concurrent runs."""
    parser.add_argument(
        "--threads",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=threads,
        help=f"{workers}, e.g. 2,4 (the default)",
    )
    parser.add_argument("--members", type=int, default=members, help=f"per run (default {members})")
    parser.add_argument("--repeat", type=int, default=repeat, help=f"default {repeat}")
