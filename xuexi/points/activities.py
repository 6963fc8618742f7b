"""Offline collective study (党课, 主题党日, 讲座): recorded by administrators, paid to attendees.

Writes:

- ``activity_record`` checks everything first (scope, fields, every attendee a current member
  of the organisation's subtree) and writes nothing when anything is wrong. The activity, its
  attendee list and the audit entry commit in one transaction; then each attendee is paid by
  ``points_award`` (rule ``offline_activity``, source ``("activity", id)``, at noon of the
  activity's Shanghai day so that day's cap applies), one transaction per attendee: no
  transaction spans members (ARCHITECTURE "Ready to shard"), and two activities with the same
  attendees never wait on each other in a cycle (members are paid in id order).
- ``activity_reverse`` marks the activity reversed (once: the row is locked and checked) with
  its audit entry, then undoes each payment with a compensating entry (``points_reverse``).

``activity_settle`` is the idempotent second half of both: it pays every attendee not yet paid
or, once the activity is reversed, undoes every payment not yet undone. The ledger's unique
source makes a second run harmless, so it can be run again after a crash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.core.audit import audit_record
from xuexi.core.errors import Conflict, NotFound, ValidationFailed
from xuexi.core.time import BUSINESS_TZ, business_day, now
from xuexi.organizations.models import Membership, Organization
from xuexi.organizations.scope import AdminScope
from xuexi.points.models import Activity, ActivityAttendee, ActivityKind, LedgerEntry
from xuexi.points.services import points_award, points_reverse

RULE = "offline_activity"
SOURCE_TYPE = "activity"
MAX_AGE_DAYS = 30  # an activity is recorded within a month of being held
MAX_ATTENDEES = 2000


def max_points() -> int:
    return int(settings.XUEXI_ACTIVITY_MAX_POINTS)


# --- reads ------------------------------------------------------------------------------------


def access_activity_as_admin(user: User, activity_id: int) -> Activity:
    """The activity if its organisation lies in ``user``'s scope; ``NotFound`` otherwise,
    ``Forbidden`` for a user with no administrative role."""
    scope = AdminScope.of(user)
    scope.require_admin()
    activity = (
        Activity.objects.select_related("organization", "created_by", "reversed_by")
        .filter(pk=activity_id)
        .first()
    )
    if activity is None or not scope.covers(activity.organization):
        raise NotFound(_("找不到该活动，或它不在您的管理范围内。"))
    return activity


def activities_in(organization: Organization) -> QuerySet[Activity]:
    """Activities of ``organization`` and every node below it, newest first, each with
    ``attendee_count`` and ``paid_total`` (one query)."""
    return (
        Activity.objects.filter(organization__path__startswith=organization.path)
        .select_related("organization", "created_by")
        .annotate(attendee_count=Count("attendees"), paid_total=Sum("attendees__points_paid"))
        .order_by("-held_on", "-id")
    )


def activity_attendees(activity: Activity) -> QuerySet[ActivityAttendee]:
    return (
        ActivityAttendee.objects.filter(activity=activity)
        .select_related("member", "organization")
        .order_by("member__real_name", "member_id")
    )


@dataclass(frozen=True)
class ActivitySummary:
    """What an activity paid: ``trimmed`` attendees got less than its points (the rule's daily
    cap), ``unpaid`` got nothing, ``pending`` are not settled yet."""

    attendees: int
    paid_in_full: int
    trimmed: int
    unpaid: int
    pending: int
    points_paid: int
    points_reversed: int


def activity_summary(activity: Activity) -> ActivitySummary:
    rows = list(
        ActivityAttendee.objects.filter(activity=activity).values_list(
            "points_paid", "settled_at", "reversal_id"
        )
    )
    settled = [(paid, reversal) for paid, at, reversal in rows if at is not None]
    return ActivitySummary(
        attendees=len(rows),
        paid_in_full=sum(1 for paid, _r in settled if paid >= activity.points),
        trimmed=sum(1 for paid, _r in settled if 0 < paid < activity.points),
        unpaid=sum(1 for paid, _r in settled if paid <= 0),
        pending=len(rows) - len(settled),
        points_paid=sum(paid for paid, _r in settled),
        points_reversed=sum(paid for paid, reversal in settled if reversal is not None),
    )


# --- writes ---------------------------------------------------------------------------------------


def _clean(
    *,
    title: str,
    kind: str,
    held_on: dt.date | None,
    place: str,
    attendee_ids: list[int],
    points: int | None,
) -> tuple[str, str, list[int], dt.date, int]:
    """The cleaned title, place, attendee ids, day and points; ``ValidationFailed`` naming
    every wrong field otherwise."""
    errors: dict[str, str] = {}
    title = (title or "").strip()
    place = (place or "").strip()
    if not 2 <= len(title) <= 100:
        errors["title"] = _("活动名称须为 2–100 个字。")
    if kind not in ActivityKind.values:
        errors["kind"] = _("活动类型无效。")
    if len(place) > 100:
        errors["place"] = _("地点最多 100 个字。")
    today = business_day()
    if held_on is None:
        errors["held_on"] = _("请填写活动日期。")
    elif held_on > today:
        errors["held_on"] = _("活动日期不能晚于今天。")
    elif held_on < today - dt.timedelta(days=MAX_AGE_DAYS):
        errors["held_on"] = _("只能记录 %(days)s 天内举行的活动。") % {"days": MAX_AGE_DAYS}
    if points is None or not 1 <= points <= max_points():
        errors["points"] = _("每人积分须在 1 到 %(max)s 之间。") % {"max": max_points()}
    ids = sorted({int(i) for i in attendee_ids or []})
    if not ids:
        errors["attendee_ids"] = _("请选择参加活动的成员。")
    elif len(ids) > MAX_ATTENDEES:
        errors["attendee_ids"] = _("一次最多记录 %(max)s 名参加人。") % {"max": MAX_ATTENDEES}
    if errors or held_on is None or points is None:
        raise ValidationFailed(errors)
    return title, place, ids, held_on, points


def activity_record(
    *,
    actor: User,
    organization: Organization,
    title: str,
    kind: str,
    held_on: dt.date | None,
    attendee_ids: list[int],
    points: int | None,
    place: str = "",
    ip: str | None = None,
) -> Activity:
    """Record an activity of ``organization`` (in the actor's scope) and pay its attendees.

    Refused as a whole, writing nothing, unless every attendee is a current member of the
    organisation or a node below it. See the module docstring for the transactions.
    """
    scope = AdminScope.of(actor)
    scope.require_admin()
    scope.require(organization)
    title, place, ids, day, points_each = _clean(
        title=title,
        kind=kind,
        held_on=held_on,
        place=place,
        attendee_ids=attendee_ids,
        points=points,
    )
    with transaction.atomic():
        places = dict(
            Membership.objects.filter(
                user_id__in=ids,
                ended_at__isnull=True,
                organization__path__startswith=organization.path,
            ).values_list("user_id", "organization_id")
        )
        missing = [member_id for member_id in ids if member_id not in places]
        if missing:
            raise ValidationFailed(
                {
                    "attendee_ids": _(
                        "有 %(count)s 人不是「%(org)s」及其下级组织的在册成员，未记录任何内容。"
                    )
                    % {"count": len(missing), "org": organization.name}
                }
            )
        activity = Activity.objects.create(
            organization=organization,
            title=title,
            kind=kind,
            held_on=day,
            place=place,
            points=points_each,
            created_by=actor,
        )
        ActivityAttendee.objects.bulk_create(
            [
                ActivityAttendee(activity=activity, member_id=member_id, organization_id=org_id)
                for member_id, org_id in sorted(places.items())
            ]
        )
        audit_record(
            actor=actor,
            action="activity.record",
            target=activity,
            organization=organization,
            after={
                "title": title,
                "kind": kind,
                "held_on": day,
                "place": place,
                "points": points_each,
                "attendees": len(ids),
            },
            ip=ip,
        )
    activity_settle(activity)
    return activity


def _award_moment(held_on: dt.date) -> dt.datetime:
    """Noon of the activity's Shanghai day, or now if that is still to come today."""
    noon = dt.datetime.combine(held_on, dt.time(12), tzinfo=BUSINESS_TZ)
    return min(noon, now())


def activity_settle(activity: Activity) -> None:
    """Pay each attendee not yet paid; once the activity is reversed, undo each payment not yet
    undone. One transaction per attendee (his row locked), in member id order; idempotent."""
    at = _award_moment(activity.held_on)
    attendee_ids = list(
        ActivityAttendee.objects.filter(activity=activity)
        .order_by("member_id")
        .values_list("pk", flat=True)
    )
    for attendee_id in attendee_ids:
        with transaction.atomic():
            row = (
                ActivityAttendee.objects.select_for_update(of=("self",))
                .select_related("member")
                .get(pk=attendee_id)
            )
            is_reversed = Activity.objects.filter(
                pk=activity.pk, reversed_at__isnull=False
            ).exists()
            if row.settled_at is None:
                if is_reversed:
                    row.reason = "reversed"
                else:
                    _pay(activity, row, at)
                row.settled_at = now()
                row.save(update_fields=["entry", "points_paid", "reason", "settled_at"])
            if is_reversed and row.entry_id is not None and row.reversal_id is None:
                entry = LedgerEntry.objects.get(pk=row.entry_id)
                reversal = LedgerEntry.objects.filter(
                    member_id=entry.member_id,
                    rule=entry.rule,
                    source_type="reversal",
                    source_id=str(entry.pk),
                ).first() or points_reverse(
                    actor=None,
                    entry=entry,
                    reason=_("撤销活动：%(reason)s") % {"reason": activity.reverse_reason},
                )
                row.reversal = reversal
                row.save(update_fields=["reversal"])


def _pay(activity: Activity, row: ActivityAttendee, at: dt.datetime) -> None:
    award = points_award(
        member=row.member,
        rule=RULE,
        source_type=SOURCE_TYPE,
        source_id=activity.pk,
        at=at,
        occurrences=activity.points,
        note=activity.title,
    )
    row.reason = award.reason
    if award.duplicate:  # paid by an earlier, interrupted run
        entry = LedgerEntry.objects.filter(
            member_id=row.member_id, rule=RULE, source_type=SOURCE_TYPE, source_id=str(activity.pk)
        ).first()
        row.entry = entry
        row.points_paid = entry.points if entry else 0
        row.reason = "capped" if entry and entry.points < activity.points else ""
        return
    row.entry_id = award.entry_id
    row.points_paid = award.points


def activity_reverse(
    *, actor: User, activity: Activity, reason: str, ip: str | None = None
) -> Activity:
    """Undo an activity's points with compensating entries. Once only (``Conflict`` after);
    the reason is kept on the activity, in the audit log and on each compensating entry."""
    scope = AdminScope.of(actor)
    scope.require_admin()
    scope.require(activity.organization)
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= 200:
        raise ValidationFailed({"reason": _("请填写撤销原因（2–200 个字）。")})
    with transaction.atomic():
        locked = (
            Activity.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=activity.pk)
        )
        if locked.reversed_at is not None:
            raise Conflict(_("该活动的积分已经撤销，不能重复撤销。"), code="already_reversed")
        paid = (
            ActivityAttendee.objects.filter(activity=locked).aggregate(total=Sum("points_paid"))[
                "total"
            ]
            or 0
        )
        locked.reversed_at = now()
        locked.reversed_by = actor
        locked.reverse_reason = reason
        locked.save(update_fields=["reversed_at", "reversed_by", "reverse_reason"])
        audit_record(
            actor=actor,
            action="activity.reverse",
            target=locked,
            organization=locked.organization,
            before={"points_paid": paid},
            after={"reason": reason},
            ip=ip,
        )
    activity_settle(locked)
    return locked
