"""Computing a day's figures from the ledger and the memberships: the nightly close (final)
and the live refresh of today (docs/reports.md, ADR 0011).

One statement computes every node's subtree totals for the day and writes them; it runs
inside one transaction with the removal of the day's previous rows and the ``ReportDay``
mark, so a reader sees the day as it was or as recomputed, never half-written. Both backends
run the same SQL (a recursive CTE lists the tree's levels; no ``generate_series``).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from xuexi.core.time import BUSINESS_TZ, business_day
from xuexi.organizations.models import Organization
from xuexi.points.models import LedgerEntry
from xuexi.reports.models import DailyFigure, ReportDay

logger = logging.getLogger(__name__)

# Rules that show a member used the platform but are not learning: they make him active, not
# a participant (参学). The daily login point is paid on his first page of the day.
NOT_LEARNING_RULES = ("login",)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants at which ``day`` begins and ends in Asia/Shanghai."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=BUSINESS_TZ)
    return start, start + dt.timedelta(days=1)


# Members count where they are listed at the day's end: the membership in force at the next
# midnight (started before it, not ended before it). Participants are registered members with
# learning points (so participation never exceeds 100 % even if an account's registration
# time was recorded late). Points count where they were earned.
# Each member's own figures land on his node; ``levels`` then adds every node's own figures
# to each of its ancestors by the path prefix of that level (steplen characters per level),
# so the subtree totals need no recursion and no per-member work above the node.
_COMPUTE_SQL = """
INSERT INTO reports_dailyfigure
    (organization_id, parent_id, day, expected, registered, participants, active, points_total)
WITH RECURSIVE
levels(k) AS (
    SELECT 1
    UNION ALL
    SELECT k + 1 FROM levels WHERE k < (SELECT MAX(depth) FROM organizations_organization)
),
placed AS (
    SELECT m.user_id, m.organization_id,
           CASE WHEN u.registered_at IS NOT NULL AND u.registered_at < %s THEN 1 ELSE 0 END
               AS registered
    FROM organizations_membership m
    JOIN accounts_user u ON u.id = m.user_id
    WHERE m.started_at < %s AND (m.ended_at IS NULL OR m.ended_at >= %s)
),
earned AS (
    SELECT member_id,
           SUM(CASE WHEN rule NOT IN ({not_learning}) THEN points ELSE 0 END) AS learning
    FROM points_ledgerentry
    WHERE day = %s
    GROUP BY member_id
),
own AS (
    SELECT p.organization_id,
           COUNT(*) AS expected,
           SUM(p.registered) AS registered,
           SUM(CASE WHEN e.learning > 0 AND p.registered = 1 THEN 1 ELSE 0 END)
               AS participants,
           SUM(CASE WHEN e.member_id IS NOT NULL THEN 1 ELSE 0 END) AS active,
           0 AS points_total
    FROM placed p
    LEFT JOIN earned e ON e.member_id = p.user_id
    GROUP BY p.organization_id
    UNION ALL
    SELECT organization_id, 0, 0, 0, 0, SUM(points)
    FROM points_ledgerentry
    WHERE day = %s AND organization_id IS NOT NULL
    GROUP BY organization_id
),
by_node AS (
    SELECT o.path, o.depth,
           SUM(own.expected) AS expected, SUM(own.registered) AS registered,
           SUM(own.participants) AS participants, SUM(own.active) AS active,
           SUM(own.points_total) AS points_total
    FROM own
    JOIN organizations_organization o ON o.id = own.organization_id
    GROUP BY o.path, o.depth
),
rolled AS (
    SELECT SUBSTR(b.path, 1, levels.k * {steplen}) AS prefix,
           SUM(b.expected) AS expected, SUM(b.registered) AS registered,
           SUM(b.participants) AS participants, SUM(b.active) AS active,
           SUM(b.points_total) AS points_total
    FROM by_node b
    JOIN levels ON levels.k <= b.depth
    GROUP BY SUBSTR(b.path, 1, levels.k * {steplen})
)
SELECT o.id, parent.id, %s, r.expected, r.registered, r.participants, r.active, r.points_total
FROM rolled r
JOIN organizations_organization o ON o.path = r.prefix
LEFT JOIN organizations_organization parent
    ON parent.path = SUBSTR(r.prefix, 1, LENGTH(r.prefix) - {steplen})
