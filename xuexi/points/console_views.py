"""Console pages for points: offline activities (积分与活动) and rankings (积分排行).

Thin, like the other console pages: every view fetches through the access layer, calls a
service or selector and renders. A non-administrator gets 403 and a node or activity outside
the scope 404, both as Chinese pages (``DomainErrorPageMiddleware``). Form pages also render
inside the console's dialog (``?dialog=1``).

The activity form picks attendees without JavaScript: searching and paging the member list are
submit buttons of the same form (``go``), so the title, date and the members already chosen
survive them; only ``go=record`` records.

积分规则 (rule sets) are platform-wide: every administrator reads them; only platform operators
(``services.user_can_edit_rulesets``) schedule a new set from a future date or withdraw one not
yet in force. The editor itself (table + JSON, merged) lives in ``xuexi.points.forms``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.validators import MaxValueValidator
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from xuexi.accounts.forms import ServiceForm
from xuexi.accounts.models import User
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from xuexi.core.text import enumeration
from xuexi.core.time import business_day
from xuexi.organizations.console import (
    console_actor,
    console_admin_scope,
    console_organization_as_admin,
    console_page,
    console_render,
)
from xuexi.organizations.models import Organization
from xuexi.organizations.scope import AdminScope
from xuexi.organizations.selectors import members_current, organization_ancestors
from xuexi.points import activities, rankings, scoring, services
from xuexi.points import forms as ruleset_forms
from xuexi.points.models import ActivityAttendee, ActivityKind, RuleSet
from xuexi.points.selectors import ruleset_spec

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
    return redirect("console:points_activities", _top_node(console_admin_scope(request)).pk)


@login_required
@require_GET
def activity_list(request: HttpRequest, org_id: int) -> HttpResponse:
    _, organization, scope = console_organization_as_admin(request, org_id)
    page = console_page(request, activities.activities_in(organization), PAGE_SIZE)
    return console_render(
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
    actor, organization, scope = console_organization_as_admin(request, org_id)
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
            # Who hit the day's cap: the activity page says it (permanently), not a flash.
            return redirect("console:points_activity", activity.pk)

    # The chosen members: names for the summary; those off this page ride along as hidden inputs.
    chosen_members = list(
        members_current(organization)
        .filter(user_id__in=chosen)
        .order_by("user__real_name", "user_id")[: activities.MAX_ATTENDEES]
    )
    chosen = [m.user_id for m in chosen_members]
    on_page = {m.user_id for m in pick.object_list}
    return console_render(
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
    actor = console_actor(request)
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
    return console_render(
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
    actor = console_actor(request)
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
    return console_render(
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
    return redirect("console:points_rankings", _top_node(console_admin_scope(request)).pk)


@login_required
@require_GET
def ranking_page(request: HttpRequest, org_id: int) -> HttpResponse:
    actor, organization, scope = console_organization_as_admin(request, org_id)
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
    return console_render(
        request, "points/console_rankings.html", context, section="points_rankings"
    )


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
    actor, organization, scope = console_organization_as_admin(request, org_id)
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
    return console_render(
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


# --- 积分规则 ----------------------------------------------------------------------------------

RULESET_STATUS = {
    "in_force": gettext_lazy("当前生效"),
    "scheduled": gettext_lazy("待生效"),
    "superseded": pgettext_lazy("rule set state", "已停用"),
}
WEEKDAYS = {
    1: gettext_lazy("周一"),
    2: gettext_lazy("周二"),
    3: gettext_lazy("周三"),
    4: gettext_lazy("周四"),
    5: gettext_lazy("周五"),
    6: gettext_lazy("周六"),
    7: gettext_lazy("周日"),
}
# What a rule's "unit" is, for reading the table in Chinese (the producers' contract in
# docs/points-rules.md): minutes for the time rules, right answers for the quizzes.
MINUTE_RULES = frozenset({"article_time", "video_time", "chosen_reading", "watch_listen"})
ANSWER_RULES = frozenset({"daily_quiz", "weekly_quiz", "special_quiz", "challenge_quiz"})


@dataclass(frozen=True)
class RuleSetRow:
    ruleset: RuleSet
    status: str
    status_label: str
    daily_max: int | None  # None: the stored data no longer parses (shown as such)
    rule_count: int
    withdrawable: bool


@dataclass(frozen=True)
class RuleRow:
    """One rule of a set, each column already in Chinese."""

    code: str
    title: str
    points: str
    unit: str
    daily_cap: str
    weekly_cap: str
    cap_group: str
    weekdays: str
    multipliers: list[str]
    special: list[str] = field(default_factory=list)
    outside_max: bool = False


def _spec_of(ruleset: RuleSet) -> scoring.RuleSetSpec | None:
    try:
        return ruleset_spec(ruleset)
    except scoring.RuleSetInvalid:
        return None


def _in_force_id(today: dt.date) -> int | None:
    return (
        RuleSet.objects.filter(effective_from__lte=today)
        .order_by("-effective_from")
        .values_list("pk", flat=True)
        .first()
    )


def _ruleset_row(ruleset: RuleSet, *, today: dt.date, in_force_id: int | None) -> RuleSetRow:
    if ruleset.effective_from > today:
        status = "scheduled"
    elif ruleset.pk == in_force_id:
        status = "in_force"
    else:
        status = "superseded"
    spec = _spec_of(ruleset)
    return RuleSetRow(
        ruleset=ruleset,
        status=status,
        status_label=str(RULESET_STATUS[status]),
        daily_max=spec.daily_max() if spec else None,
        rule_count=len(spec.rules) if spec else len(ruleset.data.get("rules") or []),
        withdrawable=services.ruleset_withdrawable(ruleset, today=today),
    )


def _outcomes(table: dict[str, int]) -> str:
    return enumeration(
        _("%(outcome)s %(points)s 分")
        % {"outcome": ruleset_forms.OUTCOME_LABELS.get(key, key), "points": value}
        for key, value in table.items()
    )


def _unit_text(rule: scoring.RuleSpec) -> str:
    if not rule.unit_points:
        return ""
    values = {"size": rule.unit_size, "points": rule.unit_points}
    if rule.code in MINUTE_RULES:
        if rule.unit_size == 1:
            return _("每分钟 %(points)s 分") % values
        return _("每 %(size)s 分钟 %(points)s 分") % values
    if rule.code in ANSWER_RULES:
        return _("每答对 %(size)s 道 %(points)s 分") % values
    if rule.unit_size == 1:
        return _("每单位 %(points)s 分") % values
    return _("每 %(size)s 单位 %(points)s 分") % values


def _rule_row(spec: scoring.RuleSetSpec, rule: scoring.RuleSpec) -> RuleRow:
    special: list[str] = []
    if rule.first_n is not None:
        special.append(_("每日仅前 %(n)s 次计分") % {"n": rule.first_n})
    for index, table in sorted(rule.by_index.items()):
        special.append(
            _("第 %(index)s 次：%(outcomes)s") % {"index": index, "outcomes": _outcomes(table)}
        )
    if rule.by_outcome:
        special.append(_("按结果：%(outcomes)s") % {"outcomes": _outcomes(rule.by_outcome)})
    if rule.by_threshold:
        noun = _("道") if rule.code in ANSWER_RULES else pgettext("unit of measure", "单位")
        special.append(
            _("按门槛：%(steps)s")
            % {
                "steps": enumeration(
                    _("≥%(least)s %(noun)s %(points)s 分")
                    % {"least": least, "noun": noun, "points": points}
                    for least, points in rule.by_threshold
                )
            }
        )
    cap_group = ""
    if rule.cap_group:
        cap_group = _("%(group)s（共 %(cap)s 分）") % {
            "group": rule.cap_group,
            "cap": spec.caps.get(rule.cap_group, "?"),
        }
    return RuleRow(
        code=rule.code,
        title=rule.title,
        points=_("%(points)s 分") % {"points": rule.points} if rule.points else "",
        unit=_unit_text(rule),
        daily_cap=str(rule.daily_cap) if rule.daily_cap and not rule.cap_group else "",
        weekly_cap=str(rule.weekly_cap or ""),
        cap_group=cap_group,
        weekdays=enumeration(str(WEEKDAYS[d]) for d in sorted(rule.weekdays))
        if rule.weekdays
        else "",
        multipliers=[
            f"{m.start:%H:%M}–{m.end:%H:%M} ×{m.factor}"
            for m in sorted(rule.multipliers, key=lambda m: m.start)
        ],
        special=special,
        outside_max=rule.code in scoring.OUTSIDE_DAILY_MAX,
    )


def _ruleset_or_404(ruleset_id: int | str | None) -> RuleSet:
    key = str(ruleset_id or "")
    found = (
        RuleSet.objects.select_related("created_by").filter(pk=int(key)).first()
        if key.isdigit()
        else None
    )
    if found is None:
        raise NotFound(_("找不到该积分规则，可能已被撤回。"))
    return found


def _ruleset_editor(request: HttpRequest) -> User:
    """The operator asking; ``Forbidden`` (403) for anyone else, administrators included."""
    console_admin_scope(request)
    actor = console_actor(request)
    if not services.user_can_edit_rulesets(actor):
        raise Forbidden(_("只有平台运营人员可以修改积分规则。"))
    return actor


@login_required
@require_GET
def ruleset_list(request: HttpRequest) -> HttpResponse:
    """Every rule set, newest effective date first, with its status and daily maximum."""
    console_admin_scope(request)
    today = business_day()
    in_force_id = _in_force_id(today)
    rows = [
        _ruleset_row(ruleset, today=today, in_force_id=in_force_id)
        for ruleset in RuleSet.objects.select_related("created_by").order_by("-effective_from")
    ]
    return console_render(
        request,
        "points/console_rulesets.html",
        {
            "rows": rows,
            "today": today,
            "in_force": next((row for row in rows if row.status == "in_force"), None),
            "scheduled": sum(1 for row in rows if row.status == "scheduled"),
            "can_edit": services.user_can_edit_rulesets(console_actor(request)),
        },
        section="points_rulesets",
    )


@login_required
@require_GET
def ruleset_detail(request: HttpRequest, ruleset_id: int) -> HttpResponse:
    console_admin_scope(request)
    ruleset = _ruleset_or_404(ruleset_id)
    today = business_day()
    row = _ruleset_row(ruleset, today=today, in_force_id=_in_force_id(today))
    spec = _spec_of(ruleset)
    return console_render(
        request,
        "points/console_ruleset.html",
        {
            "ruleset": ruleset,
            "row": row,
            "spec": spec,
            "rules": [_rule_row(spec, rule) for rule in spec.rules.values()] if spec else [],
            "caps": sorted(spec.caps.items()) if spec else [],
            "text": ruleset_forms.data_json(ruleset_forms.editable_data(ruleset.data)),
            "can_edit": services.user_can_edit_rulesets(console_actor(request)),
        },
        section="points_rulesets",
    )


def _ruleset_source(value: str | None, today: dt.date, *, strict: bool) -> RuleSet | None:
    """The set a new one starts from: ``?from=<id>`` (404 if unknown when ``strict``; a
    submitted form whose source was withdrawn meanwhile keeps its edits), else the one in
    force, else the latest."""
    if value:
        if strict:
            return _ruleset_or_404(value)
        return RuleSet.objects.filter(pk=int(value)).first() if value.isdigit() else None
    in_force_id = _in_force_id(today)
    if in_force_id is not None:
        return RuleSet.objects.get(pk=in_force_id)
    return RuleSet.objects.order_by("-effective_from").first()


def _editor_forms(
    data: dict[str, Any], head: ruleset_forms.RuleSetHeadForm | None = None
) -> dict[str, Any]:
    """Unbound editor forms filled from ``data`` (the reference of the next merge)."""
    base = ruleset_forms.editable_data(data)
    return {
        "head": head or ruleset_forms.RuleSetHeadForm(),
        "text_form": ruleset_forms.RuleSetTextForm(
            initial={
                "rules": ruleset_forms.data_json(base),
                "base": json.dumps(base, ensure_ascii=False),
            }
        ),
        "rows": ruleset_forms.RuleRowFormSet(
            initial=ruleset_forms.row_initial(base), prefix="rule"
        ),
    }


@login_required
@require_http_methods(["GET", "POST"])
def ruleset_create(request: HttpRequest) -> HttpResponse:
    """Schedule a new rule set from a future date (operators). ``go=check`` checks and
    re-fills the editor; ``go=save`` (the default) also saves, with its audit entry."""
    actor = _ruleset_editor(request)
    today = business_day()
    posted = request.method == "POST"
    source = _ruleset_source(
        (request.POST if posted else request.GET).get("from"), today, strict=not posted
    )
    preview: ruleset_forms.Draft | None = None
    if not posted:
        editor = _editor_forms(source.data if source else {})
    else:
        go = request.POST.get("go", "save")
        head = ruleset_forms.RuleSetHeadForm(request.POST)
        text_form = ruleset_forms.RuleSetTextForm(request.POST)
        rows = ruleset_forms.RuleRowFormSet(request.POST, prefix="rule")
        head_ok = go == "save" and head.is_valid()
        fields = head.cleaned_data if head_ok else {}
        draft = ruleset_forms.build(
            text_form=text_form,
            rows=rows,
            code=fields.get("code") or "draft",
            title=fields.get("title") or "draft",
            effective_from=fields.get("effective_from") or today + dt.timedelta(days=1),
            note=fields.get("note") or "",
        )
        if go != "save":  # a check judges only the rules: the head stays as typed
            head = ruleset_forms.RuleSetHeadForm(
                initial={name: request.POST.get(name, "") for name in head.fields}
            )
        if draft is not None and head_ok:
            try:
                ruleset = services.ruleset_schedule(
                    actor=actor,
                    data=draft.data,
                    effective_from=fields["effective_from"],
                    note=fields.get("note") or "",
                    source=source,
                    ip=client_ip_from_request(request),
                )
            except ValidationFailed as error:
                problem = error.details.get("fields", {}).pop("rules", None)
                if problem is not None:
                    explained = ruleset_forms.explain(problem, set_code=fields["code"])
                    text_form.add_error("rules", explained.full)
                head.add_domain_error(error)
            except IntegrityError:  # a racing request took the code or the date first
                head.add_error(None, _("编号或生效日期刚被占用，请检查后重试。"))
            else:
                messages.success(
                    request,
                    _("已排定「%(title)s」，自 %(day)s 起生效，每日最高 %(max)s 分。")
                    % {
                        "title": ruleset.title,
                        "day": ruleset.effective_from.isoformat(),
                        "max": draft.spec.daily_max(),
                    },
                )
                return redirect("console:points_ruleset", ruleset.pk)
            editor = {"head": head, "text_form": text_form, "rows": rows}
        elif draft is not None and go == "check":
            preview = draft
            editor = _editor_forms(draft.data, head=head)
        else:
            editor = {"head": head, "text_form": text_form, "rows": rows}
    source_spec = _spec_of(source) if source else None
    source_max = source_spec.daily_max() if source_spec else None
    preview_max = preview.spec.daily_max() if preview else None
    change = (
        preview_max - source_max if preview_max is not None and source_max is not None else None
    )
    text_field = editor["text_form"]["rules"]
    lines = str(text_field.value() or "").count("\n") + 2
    text_field.field.widget.attrs["rows"] = str(min(max(lines, 12), 40))
    return console_render(
        request,
        "points/console_ruleset_form.html",
        {
            **editor,
            "source": source,
            "source_max": source_max,
            "preview": preview,
            "preview_max": preview_max,
            "preview_change": change,  # against the source set's daily maximum
            "preview_delta": abs(change) if change is not None else None,
            "table_errors": _table_errors(editor["rows"]),
            "rulesets": list(RuleSet.objects.order_by("-effective_from")),
            "rule_codes": sorted(scoring.RULE_CODES),
        },
        section="points_rulesets",
    )


def _table_errors(rows: Any) -> list[str]:
    """The table's errors as one line each, for the summary above the form: on a phone the
    cell holding the error may be scrolled out of sight."""
    if not rows.is_bound:
        return []
    lines = [str(error) for error in rows.non_form_errors()]
    for row in rows.forms:
        for name, errors in row.errors.items():
            where = row.rule_name if name == "__all__" else f"{row.rule_name} · {row[name].label}"
            lines += [f"{where}：{error}" for error in errors]
    return lines


@login_required
@require_http_methods(["GET", "POST"])
def ruleset_withdraw(request: HttpRequest, ruleset_id: int) -> HttpResponse:
    """Withdraw (delete) a scheduled set before its date: confirmation, then the service."""
    actor = _ruleset_editor(request)
    ruleset = _ruleset_or_404(ruleset_id)
    today = business_day()
    form = ServiceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ruleset_withdraw(
                actor=actor, ruleset=ruleset, ip=client_ip_from_request(request)
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(
                request,
                _("已撤回「%(title)s」（原定 %(day)s 生效）。")
                % {"title": ruleset.title, "day": ruleset.effective_from.isoformat()},
            )
            return redirect("console:points_rulesets")
    return console_render(
        request,
        "points/console_ruleset_withdraw.html",
        {
            "ruleset": ruleset,
            "row": _ruleset_row(ruleset, today=today, in_force_id=_in_force_id(today)),
            "form": form,
            "crumbs": [
                {"name": ruleset.title, "url": reverse("console:points_ruleset", args=[ruleset.pk])}
            ],
        },
        section="points_rulesets",
    )
