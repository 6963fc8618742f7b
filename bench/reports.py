"""The reports benchmark: a day report read from the per-day aggregates for a branch, a county,
a city and the province (each with its children ranked), the nightly close that computes those
aggregates for one day, and the raw-ledger alternative — the province report computed straight
from the memberships and the ledger — each beside ``SELECT count(*)`` of the membership table
in the same run.

    python -m bench.reports --database-url postgres://postgres@127.0.0.1:5432/xuexi_bench \\
        [--repeat 5]

Runs against a database made by ``bench.generate``. It writes yesterday's ledger for the
whole province as ``bench.points`` does (PRODUCT.md §5's 40 M learning events a day times the
scale, with ``COPY``), closes that day once untimed (warm-up) and then ``--repeat`` times
timed (median; once when the warm-up took longer than 5 s), and reads the reports with
``XUEXI_REPORTS_COMPUTE_ON_READ`` off, as in production. Everything it wrote is removed at the
end, also after a failure: the bench's ledger entries and counters (``bench.points.clean_up``)
and every report row. It refuses to start when the ledger holds entries it did not write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from functools import partial
from typing import Any

from bench import common
from bench.common import Measure, machine, print_table
from bench.organizations import median_by_expected
from bench.points import (
    FULL_EVENTS_PER_DAY,
    clean_up,
    refuse_foreign_entries,
    registered_members,
    ruleset_ready,
    timed,
    write_ranking_day,
)

REPEAT = 5

# The alternative the aggregates replace: the province's figures and its children's, computed
# at request time from the memberships in force at the day's end and the day's ledger.
RAW_PROVINCE_SQL = """
WITH placed AS (
    SELECT m.user_id, o.path,
           CASE WHEN u.registered_at IS NOT NULL AND u.registered_at < %(end)s THEN 1 ELSE 0 END
               AS registered
    FROM organizations_membership m
    JOIN accounts_user u ON u.id = m.user_id
    JOIN organizations_organization o ON o.id = m.organization_id
    WHERE m.started_at < %(end)s AND (m.ended_at IS NULL OR m.ended_at >= %(end)s)
      AND o.path LIKE %(prefix)s
),
earned AS (
    SELECT member_id, SUM(CASE WHEN rule <> 'login' THEN points ELSE 0 END) AS learning
    FROM points_ledgerentry WHERE day = %(day)s GROUP BY member_id
),
members AS (
    SELECT SUBSTR(p.path, 1, %(child_len)s) AS child, COUNT(*) AS expected,
           SUM(p.registered) AS registered,
           SUM(CASE WHEN e.learning > 0 AND p.registered = 1 THEN 1 ELSE 0 END) AS participants,
           SUM(CASE WHEN e.member_id IS NOT NULL THEN 1 ELSE 0 END) AS active
    FROM placed p LEFT JOIN earned e ON e.member_id = p.user_id
    GROUP BY SUBSTR(p.path, 1, %(child_len)s)
),
points AS (
    SELECT SUBSTR(o.path, 1, %(child_len)s) AS child, SUM(l.points) AS points_total
    FROM points_ledgerentry l JOIN organizations_organization o ON o.id = l.organization_id
    WHERE l.day = %(day)s AND o.path LIKE %(prefix)s
    GROUP BY SUBSTR(o.path, 1, %(child_len)s)
)
SELECT m.child, m.expected, m.registered, m.participants, m.active,
       COALESCE(p.points_total, 0)
