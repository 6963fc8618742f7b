"""A closed day that receives a ledger entry afterwards — an offline activity recorded days
later, a reversal — is reopened inside the entry's transaction and closed again by the next
refresh, so final figures always hold every entry of their day (docs/reports.md)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from xuexi.points.batch import AwardRequest, points_award_batch
from xuexi.points.models import LedgerEntry
from xuexi.points.services import points_award, points_reverse
from xuexi.reports import rollup, tasks
from xuexi.reports.models import DailyFigure, ReportDay
from xuexi.reports.tests.conftest import DAY_ONE, DAY_TWO, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _beat_computes(settings):
    # As in production: the beat jobs compute, reads never do.
    settings.XUEXI_REPORTS_COMPUTE_ON_READ = False


A_WEEK_LATER = at(DAY_ONE + dt.timedelta(days=7), 10)


def counted(day: dt.date, org) -> tuple[int, int, int]:
    figure = DailyFigure.objects.get(day=day, organization=org)
    return figure.participants, figure.active, figure.points_total


@pytest.fixture
def closed(story):
    """The story's days closed by the nightly run (with the empty days of its catch-up week)."""
    with time_machine.travel(at(DAY_TWO + dt.timedelta(days=1), 0, 20), tick=False):
        tasks.reports_close_nightly()
    assert ReportDay.objects.get(day=DAY_ONE).final
    assert ReportDay.objects.get(day=DAY_TWO).final
    return story


def test_a_late_award_reopens_its_closed_day_and_the_refresh_counts_it(closed):
    before = {name: counted(DAY_ONE, closed.orgs[name]) for name in "ACP"}
    with time_machine.travel(A_WEEK_LATER, tick=False):
        award = points_award(
            member=closed.people["a4"],
            rule="read_article",
            source_type="test-late",
            source_id=1,
            at=at(DAY_ONE, 12),
        )
        assert award.points == 1
        assert not ReportDay.objects.get(day=DAY_ONE).final
        assert ReportDay.objects.get(day=DAY_TWO).final  # only the entry's day
        summary = tasks.reports_refresh_today()
    assert summary["reclosed"] == [DAY_ONE.isoformat()]
    mark = ReportDay.objects.get(day=DAY_ONE)
    assert mark.final
    assert mark.reconciled
    # a4, registered and idle on day one, is now a participant of A, C and P with one point.
    for name in "ACP":
        participants, active, points = before[name]
        assert counted(DAY_ONE, closed.orgs[name]) == (participants + 1, active + 1, points + 1)
    assert counted(DAY_ONE, closed.orgs["B"])[2] == 3


def test_a_reversal_of_a_past_days_award_reopens_that_day(closed):
    with time_machine.travel(A_WEEK_LATER, tick=False):
        award = points_award(
            member=closed.people["a4"],
            rule="read_article",
            source_type="test-late",
            source_id=2,
            at=at(DAY_ONE, 12),
        )
        tasks.reports_refresh_today()
        assert ReportDay.objects.get(day=DAY_ONE).final
        with_award = counted(DAY_ONE, closed.orgs["A"])
        assert award.entry_id is not None
        points_reverse(
            actor=None, entry=LedgerEntry.objects.get(pk=award.entry_id), reason="记录有误"
        )
        assert not ReportDay.objects.get(day=DAY_ONE).final
        tasks.reports_refresh_today()
    participants, active, points = counted(DAY_ONE, closed.orgs["A"])
    # The reversal takes the point back; a4 still has entries that day (active), none positive.
    assert (participants, active, points) == (with_award[0] - 1, with_award[1], with_award[2] - 1)
    assert ReportDay.objects.get(day=DAY_ONE).reconciled


def test_a_batch_with_a_past_days_request_reopens_that_day(closed):
    with time_machine.travel(A_WEEK_LATER, tick=False):
        awards = points_award_batch(
            [
                AwardRequest(closed.people["a4"].pk, "read_article", "late", 3, at(DAY_ONE, 12)),
                AwardRequest(closed.people["a1"].pk, "read_article", "late", 4, A_WEEK_LATER),
            ]
        )
    assert [award.points for award in awards] == [1, 1]
    assert not ReportDay.objects.get(day=DAY_ONE).final
    assert ReportDay.objects.get(day=DAY_TWO).final


def test_an_award_that_rolls_back_leaves_the_day_closed(closed):
    def award_then_fail() -> None:
        with transaction.atomic():
            points_award(
                member=closed.people["a4"],
                rule="read_article",
                source_type="test-late",
                source_id=5,
                at=at(DAY_ONE, 12),
            )
            assert not ReportDay.objects.get(day=DAY_ONE).final  # reopened inside
            raise RuntimeError("the caller's transaction fails")

    with time_machine.travel(A_WEEK_LATER, tick=False), pytest.raises(RuntimeError):
        award_then_fail()
    assert ReportDay.objects.get(day=DAY_ONE).final


def test_todays_awards_cost_the_reports_no_query(closed, django_assert_num_queries):
    with time_machine.travel(A_WEEK_LATER, tick=False), django_assert_num_queries(0):
        assert rollup.report_days_reopen(days=frozenset({A_WEEK_LATER.date()})) == 0


def test_a_day_never_computed_is_not_marked(story):
    with time_machine.travel(A_WEEK_LATER, tick=False):
        points_award(
            member=story.people["a4"],
            rule="read_article",
            source_type="test-late",
            source_id=6,
            at=at(DAY_ONE, 12),
        )
    assert not ReportDay.objects.exists()


def test_the_nightly_run_recloses_a_reopened_day_older_than_its_catch_up_week(closed):
    a_month_later = at(DAY_ONE + dt.timedelta(days=29), 0, 20)
    with time_machine.travel(a_month_later, tick=False):
        points_award(
            member=closed.people["a4"],
            rule="read_article",
            source_type="test-late",
            source_id=7,
            at=at(DAY_ONE, 12),
        )
        summary = tasks.reports_close_nightly()
    assert DAY_ONE.isoformat() in [row["day"] for row in summary]
    assert ReportDay.objects.get(day=DAY_ONE).final
