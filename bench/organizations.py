"""The organisations benchmark: subtree counts, a page of members, moving a county.

    python -m bench.organizations --database-url postgres://postgres@127.0.0.1:5432/xuexi_bench

Runs against a database made by ``bench.generate`` (it reads the scale from the database's
comment). Every measure is run once to warm the caches, then ``--repeat`` times; the table
gives the median and its ratio to the baseline measured in the same run, the plain
``SELECT count(*)`` of the membership table, because on a shared 2-core machine the ratios
hold where the milliseconds do not. Nothing is written: the move runs in a transaction that
is rolled back. Then the plans of the province and county counts are printed, with whether
they use an index on ``organizations_organization.path``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from bench.common import Measure, clocked, machine, repeat
from bench.common import print_table as print_common_table
from bench.generate import DEFAULT_DATABASE_URL, read_meta, setup_django, unapplied_migrations

if TYPE_CHECKING:
    from xuexi.organizations.models import Organization

REPEAT = 5
PAGE = 20


def subtree_count(node: Organization) -> int:
    """The product's subtree member count: current memberships under the node's path."""
    from xuexi.organizations.models import Membership

    return Membership.objects.filter(
        ended_at__isnull=True, organization__path__startswith=node.path
    ).count()


def member_page(node: Organization) -> list[Any]:
    """Page one of the members of a subtree, by name, as a member list shows them."""
    from xuexi.organizations.models import Membership

    return list(
        Membership.objects.filter(ended_at__isnull=True, organization__path__startswith=node.path)
        .select_related("user", "organization")
        .order_by("user__real_name", "user__id")[:PAGE]
    )


def move_county(county_id: int, city_id: int) -> tuple[float, int]:
    """Move the county with its subtree under the city (last child), time it, roll it back.

    Returns the seconds the move took and the number of nodes whose path it rewrote.
    """
    from django.db import transaction

    from xuexi.organizations.models import Organization

    with transaction.atomic():
        county = Organization.objects.get(pk=county_id)
        city = Organization.objects.get(pk=city_id)
        nodes = Organization.objects.filter(path__startswith=county.path).count()
        started = time.perf_counter()
        Organization.objects.move(county, city, "last-child")
        took = time.perf_counter() - started
        county.refresh_from_db()
        moved = Organization.objects.filter(path__startswith=county.path).count()
        if not county.path.startswith(city.path) or moved != nodes:
            raise SystemExit(f"the move went wrong: {county.path} under {city.path}, {moved} nodes")
        transaction.set_rollback(True)
    return took, nodes


ROSTER_ROWS = 50_000
ROSTER_TIMES = 3  # each run imports 50,000 members: fewer repetitions than the quick measures


class _RollBack(Exception):
    """Raised to undo a measured write."""


def roster_workbook(branch: Organization, rows: int) -> bytes:
    """A real .xlsx roster of ``rows`` new members for ``branch``, as an administrator uploads."""
    import io

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("成员名单")
    sheet.append(["姓名", "手机号", "所属组织（编码或路径）", "政治面貌"])
    surnames, given = (
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗",
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂",
    )
    for index in range(rows):
        first, second = index // len(surnames), index // (len(surnames) * len(given))
        name = (
            surnames[index % len(surnames)] + given[first % len(given)] + given[second % len(given)]
        )
        sheet.append([name, f"177{index:08d}", branch.code, "中共党员"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def import_roster_once(county_id: int, branch_id: int, data: bytes) -> float:
    """Read, check and import the workbook as a county administrator, timed, then roll back."""
    import io

    from django.db import transaction

    from xuexi.accounts.models import User
    from xuexi.organizations.models import Organization, RoleGrant
    from xuexi.organizations.roster import roster_import, roster_read

    took = 0.0
    try:
        with transaction.atomic():
            county = Organization.objects.get(pk=county_id)
            branch = Organization.objects.get(pk=branch_id)
            admin = User.objects.create(phone="17799999999", real_name="基准管理员")
            RoleGrant.objects.create(user=admin, organization=county, role="main_admin")
            started = time.perf_counter()
            rows = roster_read(io.BytesIO(data))
            roster_import(actor=admin, organization=branch, rows=rows, file_name="bench.xlsx")
            took = time.perf_counter() - started
            raise _RollBack
    except _RollBack:
        pass
    return took


def bench_roster_import(*, county: Organization, times: int) -> Measure:
    """Import a 50,000-row .xlsx roster (read + check + write, all or nothing) into a branch of
    ``county``, rolled back after each run."""
    from xuexi.organizations.models import Organization

    branch = (
        Organization.objects.filter(path__startswith=county.path, kind="branch")
        .order_by("path")
        .first()
    )
    if branch is None:
        raise RuntimeError(f"{county.name} has no branch to import into")
    data = roster_workbook(branch, ROSTER_ROWS)
    runs = repeat(partial(import_roster_once, county.pk, branch.pk, data), min(times, ROSTER_TIMES))
    return Measure(
        "roster import (.xlsx, rolled back)",
        runs,
        f"{ROSTER_ROWS:,} new members into one branch ({len(data) / 1e6:.1f} MB workbook)",
    )


def median_by_expected(nodes: Sequence[Organization]) -> Organization:
    """The node of median headcount: a typical county or city, not the largest."""
    return sorted(nodes, key=lambda node: (node.expected_members, node.path))[len(nodes) // 2]


def plan_of(query: Callable[[], object]) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the one SQL statement ``query`` runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        query()
    (statement,) = captured.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"])
        return "\n".join(row[0] for row in cursor.fetchall())


def path_indexes() -> list[str]:
    """Names of the indexes whose first column is ``organizations_organization.path``."""
    from django.db import connection

    from xuexi.organizations.models import Organization

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [Organization._meta.db_table],
        )
        return [name for name, definition in cursor.fetchall() if "(path" in definition]


def run(meta: dict[str, Any], times: int) -> None:
    from django.db import connection

    from xuexi.organizations.models import Membership, Organization

    table = Membership._meta.db_table
    province = Organization.objects.get(kind="province")
    cities = list(Organization.objects.filter(kind="city").order_by("path"))
    city = median_by_expected(cities)
    county = median_by_expected(list(Organization.objects.get_children(city)))
    # Move it to the next city along, so the subtree changes parent (and city).
    other_city = cities[(cities.index(city) + 1) % len(cities)]

    def baseline() -> int:
        with connection.cursor() as cursor:
            # The table name comes from the model, not from input.
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            return int(cursor.fetchone()[0])

    def nodes_under(node: Organization) -> int:
        return Organization.objects.filter(path__startswith=node.path).count()

    rows = baseline()
    results: list[Measure] = [
        Measure(
            f"baseline: count(*) of all {table}",
            repeat(clocked(baseline), times),
            f"{rows:,} rows",
        )
    ]
    for label, node in (("county", county), ("city", city), ("province", province)):
        members = subtree_count(node)
        results.append(
            Measure(
                f"subtree member count, {label}",
                repeat(clocked(partial(subtree_count, node)), times),
                f"{members:,} members, {nodes_under(node):,} nodes ({node.name})",
            )
        )
    for label, node in (("county", county), ("city", city)):
        results.append(
            Measure(
                f"member list page ({PAGE}), {label}, by name",
                repeat(clocked(partial(member_page, node)), times),
                f"page 1 of {subtree_count(node):,} members ({node.name})",
            )
        )
    moved_nodes = 0

    def move() -> float:
        nonlocal moved_nodes
        took, moved_nodes = move_county(county.pk, other_city.pk)
        return took

    move_times = repeat(move, times)
    results.append(
        Measure(
            "move a county to another city (rolled back)",
            move_times,
            f"{moved_nodes:,} nodes re-pathed ({county.name} → {other_city.name})",
        )
    )
    results.append(bench_roster_import(county=county, times=times))

    print_table(results, meta, times)
    print_plans(province, county)


def print_table(results: Sequence[Measure], meta: dict[str, Any], times: int) -> None:
    print_common_table(
        results,
        f"organisations benchmark — scale {meta.get('scale', '?')}: "
        f"{meta.get('organizations', 0):,} organisations ({meta.get('branches', 0):,} branches), "
        f"{meta.get('users', 0):,} users, {meta.get('memberships', 0):,} memberships; "
        f"{machine()}; median of {times} after one warm-up",
        ratio="× count(*)",
    )


def print_plans(province: Organization, county: Organization) -> None:
    indexes = path_indexes()
    print(f"\nindexes on organizations_organization.path: {', '.join(indexes) or 'none'}")
    for label, node in (("province", province), ("county", county)):
        plan = plan_of(partial(subtree_count, node))
        used = [name for name in indexes if name in plan]
        verdict = f"uses {', '.join(used)}" if used else "uses NO index on path"
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) subtree member count, {label} — {verdict}:\n{plan}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.organizations",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="a database built by bench.generate",
    )
    parser.add_argument("--repeat", type=int, default=REPEAT, help=f"default {REPEAT}")
    args = parser.parse_args(argv)
    meta = read_meta(args.database_url)
    if meta is None:
        parser.error("no generated data there: run python -m bench.generate first (make bench)")
    setup_django(args.database_url)
    if pending := unapplied_migrations():
        parser.error(f"the data predates {pending} migrations: regenerate it (make bench does)")
    run(meta, args.repeat)


if __name__ == "__main__":
    main(sys.argv[1:])
