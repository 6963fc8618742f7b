"""Points routes for administrators (API.md "Points"): rankings and offline activities.

Thin: rankings are read through ``access_organization_for_rankings`` (administrators in scope,
and members for their own organisation and the nodes above it, docs/rankings.md); activities
through the access layer and the services of ``xuexi.points.activities``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from xuexi.accounts.models import User
from xuexi.api.schemas import ERRORS
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import ValidationFailed
from xuexi.core.pagination import paginate
from xuexi.core.time import business_day
from xuexi.organizations.access import access_organization_as_admin
from xuexi.points import activities, rankings
from xuexi.points.models import Activity

router = Router(tags=["积分排行与线下活动"])


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # authenticated by the router's auth


# --- shapes -------------------------------------------------------------------------------------


class RankingItemOut(Schema):
    rank: int
    id: int
    name: str
    points: int
    organization: str | None = None  # members: the member's current organisation
    member_count: int | None = None  # organisations: current members of the subtree
    points_per_member: float | None = None  # organisations


class OrganizationRef(Schema):
    id: int
    name: str


class ActivityIn(Schema):
    title: str = Field(max_length=100)
    kind: Literal["party_lecture", "party_day", "lecture", "other"]
    held_on: dt.date
    attendee_ids: list[int] = Field(max_length=activities.MAX_ATTENDEES)
    points: int
    place: str = Field("", max_length=100)


class AttendeeOut(Schema):
    member_id: int
    real_name: str
    organization_id: int
    points_paid: int
    reason: str  # "" paid in full, "capped" trimmed by the day's cap, see docs/rankings.md
    reversed: bool


class ActivityOut(Schema):
    id: int
    organization: OrganizationRef
    title: str
    kind: str
    held_on: dt.date
    place: str
    points: int
    created_at: dt.datetime
    reversed_at: dt.datetime | None
    reverse_reason: str
    attendee_count: int
    points_paid: int
    trimmed: int  # attendees paid less than ``points`` (the rule's daily cap)
    unpaid: int  # attendees paid nothing


class ActivityDetailOut(ActivityOut):
    attendees: list[AttendeeOut]


class ActivityPage(Schema):
    items: list[ActivityOut]
    next_cursor: str | None


class ReverseIn(Schema):
    reason: str = Field(max_length=200)


def activity_out(activity: Activity, *, with_attendees: bool = False) -> dict[str, Any]:
    summary = activities.activity_summary(activity)
    data: dict[str, Any] = {
        "id": activity.pk,
        "organization": {"id": activity.organization_id, "name": activity.organization.name},
        "title": activity.title,
        "kind": activity.kind,
        "held_on": activity.held_on,
        "place": activity.place,
        "points": activity.points,
        "created_at": activity.created_at,
        "reversed_at": activity.reversed_at,
        "reverse_reason": activity.reverse_reason,
        "attendee_count": summary.attendees,
        "points_paid": summary.points_paid,
        "trimmed": summary.trimmed,
        "unpaid": summary.unpaid,
    }
    if with_attendees:
        data["attendees"] = [
            {
                "member_id": row.member_id,
                "real_name": row.member.real_name,
                "organization_id": row.organization_id,
                "points_paid": row.points_paid,
                "reason": row.reason,
                "reversed": row.reversal_id is not None,
            }
            for row in activities.activity_attendees(activity)
        ]
    return data


# --- rankings -------------------------------------------------------------------------------------


@router.get(
    "/organizations/{organization_id}/rankings", response={200: list[RankingItemOut], **ERRORS}
)
def ranking_list(
    request: HttpRequest,
    organization_id: int,
    of: Literal["members", "organizations"] = "members",
    period: Literal["day", "week", "month", "year"] = "day",
    date: dt.date | None = None,
    by: Literal["total", "per_member"] = "total",
    limit: int = rankings.TOP,
) -> list[dict[str, Any]]:
    """Members of the subtree (``of=members``, top ``limit``) or the node's children
    (``of=organizations``, all, by ``total`` or ``per_member``) for the day, week (from
    Monday), month or year containing ``date`` (default today, Asia/Shanghai). Equal points
    share a rank. ``403 member_rankings_off`` when personal rankings are switched off."""
    actor = _actor(request)
    organization = rankings.access_organization_for_rankings(actor, organization_id)
    if not 1 <= limit <= rankings.TOP:
        raise ValidationFailed({"limit": _("数量须在 1 到 %(max)s 之间。") % {"max": rankings.TOP}})
    day = date or business_day()
    if of == "members":
        ranking = rankings.ranking_members(
            organization=organization, period=period, day=day, viewer=actor, limit=limit
        )
        return [
            {
                "rank": row.rank,
                "id": row.member_id,
                "name": row.name,
                "points": row.points,
                "organization": row.organization_name or None,
            }
            for row in ranking.rows
        ]
    children = rankings.ranking_organizations(
        organization=organization, period=period, day=day, by=by
    )
    return [
        {
            "rank": row.rank,
            "id": row.organization_id,
            "name": row.name,
            "points": row.points,
            "member_count": row.member_count,
            "points_per_member": row.points_per_member,
        }
        for row in children.rows
    ]


# --- offline activities ---------------------------------------------------------------------


@router.get("/organizations/{organization_id}/activities", response={200: ActivityPage, **ERRORS})
def activity_list(
    request: HttpRequest, organization_id: int, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    """Activities of the node and every node below it, newest first."""
    organization = access_organization_as_admin(_actor(request), organization_id)
    page = paginate(activities.activities_in(organization), cursor=cursor, limit=limit)
    return {"items": [activity_out(a) for a in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/organizations/{organization_id}/activities", response={201: ActivityDetailOut, **ERRORS}
)
def activity_create(
    request: HttpRequest, organization_id: int, payload: ActivityIn
) -> Status[dict[str, Any]]:
    """Record an activity; each attendee gets a ledger entry (``points_paid`` may be less than
    ``points`` when the day's cap for offline activities is reached: see ``trimmed``)."""
    actor = _actor(request)
    organization = access_organization_as_admin(actor, organization_id)
    activity = activities.activity_record(
        actor=actor,
        organization=organization,
        title=payload.title,
        kind=payload.kind,
        held_on=payload.held_on,
        place=payload.place,
        attendee_ids=payload.attendee_ids,
        points=payload.points,
        ip=client_ip_from_request(request),
    )
    return Status(201, activity_out(activity, with_attendees=True))


@router.get("/activities/{activity_id}", response={200: ActivityDetailOut, **ERRORS})
def activity_detail(request: HttpRequest, activity_id: int) -> dict[str, Any]:
    activity = activities.access_activity_as_admin(_actor(request), activity_id)
    return activity_out(activity, with_attendees=True)


@router.post("/activities/{activity_id}/reverse", response={200: ActivityDetailOut, **ERRORS})
def activity_reverse(request: HttpRequest, activity_id: int, payload: ReverseIn) -> dict[str, Any]:
    """Undo the activity's points with compensating entries; once only (``409`` after)."""
    actor = _actor(request)
    activity = activities.access_activity_as_admin(actor, activity_id)
    activity = activities.activity_reverse(
        actor=actor, activity=activity, reason=payload.reason, ip=client_ip_from_request(request)
    )
    return activity_out(activity, with_attendees=True)
