"""Console pages for points: offline activities (积分与活动) and rankings (积分排行).

Thin, like the other console pages: every view fetches through the access layer, calls a
service or selector and renders. A non-administrator gets 403 and a node or activity outside
the scope 404, both as Chinese pages (``DomainErrorPageMiddleware``). Form pages also render
inside the console's dialog (``?dialog=1``).

The activity form picks attendees without JavaScript: searching and paging the member list are
submit buttons of the same form (``go``), so the title, date and the members already chosen
survive them; only ``go=record`` records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.validators import MaxValueValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from xuexi.accounts.forms import ServiceForm
from xuexi.accounts.models import User
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import DomainError
from xuexi.core.time import business_day
from xuexi.organizations.access import access_organization_as_admin
from xuexi.organizations.models import Organization
from xuexi.organizations.scope import AdminScope
from xuexi.organizations.selectors import members_current, organization_ancestors
from xuexi.points import activities, rankings
from xuexi.points.models import ActivityAttendee, ActivityKind

PAGE_SIZE = 20
PICK_PAGE_SIZE = 50
CHILDREN_LIMIT = 300

PERIOD_LABELS = {
    "day": gettext_lazy("日"),
    "week": gettext_lazy("周"),
    "month": gettext_lazy("月"),
    "year": gettext_lazy("年"),
}
REASON_LABELS: dict[str, Any] = {
    "": gettext_lazy("全额计分"),
    "capped": gettext_lazy("当日线下活动积分已达上限，部分计分"),
    "duplicate": gettext_lazy("已计分"),
    "no_rule": gettext_lazy("当日规则不含线下活动积分"),
    "no_ruleset": gettext_lazy("当日无生效的积分规则"),
    "not_today": gettext_lazy("当日不计此项积分"),
    "nothing_earned": gettext_lazy("未计分"),
    "reversed": gettext_lazy("活动已撤销，未计分"),
}


# --- helpers ------------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _admin_scope(request: HttpRequest) -> AdminScope:
    scope = AdminScope.of(_actor(request))
    scope.require_admin()
    return scope


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, section: str
) -> HttpResponse:
    """A console page, or only its content inside the console's dialog (``?dialog=1``)."""
    dialog = request.GET.get("dialog") == "1"
    query = request.GET.copy()
    for key in ("page", "dialog"):
        query.pop(key, None)
    return render(
        request,
        template,
        {
            "querystring": query.urlencode(),
            "base_template": "organizations/_dialog.html" if dialog else "web/console_base.html",
            "console_section": section,
            "in_dialog": dialog,
            **context,
        },
    )


def _crumbs(scope: AdminScope, organization: Organization, url_name: str) -> list[dict[str, Any]]:
    """The path down to ``organization``; nodes inside the scope link to the same page."""
    nodes = [*organization_ancestors(organization), organization]
    return [
        {
            "name": node.name,
            "url": reverse(url_name, args=[node.pk]) if scope.covers(node) else "",
        }
        for node in nodes
    ]


def _children(organization: Organization) -> list[Organization]:
    if not organization.numchild:
        return []
    return list(Organization.objects.get_children(organization)[:CHILDREN_LIMIT])


def _top_node(scope: AdminScope) -> Organization:
    path = scope.root_paths[0]
    return Organization.objects.get(path=path)


# --- 积分与活动 -------------------------------------------------------------------------------


@login_required
@require_GET
def activities_index(request: HttpRequest) -> HttpResponse:
    """/console/points/activities/ → the activities of the administrator's top node."""
    return redirect("console:points_activities", _top_node(_admin_scope(request)).pk)