WHERE r.expected <> 0 OR r.points_total <> 0 OR r.active <> 0
"""


def _compute_sql() -> str:
    not_learning = ", ".join(f"'{rule}'" for rule in NOT_LEARNING_RULES)
    return _COMPUTE_SQL.format(not_learning=not_learning, steplen=Organization.steplen)


@dataclass(frozen=True)
class ComputeResult:
    day: dt.date
    final: bool
    organizations: int
    points_total: int
    ledger_points: int

    @property
    def reconciled(self) -> bool:
        return self.points_total == self.ledger_points


def _compute(day: dt.date, *, final: bool) -> ComputeResult:
    """Recompute every node's figures of ``day`` and mark the day: one transaction.

    The ``ReportDay`` row is locked first (``select_for_update`` on PostgreSQL), so two runs
    for the same day (the nightly close and a late refresh) take turns instead of inserting
    the same rows twice.
    """
    _start, end = day_bounds(day)
    with transaction.atomic():
        mark, _created = ReportDay.objects.select_for_update().get_or_create(day=day)
        DailyFigure.objects.filter(day=day).delete()
        # Raw SQL gets the instant as the backend stores it (UTC text on SQLite).
        end_value = connection.ops.adapt_datetimefield_value(end)
        day_value = connection.ops.adapt_datefield_value(day)
        with connection.cursor() as cursor:
            cursor.execute(
                _compute_sql(), [end_value, end_value, end_value, day_value, day_value, day_value]
            )
            written = cursor.rowcount
        # The roots' totals hold every entry that belongs to an organisation; the ledger's
        # own sum says whether the roll-up lost or doubled anything.
        roots = DailyFigure.objects.filter(day=day, organization__depth=1).aggregate(
            points=Sum("points_total")
        )
        ledger = LedgerEntry.objects.filter(day=day, organization__isnull=False).aggregate(
            points=Sum("points")
        )
        result = ComputeResult(
            day=day,
            final=final,
            organizations=written,
            points_total=roots["points"] or 0,
            ledger_points=ledger["points"] or 0,
        )
        mark.final = final
        mark.computed_at = timezone.now()
        mark.ledger_points = result.ledger_points
        mark.reconciled = result.reconciled
        mark.save()
    if not result.reconciled:
        logger.error(
            "reports: the figures of %s do not add up to the ledger (%s ≠ %s)",
            day,
            result.points_total,
            result.ledger_points,
        )
    return result


def report_day_close(day: dt.date) -> ComputeResult:
    """Make ``day`` final: recompute its figures from the ledger and memberships as they are
    now and mark it closed. Idempotent: closing a day again recomputes it (late entries for
    that day, such as an offline activity recorded afterwards, are then counted).

    Only a day that has ended can be closed (``ValueError`` otherwise)."""
    if day >= business_day():
        raise ValueError(f"{day} has not ended yet in Asia/Shanghai")
    return _compute(day, final=True)


def report_today_refresh() -> ComputeResult:
    """Recompute today's live figures (not final)."""
    return _compute(business_day(), final=False)


def report_days_reopen(*, days: frozenset[dt.date], **_signal: object) -> int:
    """Ledger entries were just written for ``days`` (receiver of ``points.signals.
    ledger_written``, inside the writing transaction): a closed day among them no longer
    holds every entry — an offline activity recorded afterwards, a reversal — so it is marked
    not final, to be closed again by the next refresh (``report_days_close_reopened``).

    Returns how many days were reopened. The usual entry is for today: no query then."""
    today = business_day()
    late = [day for day in days if day < today]
    if not late:
        return 0
    reopened = ReportDay.objects.filter(day__in=late, final=True).update(final=False)
    if reopened:
        logger.info("reports: late ledger entries reopened %s", sorted(late))
    return reopened


def report_days_close_reopened() -> list[ComputeResult]:
    """Close again every ended day that was computed but is not final: days reopened by late
    entries (of any age), and yesterday if the nightly close has not run yet."""
    days = ReportDay.objects.filter(day__lt=business_day(), final=False).values_list(
        "day", flat=True
    )
    return [report_day_close(day) for day in sorted(days)]


def report_days_close_missing(*, until: dt.date, days: int) -> list[ComputeResult]:
    """Close every day of the ``days`` days up to ``until`` that is not final yet (the
    nightly run after an outage, and the demo's history)."""
    first = until - dt.timedelta(days=days - 1)
    finals = set(
        ReportDay.objects.filter(day__gte=first, day__lte=until, final=True).values_list(
            "day", flat=True
        )
    )
    return [
        report_day_close(first + dt.timedelta(days=offset))
        for offset in range(days)
        if first + dt.timedelta(days=offset) not in finals
    ]