FROM members m LEFT JOIN points p ON p.child = m.child
"""


def bench_reports(url: str, day: dt.date, times: int) -> list[Measure]:
    from django.db import connection
    from django.test.utils import override_settings

    from xuexi.organizations.models import Membership, Organization
    from xuexi.reports import rollup, selectors

    table = Membership._meta.db_table
    province = Organization.objects.get(kind="province")
    city = median_by_expected(list(Organization.objects.filter(kind="city")))
    county = median_by_expected(
        list(Organization.objects.filter(kind="county", path__startswith=city.path))
    )
    branch = (
        Organization.objects.filter(kind="branch", path__startswith=county.path)
        .order_by("path")
        .first()
    )
    if branch is None:
        raise SystemExit("the bench province has no branch under its median county")

    results = common.Measures(partial(timed, times=times))
    add = results.add

    print("\nbench.reports", flush=True)
    results.add_baseline(table)
    add(
        f"nightly close of {day} (every node's figures)",
        lambda: rollup.report_day_close(day),
        lambda r: (
            f"{r.organizations:,} figure rows; {r.ledger_points:,} points; "
            f"{'reconciled' if r.reconciled else 'NOT reconciled'}"
        ),
    )
    with override_settings(XUEXI_REPORTS_COMPUTE_ON_READ=False):

        def report_sizes(report: selectors.Report) -> str:
            return (
                f"{len(report.children):,} children; {report.figures.expected:,} members in "
                f"the subtree ({report.organization.name})"
            )

        for label, node in (
            ("branch", branch),
            ("county", county),
            ("city", city),
            ("province", province),
        ):
            add(
                f"day report, {label} (figures + children ranked)",
                partial(selectors.report_figures, node, day=day),
                report_sizes,
            )
        add(
            "30-day trend, province",
            lambda: selectors.report_trend(province, last=day),
            lambda trend: f"{len(trend)} days",
        )
    _start, end = rollup.day_bounds(day)

    def raw() -> list[Any]:
        with connection.cursor() as cursor:
            cursor.execute(
                RAW_PROVINCE_SQL,
                {
                    "end": end,
                    "day": day,
                    "prefix": province.path + "%",
                    "child_len": len(province.path) + Organization.steplen,
                },
            )
            return cursor.fetchall()

    add(
        "raw-ledger alternative: province report from memberships + ledger",
        raw,
        lambda rows: (
            f"{len(rows)} children; "
            f"{sum(r[1] for r in rows):,} members; {sum(r[5] for r in rows):,} points"
        ),
    )
    # The aggregates and the raw computation must agree, child for child.
    report = selectors.report_figures(province, day=day)
    by_path = {child.path: child for child in report.children}
    for child_path, expected, registered, participants, active, points in raw():
        figures = by_path[child_path]
        got = (figures.expected, figures.registered, figures.participants, figures.active)
        if got != (expected, registered, participants, active) or figures.points_total != points:
            raise SystemExit(f"the aggregates of {child_path} differ from the raw figures")
    print("  the aggregates agree with the raw computation for every child", flush=True)
    return results


def clean_reports(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE reports_dailyfigure, reports_reportday")


def run(args: argparse.Namespace, meta: dict[str, Any]) -> None:
    from xuexi.core.time import business_day

    refuse_foreign_entries()
    clean_up(args.database_url, "")
    clean_reports(args.database_url)
    ruleset_id, spec = ruleset_ready()
    members = registered_members(args.database_url)
    yesterday = business_day() - dt.timedelta(days=1)
    try:
        entries = round(FULL_EVENTS_PER_DAY * float(meta.get("scale", 0.05)))
        written, took = write_ranking_day(
            args.database_url, members, entries, yesterday, ruleset_id, spec
        )
        print(f"bench.reports: wrote {written:,} ledger entries for {yesterday} in {took:.1f} s")
        results = bench_reports(args.database_url, yesterday, args.repeat)
        heading = (
            f"reports of {yesterday} — scale {meta.get('scale', '?')}: "
            f"{meta.get('organizations', 0):,} organisations, {meta.get('users', 0):,} users "
            f"({len(members):,} registered), {meta.get('memberships', 0):,} memberships, "
            f"{written:,} ledger entries that day; {machine()}; median of {args.repeat} after "
            "one warm-up (once when slower than 5 s)"
        )
        print_table(results, heading, ratio="× count(*)")
    finally:
        clean_reports(args.database_url)
        clean_up(args.database_url, "")


def main(argv: Sequence[str] | None = None) -> None:
    parser = common.bench_parser("bench.reports", __doc__)
    parser.add_argument("--repeat", type=int, default=REPEAT, help=f"default {REPEAT}")
    args = parser.parse_args(argv)
    meta = common.generated_data(parser, args.database_url)
    os.environ.pop("REDIS_URL", None)
    common.django_ready(parser, args.database_url)
    run(args, meta)


if __name__ == "__main__":
    main(sys.argv[1:])
