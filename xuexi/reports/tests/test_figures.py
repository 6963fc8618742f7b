"""The figures against the hand-computed story of ``conftest.py``."""

from __future__ import annotations

import pytest
from django.test import override_settings

from xuexi.organizations.models import Organization
from xuexi.reports import rollup, selectors
from xuexi.reports.models import DailyFigure, ReportDay
from xuexi.reports.tests.conftest import DAY_ONE, DAY_TWO

pytestmark = pytest.mark.django_db


def row(story, org: str, day) -> tuple[int, int, int, int, int]:
    figure = DailyFigure.objects.get(organization=story.orgs[org], day=day)
    return (
        figure.expected,
        figure.registered,
        figure.participants,
        figure.active,
        figure.points_total,
    )


def test_day_one_counts_members_where_they_were_listed_at_its_end(story):
    result = rollup.report_day_close(DAY_ONE)
    #                  expected registered participants active points
    assert row(story, "A", DAY_ONE) == (4, 3, 1, 2, 10)  # a1 a2 a3 a4; t's morning points
    assert row(story, "B", DAY_ONE) == (2, 1, 1, 1, 3)  # t and b1; r's points, r not listed
    assert row(story, "C", DAY_ONE) == (6, 4, 2, 3, 13)
    assert row(story, "P", DAY_ONE) == (6, 4, 2, 3, 13)
    assert result.final
    assert result.reconciled
    assert result.ledger_points == 13


def test_day_two_takes_in_the_newcomer_and_the_late_registration(story):
    rollup.report_day_close(DAY_TWO)
    assert row(story, "A", DAY_TWO) == (5, 4, 0, 1, 1)  # n joined; a1 only logged in
    assert row(story, "B", DAY_TWO) == (2, 2, 1, 1, 4)  # b1 registered and read
    assert row(story, "C", DAY_TWO) == (7, 6, 1, 2, 5)


def test_closing_day_two_leaves_day_one_as_it_was(story):
    rollup.report_day_close(DAY_ONE)
    before = list(DailyFigure.objects.filter(day=DAY_ONE).values_list())
    rollup.report_day_close(DAY_TWO)
    assert list(DailyFigure.objects.filter(day=DAY_ONE).values_list()) == before


def test_closing_a_day_again_gives_the_same_figures(story):
    rollup.report_day_close(DAY_ONE)
    first = sorted(
        DailyFigure.objects.filter(day=DAY_ONE).values_list(
            "organization_id", "expected", "registered", "participants", "active", "points_total"
        )
    )
    rollup.report_day_close(DAY_ONE)
    again = sorted(
        DailyFigure.objects.filter(day=DAY_ONE).values_list(
            "organization_id", "expected", "registered", "participants", "active", "points_total"
        )
    )
    assert again == first
    assert ReportDay.objects.get(day=DAY_ONE).final


def test_the_day_report_gives_the_ratios_and_ranks_the_children(story):
    rollup.report_day_close(DAY_ONE)
    report = selectors.report_figures(story.orgs["C"], day=DAY_ONE, by="participation")
    figures = report.figures
    assert report.final
    assert (figures.expected, figures.registered, figures.participants) == (6, 4, 2)
    assert figures.coverage == pytest.approx(0.6667)
    assert figures.participation == 0.5
    assert figures.points_per_member == 3.25
    assert figures.unregistered == 2
    # A: 1 of 3 registered learned; B: 1 of 1.
    assert [(c.name, c.rank, c.participation) for c in report.children] == [
        ("支部B", 1, 1.0),
        ("支部A", 2, 0.3333),
    ]
    by_points = selectors.report_figures(story.orgs["C"], day=DAY_ONE, by="points_per_member")
    assert [(c.name, c.points_per_member) for c in by_points.children] == [
        ("支部A", 3.33),  # 10 points, 3 registered
        ("支部B", 3.0),
    ]


@override_settings(XUEXI_REPORTS_COMPUTE_ON_READ=True)
def test_a_week_sums_points_and_averages_members_over_its_days(story):
    # Every day of that week is closed on read (the embedded default); days three to seven
    # keep day two's members and have no points.
    report = selectors.report_figures(story.orgs["C"], day=DAY_TWO, period="week")
    figures = report.figures
    assert report.computed_days == 7
    assert report.final
    assert (figures.expected, figures.registered) == (7, 6)
    assert figures.participants == round(3 / 7, 1)
    assert figures.participation == round(3 / (4 + 6 * 6), 4)
    assert figures.points_total == 18
    assert figures.points_per_member == 3.0


@override_settings(XUEXI_REPORTS_COMPUTE_ON_READ=False)
def test_without_compute_on_read_an_uncomputed_day_is_reported_as_not_ready(story):
    report = selectors.report_figures(story.orgs["C"], day=DAY_ONE)
    assert not report.ready
    assert not report.final
    assert report.figures.expected == 0


def test_ties_share_a_rank(story):
    ordered = selectors._rank(
        [
            selectors.Figures(organization_id=1, path="0001", points_total=4, registered=2),
            selectors.Figures(organization_id=2, path="0002", points_total=2, registered=1),
            selectors.Figures(organization_id=3, path="0003", points_total=1, registered=1),
        ],
        "points_per_member",
    )
    assert [(f.organization_id, f.rank) for f in ordered] == [(1, 1), (2, 1), (3, 3)]


def test_the_member_lists_follow_the_figures(story):
    county = story.orgs["C"]

    def names(status, day, q=""):
        rows = selectors.report_members(county, day=day, status=status, q=q)
        return sorted(m.user.real_name.removeprefix("成员") for m in rows)

    assert names("unregistered", DAY_ONE) == ["a3", "b1"]
    assert names("not_learned", DAY_ONE) == ["a2", "a4"]
    assert names("learned", DAY_ONE) == ["a1", "t"]
    assert names("unregistered", DAY_TWO) == ["a3"]
    assert names("not_learned", DAY_TWO) == ["a1", "a2", "a4", "n", "t"]
    assert names("learned", DAY_TWO) == ["b1"]
    assert names("not_learned", DAY_ONE, q="a4") == ["a4"]
    learned = selectors.report_members(county, day=DAY_ONE, status="learned")
    rows = [selectors.report_member_row(m) for m in learned]
    assert {row.real_name: row.points for row in rows} == {"成员a1": 5, "成员t": 5}


def test_a_past_day_keeps_the_tree_it_was_counted_in(story):
    rollup.report_day_close(DAY_ONE)
    branch = Organization.objects.get(pk=story.orgs["B"].pk)
    Organization.objects.move(branch, Organization.objects.get(pk=story.orgs["P"].pk), "last-child")
    county = Organization.objects.get(pk=story.orgs["C"].pk)
    province = Organization.objects.get(pk=story.orgs["P"].pk)
    assert [c.name for c in selectors.report_figures(county, day=DAY_ONE).children] == [
        "支部B",
        "支部A",
    ]
    assert [c.name for c in selectors.report_figures(province, day=DAY_ONE).children] == ["县C"]
    # Closed again, the day is counted in the tree as it stands now.
    rollup.report_day_close(DAY_ONE)
    assert [c.name for c in selectors.report_figures(county, day=DAY_ONE).children] == ["支部A"]
    assert row(story, "C", DAY_ONE) == (4, 3, 1, 2, 10)
