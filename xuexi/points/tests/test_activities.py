"""Offline activities: recorded in scope, paid through the ledger at noon of their day, trimmed
by the day's cap (and reported), refused as a whole when anything is wrong, reversed once by
compensating entries, audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Sum

from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xuexi.core.models import AuditEntry
from xuexi.core.time import BUSINESS_TZ, business_day
from xuexi.organizations.models import Organization
from xuexi.organizations.services import member_remove, membership_place
from xuexi.points import activities
from xuexi.points.models import Activity, ActivityAttendee, Counter, LedgerEntry
from xuexi.points.services import points_award

pytestmark = pytest.mark.django_db


def org(personas: dict[str, Any], name: str) -> Organization:
    return Organization.objects.get(pk=personas["orgs"][name].pk)


def record(personas: dict[str, Any], actor: str = "county_admin", **overrides: Any) -> Activity:
    fields: dict[str, Any] = {
        "organization": org(personas, "branch_a"),
        "title": "七月专题党课",
        "kind": "party_lecture",
        "held_on": business_day(),
        "place": "党员活动室",
        "attendee_ids": [personas["member"].pk, personas["branch_admin"].pk],
        "points": 5,
        **overrides,
    }
    return activities.activity_record(actor=personas[actor], ip="10.0.0.1", **fields)


def balance(member: Any) -> int:
    return int(LedgerEntry.objects.filter(member=member).aggregate(t=Sum("points"))["t"] or 0)


def written() -> tuple[int, int, int, int]:
    return (
        Activity.objects.count(),
        ActivityAttendee.objects.count(),
        LedgerEntry.objects.count(),
        AuditEntry.objects.count(),
    )


def test_recording_an_activity_pays_each_attendee_at_noon_of_its_day(personas, rules):
    yesterday = business_day() - dt.timedelta(days=1)
    activity = record(personas, held_on=yesterday)
    entries = LedgerEntry.objects.filter(source_type="activity", source_id=str(activity.pk))
    assert sorted(entries.values_list("member_id", flat=True)) == sorted(
        [personas["member"].pk, personas["branch_admin"].pk]
    )
    for entry in entries:
        assert (entry.rule, entry.points, entry.day, entry.note) == (
            "offline_activity",
            5,
            yesterday,
            "七月专题党课",
        )
        assert entry.at == dt.datetime.combine(yesterday, dt.time(12), tzinfo=BUSINESS_TZ)
        assert entry.organization_id == personas["orgs"]["branch_a"].pk
    rows = ActivityAttendee.objects.filter(activity=activity)
    assert all(row.settled_at and row.entry_id and row.points_paid == 5 for row in rows)
    summary = activities.activity_summary(activity)
    assert (summary.attendees, summary.paid_in_full, summary.trimmed, summary.points_paid) == (
        2,
        2,
        0,
        10,
    )
    audit = AuditEntry.objects.get(action="activity.record")
    assert audit.actor == personas["county_admin"]
    assert audit.organization_id == personas["orgs"]["branch_a"].pk
    assert audit.after is not None
    assert (audit.after["attendees"], audit.after["points"]) == (2, 5)
    assert audit.ip == "10.0.0.1"


def test_attendees_may_come_from_any_node_below_the_organisation(personas, rules):
    county_a = org(personas, "county_a")
    activity = record(
        personas,
        organization=county_a,
        attendee_ids=[personas["member"].pk, personas["county_admin"].pk],
    )
    assert activity.organization == county_a
    assert balance(personas["county_admin"]) == 5


def test_the_days_cap_trims_the_points_and_the_trim_is_reported(personas, rules):
    member, other = personas["member"], personas["branch_admin"]
    points_award(member=member, rule="offline_activity", source_type="test", source_id="earlier",
                 occurrences=15)  # fmt: skip
    activity = record(personas, points=10, attendee_ids=[member.pk, other.pk])
    paid = dict(
        ActivityAttendee.objects.filter(activity=activity).values_list("member_id", "points_paid")
    )
    assert paid == {member.pk: 5, other.pk: 10}
    trimmed = ActivityAttendee.objects.get(activity=activity, member=member)
    assert trimmed.reason == "capped"
    summary = activities.activity_summary(activity)
    assert (summary.paid_in_full, summary.trimmed, summary.unpaid, summary.points_paid) == (
        1,
        1,
        0,
        15,
    )
    again = record(personas, title="第二场讲座", kind="lecture", points=3,
                   attendee_ids=[member.pk])  # fmt: skip
    row = ActivityAttendee.objects.get(activity=again)
    assert (row.points_paid, row.reason, row.entry_id) == (0, "capped", None)
    assert activities.activity_summary(again).unpaid == 1
    assert balance(member) == 20  # the rule's daily cap of the test rules


def test_an_activity_never_pays_the_same_member_twice(personas, rules):
    activity = record(personas)
    before = written()
    activities.activity_settle(activity)
    assert written() == before


@pytest.mark.parametrize(
    ("actor", "organization", "attendees", "error"),
    [
        ("outsider", "branch_a", ["member"], NotFound),  # the sibling county's administrator
        ("branch_admin", "county_a", ["member"], NotFound),  # above his scope
        ("member", "branch_a", ["member"], Forbidden),  # no administrator
        ("stranger", "branch_a", ["member"], Forbidden),
        ("county_admin", "branch_a", ["member", "member_b"], ValidationFailed),  # 支部B1
        ("county_admin", "county_a", ["member", "outsider"], ValidationFailed),  # 县B
        ("province_admin", "branch_a", ["member", "stranger"], ValidationFailed),  # no place
    ],
)
def test_a_refused_activity_writes_nothing(personas, rules, actor, organization, attendees, error):
    before = written()
    with pytest.raises(error):
        record(
            personas,
            actor=actor,
            organization=org(personas, organization),
            attendee_ids=[personas[name].pk for name in attendees],
        )
    assert written() == before


def test_a_member_who_left_cannot_be_paid(personas, rules):
    membership = personas["member"].memberships.get(ended_at__isnull=True)
    member_remove(actor=personas["county_admin"], membership=membership)
    before = written()
    with pytest.raises(ValidationFailed) as refused:
        record(personas)
    assert "attendee_ids" in refused.value.details["fields"]
    assert written() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"held_on": business_day() + dt.timedelta(days=1)}, "held_on"),
        ({"held_on": business_day() - dt.timedelta(days=31)}, "held_on"),
        ({"held_on": None}, "held_on"),
        ({"points": 0}, "points"),
        ({"points": 11}, "points"),
        ({"points": None}, "points"),
        ({"attendee_ids": []}, "attendee_ids"),
        ({"kind": "banquet"}, "kind"),
        ({"title": " "}, "title"),
        ({"place": "地" * 101}, "place"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(personas, rules, overrides, field):
    before = written()
    with pytest.raises(ValidationFailed) as refused:
        record(personas, **overrides)
    assert field in refused.value.details["fields"]
    assert written() == before


def test_the_most_points_an_activity_may_pay_is_a_setting(personas, rules, settings):
    settings.XUEXI_ACTIVITY_MAX_POINTS = 3
    with pytest.raises(ValidationFailed):
        record(personas, points=4)
    assert record(personas, points=3).points == 3


def test_an_activity_thirty_days_old_may_still_be_recorded(personas, rules):
    activity = record(personas, held_on=business_day() - dt.timedelta(days=30))
    assert activities.activity_summary(activity).paid_in_full == 2


def test_reversing_an_activity_writes_compensating_entries_once(personas, rules):
    member, other = personas["member"], personas["branch_admin"]
    points_award(member=member, rule="offline_activity", source_type="test", source_id="earlier",
                 occurrences=18)  # fmt: skip
    activity = record(personas, points=4)  # member: 2 (capped), other: 4
    assert (balance(member), balance(other)) == (20, 4)
    activities.activity_reverse(
        actor=personas["branch_admin"], activity=activity, reason="签到表有误", ip="10.0.0.2"
    )
    assert (balance(member), balance(other)) == (18, 0)
    reversals = LedgerEntry.objects.filter(source_type="reversal")
    assert sorted(reversals.values_list("points", flat=True)) == [-4, -2]
    assert all("签到表有误" in entry.note for entry in reversals)
    assert all(row.reversal_id for row in ActivityAttendee.objects.filter(activity=activity))
    day = business_day()
    counter = Counter.objects.get(member=member, period="day", start=day, key="offline_activity")
    assert counter.points == 18  # the day's room comes back with the points
    activity.refresh_from_db()
    assert activity.reversed_by == personas["branch_admin"]
    assert activity.reverse_reason == "签到表有误"
    audit = AuditEntry.objects.get(action="activity.reverse")
    assert (audit.before, audit.after) == ({"points_paid": 6}, {"reason": "签到表有误"})

    before = written()
    with pytest.raises(Conflict) as refused:
        activities.activity_reverse(
            actor=personas["county_admin"], activity=activity, reason="再撤"
        )
    assert refused.value.code == "already_reversed"
    assert written() == before
    activities.activity_settle(activity)
    assert written() == before


def test_reversal_is_refused_outside_the_scope_and_without_a_reason(personas, rules):
    activity = record(personas)
    before = written()
    for actor, error in (("outsider", NotFound), ("member", Forbidden)):
        with pytest.raises(error):
            activities.activity_reverse(actor=personas[actor], activity=activity, reason="不对")
    with pytest.raises(ValidationFailed):
        activities.activity_reverse(actor=personas["county_admin"], activity=activity, reason=" ")
    assert written() == before
    assert Activity.objects.get(pk=activity.pk).reversed_at is None


def test_an_attendee_not_yet_paid_when_reversed_is_never_paid(personas, rules):
    """A crash between recording and paying leaves attendees unsettled; a reversal then
    marks them and a later settle pays nothing."""
    activity = record(personas)
    straggler = UserFactory.create()
    membership_place(user=straggler, organization=org(personas, "branch_a"))
    ActivityAttendee.objects.create(
        activity=activity, member=straggler, organization=org(personas, "branch_a")
    )
    activities.activity_reverse(actor=personas["county_admin"], activity=activity, reason="取消")
    row = ActivityAttendee.objects.get(activity=activity, member=straggler)
    assert (row.points_paid, row.reason, row.entry_id) == (0, "reversed", None)
    assert row.settled_at is not None
    assert balance(straggler) == 0


def test_activities_of_a_subtree_list_newest_first_with_their_totals(personas, rules):
    first = record(personas, held_on=business_day() - dt.timedelta(days=2))
    second = record(personas, organization=org(personas, "county_a"), title="主题党日",
                    kind="party_day", attendee_ids=[personas["county_admin"].pk])  # fmt: skip
    listed = list(activities.activities_in(org(personas, "county_a")))
    assert [a.pk for a in listed] == [second.pk, first.pk]
    totals = [(getattr(a, "attendee_count", None), getattr(a, "paid_total", None)) for a in listed]
    assert totals == [(1, 5), (2, 10)]
    assert [a.pk for a in activities.activities_in(org(personas, "branch_a"))] == [first.pk]
    assert not activities.activities_in(org(personas, "county_b")).exists()
    with pytest.raises(NotFound):
        activities.access_activity_as_admin(personas["outsider"], first.pk)
    with pytest.raises(Forbidden):
        activities.access_activity_as_admin(personas["member"], first.pk)
    assert activities.access_activity_as_admin(personas["branch_admin"], first.pk) == first