@login_required
@require_GET
def activity_list(request: HttpRequest, org_id: int) -> HttpResponse:
    actor = _actor(request)
    organization = access_organization_as_admin(actor, org_id)
    scope = AdminScope.of(actor)
    page = Paginator(activities.activities_in(organization), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return _render(
        request,
        "points/console_activities.html",
        {
            "organization": organization,
            "crumbs": _crumbs(scope, organization, "console:points_activities"),
            "children": _children(organization),
            "page": page,
            "max_points": activities.max_points(),
        },
        section="points_activities",
    )


class ActivityForm(ServiceForm):
    title = forms.CharField(
        label=gettext_lazy("活动名称"),
        max_length=100,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": gettext_lazy("如：七月专题党课")}
        ),
    )
    kind = forms.ChoiceField(label=gettext_lazy("活动类型"), choices=ActivityKind.choices)
    held_on = forms.DateField(
        label=gettext_lazy("活动日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    place = forms.CharField(
        label=gettext_lazy("地点"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    points = forms.IntegerField(
        label=gettext_lazy("每人积分"),
        min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, max_points: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        points = cast(forms.IntegerField, self.fields["points"])
        points.max_value = max_points
        points.validators.append(MaxValueValidator(max_points))
        points.widget.attrs["max"] = str(max_points)
        points.help_text = _("1–%(max)s 分；每人每天线下活动积分另有上限。") % {"max": max_points}
        today = business_day()
        held_on = self.fields["held_on"]
        held_on.widget.attrs["max"] = today.isoformat()
        held_on.widget.attrs["min"] = (
            today - dt.timedelta(days=activities.MAX_AGE_DAYS)
        ).isoformat()


def _date(value: str) -> dt.date | None:
    try:
        return parse_date((value or "").strip())
    except ValueError:
        return None


def _ids(values: list[str]) -> list[int]:
    return sorted({int(v) for v in values if v.isdigit()})


@login_required
@require_http_methods(["GET", "POST"])
def activity_create(request: HttpRequest, org_id: int) -> HttpResponse:
    actor = _actor(request)
    organization = access_organization_as_admin(actor, org_id)
    scope = AdminScope.of(actor)
    max_points = activities.max_points()
    posted = request.method == "POST"
    data = request.POST if posted else request.GET
    go = data.get("go", "record") if posted else ""
    if posted and go == "record":
        form = ActivityForm(request.POST, max_points=max_points)
    else:  # first visit, or a search or page turn: show what was typed, judge nothing yet
        initial: dict[str, Any] = {
            "kind": ActivityKind.PARTY_LECTURE,
            "held_on": business_day(),
            "points": 1,
        }
        if posted:
            initial.update({name: request.POST.get(name, "") for name in ActivityForm.base_fields})
        form = ActivityForm(None, max_points=max_points, initial=initial)
    q = data.get("q", "").strip()[:50]
    chosen = _ids(data.getlist("attendee_ids"))
    members = members_current(organization, q=q).order_by("user__real_name", "user_id")
    pick_page_number = data.get("pick_page") or 1
    if go.startswith("page:"):
        pick_page_number = go.removeprefix("page:")
    if go == "search":
        pick_page_number = 1
    pick = Paginator(members, PICK_PAGE_SIZE).get_page(pick_page_number)
    if go == "select_page":
        chosen = sorted(set(chosen) | {m.user_id for m in pick.object_list})
    elif go == "clear":
        chosen = []

    if posted and go == "record" and form.is_valid():
        fields = form.cleaned_data
        try:
            activity = activities.activity_record(
                actor=actor,
                organization=organization,
                title=fields["title"],
                kind=fields["kind"],
                held_on=fields["held_on"],
                place=fields["place"],
                attendee_ids=chosen,
                points=fields["points"],
                ip=client_ip_from_request(request),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            summary = activities.activity_summary(activity)
            messages.success(
                request,
                _("已记录活动「%(title)s」，%(count)s 人共得 %(points)s 分。")
                % {
                    "title": activity.title,
                    "count": summary.attendees,
                    "points": summary.points_paid,
                },
            )
            if summary.trimmed or summary.unpaid:
                messages.warning(
                    request,
                    _(
                        "其中 %(trimmed)s 人因当日线下活动积分已达上限只得到部分积分，"
                        "%(unpaid)s 人未得分。"
                    )
                    % {"trimmed": summary.trimmed, "unpaid": summary.unpaid},
                )
            return redirect("console:points_activity", activity.pk)

    # The chosen members: names for the summary; those off this page ride along as hidden inputs.
    chosen_members = list(
        members_current(organization)
        .filter(user_id__in=chosen)
        .order_by("user__real_name", "user_id")[: activities.MAX_ATTENDEES]
    )
    chosen = [m.user_id for m in chosen_members]
    on_page = {m.user_id for m in pick.object_list}
    return _render(
        request,
        "points/console_activity_form.html",
        {
            "organization": organization,
            "crumbs": _crumbs(scope, organization, "console:points_activities"),
            "form": form,
            "q": q,
            "pick": pick,
            "chosen": set(chosen),
            "chosen_members": chosen_members,
            "chosen_elsewhere": [i for i in chosen if i not in on_page],
            "max_points": max_points,
            "max_age_days": activities.MAX_AGE_DAYS,
        },
        section="points_activities",
    )


@dataclass(frozen=True)
class AttendeeRow:
    attendee: ActivityAttendee
    reason_label: str
    short: bool  # paid less than the activity's points


@login_required
@require_GET
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    actor = _actor(request)
    activity = activities.access_activity_as_admin(actor, activity_id)
    scope = AdminScope.of(actor)
    attendees = [
        AttendeeRow(
            attendee=attendee,
            reason_label=str(REASON_LABELS.get(attendee.reason, attendee.reason)),
            short=0 <= attendee.points_paid < activity.points,
        )
        for attendee in activities.activity_attendees(activity)
    ]
    return _render(
        request,
        "points/console_activity.html",
        {
            "activity": activity,
            "organization": activity.organization,
            "crumbs": _crumbs(scope, activity.organization, "console:points_activities"),
            "attendees": attendees,
            "summary": activities.activity_summary(activity),
        },
        section="points_activities",
    )


class ReverseForm(ServiceForm):
    reason = forms.CharField(
        label=gettext_lazy("撤销原因"),
        min_length=2,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@login_required
@require_http_methods(["GET", "POST"])
def activity_reverse(request: HttpRequest, activity_id: int) -> HttpResponse:
    actor = _actor(request)
    activity = activities.access_activity_as_admin(actor, activity_id)
    scope = AdminScope.of(actor)
    form = ReverseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            activities.activity_reverse(
                actor=actor,
                activity=activity,
                reason=form.cleaned_data["reason"],
                ip=client_ip_from_request(request),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(
                request, _("已撤销活动「%(title)s」的积分。") % {"title": activity.title}
            )
            return redirect("console:points_activity", activity.pk)
    return _render(
        request,
        "points/console_activity_reverse.html",
        {
            "activity": activity,
            "organization": activity.organization,
            "crumbs": _crumbs(scope, activity.organization, "console:points_activities"),
            "form": form,
            "summary": activities.activity_summary(activity),
        },
        section="points_activities",
    )


# --- 积分排行 ----------------------------------------------------------------------------------


@login_required
@require_GET
def rankings_index(request: HttpRequest) -> HttpResponse:
    """/console/points/rankings/ → the rankings of the administrator's top node."""
    return redirect("console:points_rankings", _top_node(_admin_scope(request)).pk)


@login_required
@require_GET
def ranking_page(request: HttpRequest, org_id: int) -> HttpResponse:
    actor = _actor(request)
    organization = access_organization_as_admin(actor, org_id)
    scope = AdminScope.of(actor)
    switch = rankings.ranking_switch_state(actor, organization)
    period = request.GET.get("period", "day")
    if period not in rankings.PERIODS:
        period = "day"
    day = _date(request.GET.get("date", "")) or business_day()
    of = request.GET.get("of", "members" if switch.visible else "organizations")
    if of not in ("members", "organizations"):
        of = "members"
    by = request.GET.get("by", "total")
    if by not in ("total", "per_member"):
        by = "total"
    context: dict[str, Any] = {
        "organization": organization,
        "crumbs": _crumbs(scope, organization, "console:points_rankings"),
        "children": _children(organization),
        "switch": switch,
        "of": of,
        "by": by,
        "period": period,
        "day": day,
        "periods": list(PERIOD_LABELS.items()),
        "span": rankings.period_span(period, day),
        "backend": rankings.backend().name,
    }
    if of == "members":
        if switch.visible:
            context["members"] = rankings.ranking_members(
                organization=organization, period=period, day=day, viewer=actor
            )
    else:
        context["organizations"] = rankings.ranking_organizations(
            organization=organization, period=period, day=day, by=by
        )
    return _render(request, "points/console_rankings.html", context, section="points_rankings")


class SwitchForm(ServiceForm):
    target = forms.ChoiceField(
        choices=[("node", gettext_lazy("本组织")), ("platform", gettext_lazy("全平台"))]
    )
    members_visible = forms.TypedChoiceField(
        label=gettext_lazy("个人积分排行"),
        choices=[("1", gettext_lazy("显示")), ("0", gettext_lazy("关闭"))],
        coerce=lambda value: value == "1",
    )


@login_required
@require_http_methods(["GET", "POST"])
def ranking_setting(request: HttpRequest, org_id: int) -> HttpResponse:
    """Show or hide member rankings for this node's subtree, or (operators) the platform."""
    actor = _actor(request)
    organization = access_organization_as_admin(actor, org_id)
    scope = AdminScope.of(actor)
    switch = rankings.ranking_switch_state(actor, organization)
    target = request.POST.get("target") or request.GET.get("target") or "node"
    form = SwitchForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        platform = form.cleaned_data["target"] == "platform"
        visible = form.cleaned_data["members_visible"]
        try:
            rankings.ranking_setting_update(
                actor=actor,
                organization=None if platform else organization,
                members_visible=visible,
                ip=client_ip_from_request(request),
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(
                request,
                (_("已显示个人积分排行。") if visible else _("已关闭个人积分排行。"))
                + (_("（全平台）") if platform else ""),
            )
            return redirect("console:points_rankings", organization.pk)
    return _render(
        request,
        "points/console_ranking_setting.html",
        {
            "organization": organization,
            "crumbs": _crumbs(scope, organization, "console:points_rankings"),
            "form": form,
            "switch": switch,
            "target": target,
            "can_act": switch.can_set_platform if target == "platform" else switch.can_set_node,
        },
        section="points_rankings",
    )
