"""Live figures of today, the nightly close that makes them final, and the command."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings

from xuexi.reports import rollup, selectors, tasks
from xuexi.reports.models import DailyFigure, ReportDay
from xuexi.reports.tests.conftest import DAY_ONE, DAY_TWO, at

pytestmark = pytest.mark.django_db


def figures_of(day: dt.date) -> list[tuple[int, ...]]:
    return sorted(
        DailyFigure.objects.filter(day=day).values_list(
            "organization_id", "expected", "registered", "participants", "active", "points_total"
        )
    )


@override_settings(XUEXI_REPORTS_COMPUTE_ON_READ=True)
def test_todays_live_figures_equal_the_final_ones_after_the_close(story):
    with time_machine.travel(at(DAY_TWO, 15), tick=False):
        live = selectors.report_figures(story.orgs["C"], day=DAY_TWO)
        assert live.ready
        assert not live.final
        live_rows = figures_of(DAY_TWO)
        assert (live.figures.expected, live.figures.participants) == (7, 1)
    with time_machine.travel(at(DAY_TWO + dt.timedelta(days=1), 0, 20), tick=False):
        summary = tasks.reports_close_nightly()
        final = selectors.report_figures(story.orgs["C"], day=DAY_TWO)
    assert summary[0]["day"] == "2026-11-03"
    assert summary[0]["reconciled"]
    assert final.final
    assert figures_of(DAY_TWO) == live_rows
    assert final.figures.as_dict() == live.figures.as_dict()


@override_settings(XUEXI_REPORTS_COMPUTE_ON_READ=False)
def test_the_live_refresh_takes_in_what_was_earned_since(story):
    with time_machine.travel(at(DAY_TWO, 11), tick=False):
        rollup.report_today_refresh()
        before = selectors.report_figures(story.orgs["B"], day=DAY_TWO)
        story.earn("t", "read_article", 3, at(DAY_TWO, 11), "B")
        unchanged = selectors.report_figures(story.orgs["B"], day=DAY_TWO)
        rollup.report_today_refresh()
        after = selectors.report_figures(story.orgs["B"], day=DAY_TWO)
    assert (before.figures.participants, before.figures.points_total) == (1, 4)
    # Reads never scan the ledger: the new points show after the next refresh.
    assert unchanged.figures.points_total == 4
    assert (after.figures.participants, after.figures.points_total) == (2, 7)
    assert not ReportDay.objects.get(day=DAY_TWO).final


@override_settings(XUEXI_REPORTS_COMPUTE_ON_READ=False)
def test_a_day_that_has_not_ended_cannot_be_closed(story):
    with (
        time_machine.travel(at(DAY_TWO, 23, 59), tick=False),
        pytest.raises(ValueError, match="has not ended"),
    ):
        rollup.report_day_close(DAY_TWO)


@override_settings(XUEXI_REPORTS_COMPUTE_ON_READ=False)
def test_the_nightly_run_also_closes_days_left_open(story):
    with time_machine.travel(at(DAY_TWO + dt.timedelta(days=1), 0, 20), tick=False):
        tasks.reports_close_nightly()
    assert ReportDay.objects.get(day=DAY_ONE).final
    assert ReportDay.objects.get(day=DAY_TWO).final


def test_the_command_closes_a_day_and_says_whether_it_agrees_with_the_ledger(story, capsys):
    call_command("reports", "close", "--day", "2026-11-03", "--days", "2")
    out = capsys.readouterr().out
    assert "2026-11-02：已结算" in out
    assert "积分 13（明细 13，与积分明细一致）" in out
    assert "2026-11-03：已结算" in out
    assert ReportDay.objects.filter(final=True).count() == 2
