"""Administrator console pages (组织与成员, 入组审核, 操作日志, 登录日志) and the join pages.

Views are thin: they fetch through the access layer, call a service and render. A service's
refusal on a form is shown in that form; anywhere else ``DomainErrorPageMiddleware`` turns it
into a Chinese error page with its status (403 for non-administrators, 404 outside the scope).

Every form page can also be shown inside the console's dialog: with ``?dialog=1`` it renders
without the console's frame, and app.js puts it into a ``<dialog>``. The form still posts to
its own page, so everything works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from xuexi.accounts.forms import ServiceForm
from xuexi.accounts.models import LoginResult
from xuexi.core import masking
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import DomainError, NotFound
from xuexi.core.time import now
from xuexi.organizations import services
from xuexi.organizations.access import (
    access_invitation_as_admin,
    access_join_request_as_admin,
    access_login_events_as_admin,
    access_member_as_admin,
    access_organization_as_admin,
    access_organization_by_code_as_admin,
    access_role_grant_as_admin,
)
from xuexi.organizations.console import (
    console_actor,
    console_admin_scope,
    console_back,
    console_organization_as_admin,
    console_page,
    console_render,
)
from xuexi.organizations.forms import (
    ConfirmForm,
    DecisionForm,
    InvitationCreateForm,
    JoinCodeForm,
    MemberAddForm,
    MemberUpdateForm,
    OrganizationCreateForm,
    OrganizationUpdateForm,
    RoleGrantForm,
    TargetForm,
)
from xuexi.organizations.models import (
    CHILD_KINDS,
    MEMBER_KINDS,
    Invitation,
    JoinRequest,
    JoinStatus,
    ManagementLine,
    Organization,
    OrganizationKind,
    Role,
    RoleGrant,
)
from xuexi.organizations.scope import AdminScope
from xuexi.organizations.selectors import (
    audit_entries_in,
    invitation_usable,
    invitations_of,
    join_requests_pending_under,
    members_current,
    membership_current,
    organization_ancestors,
    organization_path_names,
    organizations_search,
    role_grants_under,
)

PAGE_SIZE = 20
TREE_LIMIT = 300  # children shown under one node; beyond that the search box finds them

# 操作日志: a Chinese label for every action code the services write.
ACTION_LABELS: dict[str, Any] = {
    "organization.create": gettext_lazy("新建组织"),
    "organization.update": gettext_lazy("修改组织"),
    "organization.move": gettext_lazy("移动组织"),
    "organization.close": gettext_lazy("关闭组织"),
    "organization.reopen": gettext_lazy("重新开放"),
    "member.add": gettext_lazy("新增成员"),
    "member.update": gettext_lazy("修改成员"),
    "member.transfer": gettext_lazy("组织关系转接"),
    "member.remove": gettext_lazy("移出成员"),
    "role.grant": gettext_lazy("授予角色"),
    "role.revoke": gettext_lazy("撤销角色"),
    "invitation.create": gettext_lazy("生成邀请码"),
    "invitation.disable": gettext_lazy("停用邀请码"),
    "join_request.create": gettext_lazy("申请加入"),
    "join_request.approve": gettext_lazy("通过申请"),
    "join_request.reject": gettext_lazy("拒绝申请"),
    "join_request.withdraw": gettext_lazy("撤回申请"),
    "activity.record": gettext_lazy("记录线下学习活动"),
    "activity.reverse": gettext_lazy("撤销活动积分"),
    "ranking_setting.update": gettext_lazy("修改排行设置"),
    "ruleset.schedule": gettext_lazy("排定积分规则"),
    "ruleset.withdraw": gettext_lazy("撤回积分规则"),
    "roster.import": gettext_lazy("导入名单"),
    "roster.export": gettext_lazy("导出名单"),
}

# Labels of the keys the services put into an entry's before/after; ids are left out.
CHANGE_LABELS: dict[str, Any] = {
    "name": gettext_lazy("名称"),
    "kind": gettext_lazy("类型"),
    "line": gettext_lazy("所属系统"),
    "code": gettext_lazy("编码"),
    "expected_members": gettext_lazy("应注册人数"),
    "is_open": gettext_lazy("开放"),
    "contact_name": gettext_lazy("联系人"),
    "contact_phone": gettext_lazy("联系电话"),
    "parent": gettext_lazy("上级组织"),
    "subtree_size": gettext_lazy("涉及组织数"),
    "closed_nodes": gettext_lazy("关闭组织数"),
    "real_name": gettext_lazy("姓名"),
    "organization": gettext_lazy("所属组织"),
    "registered": gettext_lazy("已注册"),
    "role": gettext_lazy("角色"),
    "status": gettext_lazy("状态"),
    "note": gettext_lazy("说明"),
    "invitation": gettext_lazy("邀请码"),
    "expires_at": gettext_lazy("有效期至"),
    "disabled_at": gettext_lazy("停用时间"),
    "rows": gettext_lazy("行数"),
    "created": gettext_lazy("新增"),
    "updated": gettext_lazy("更新"),
    "unchanged": gettext_lazy("未变"),
    "placed": gettext_lazy("编入"),
    "transferred": gettext_lazy("转接"),
    "file": gettext_lazy("文件"),
}
COUNT_KEYS = frozenset(
    {"rows", "created", "updated", "unchanged", "placed", "transferred", "closed_nodes"}
)
CHANGE_VALUE_LABELS: dict[str, dict[str, Any]] = {
    "kind": dict(OrganizationKind.choices),
    "line": dict(ManagementLine.choices),
    "role": dict(Role.choices),
    "status": dict(JoinStatus.choices),
}


# --- helpers -----------------------------------------------------------------------------------


def _scope_roots(scope: AdminScope) -> list[Organization]:
    """The top nodes of the scope, in tree order."""
    ids = {grant.organization_id for grant in scope.admin_grants if grant.path in scope.root_paths}
    return list(Organization.objects.filter(pk__in=ids).order_by("path"))


def _children(organization: Organization) -> list[Organization]:
    """One level of the tree below ``organization`` (one indexed query, capped)."""
    if not organization.numchild:
        return []
    children = Organization.objects.get_children(organization)
    return list(children[: TREE_LIMIT + 1])


def _ip(request: HttpRequest) -> str:
    return client_ip_from_request(request)


def _try(form: ServiceForm, action: Callable[[], Any]) -> Any:
    """Run a service: its result (``True`` for one that returns nothing), or ``None`` when it
    refused, with the refusal put into ``form``."""
    try:
        result = action()
    except DomainError as error:
        form.add_domain_error(error)
        return None
    return True if result is None else result


def _breadcrumb(scope: AdminScope, organization: Organization) -> list[dict[str, Any]]:
    """The path down to ``organization``; nodes inside the scope are links."""
    nodes = [*organization_ancestors(organization), organization]
    return [{"organization": node, "link": scope.covers(node)} for node in nodes]


def _org_context(scope: AdminScope, organization: Organization) -> dict[str, Any]:
    return {"organization": organization, "crumbs": _breadcrumb(scope, organization)}


def _posted(request: HttpRequest) -> Any:
    """The data a form page's form is bound to: the POST, or none on a GET (unbound)."""
    return request.POST if request.method == "POST" else None


def _org_render(
    request: HttpRequest,
    template: str,
    scope: AdminScope,
    organization: Organization,
    context: dict[str, Any],
) -> HttpResponse:
    """A 组织与成员 page about ``organization``, below its path (breadcrumb)."""
    return console_render(
        request,
        template,
        {**_org_context(scope, organization), **context},
        section="organizations",
    )


# --- 登录日志 ------------------------------------------------------------------------------------


@login_required
def login_log(request: HttpRequest) -> HttpResponse:
    """登录日志: sign-ins of members in the administrator's scope, newest first."""
    # Outside any admin scope this raises Forbidden: DomainErrorPageMiddleware shows the 403 page.
    events = access_login_events_as_admin(console_actor(request)).select_related("user")
    result = request.GET.get("result", "")
    if result in LoginResult.values:
        events = events.filter(result=result)
    page = console_page(request, events.order_by("-at", "-id"), 30)
    return console_render(
        request,
        "organizations/login_log.html",
        {"page": page, "result": result, "results": LoginResult.choices},
        section="login_log",
    )


# --- 组织与成员 ---------------------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """/console/ → the organisation page of the administrator's top node; an editor who is no
    administrator works in 内容管理 only (xuexi.content.console_urls)."""
    scope = AdminScope.of(console_actor(request))
    if not scope.is_admin and any(grant.role == Role.EDITOR for grant in scope.grants):
        return redirect("console:content_items")
    scope.require_admin()
    roots = _scope_roots(scope)
    return redirect("console:organization", roots[0].pk)


@login_required
@require_GET
def organization(request: HttpRequest, org_id: int) -> HttpResponse:
    """The main page: the tree on the left; path, facts, actions and members on the right."""
    _, org, scope = console_organization_as_admin(request, org_id)

    # The tree: the scope's top nodes, opened along the path down to this node only.
    roots = _scope_roots(scope)
    on_path = {node.pk for node in organization_ancestors(org)} | {org.pk}

    def expand(node: Organization) -> None:
        if node.pk in on_path and node.numchild:
            children = _children(node)
            node.tree_children = children[:TREE_LIMIT]
            node.tree_more = len(children) > TREE_LIMIT
            for child in node.tree_children:
                expand(child)

    for root in roots:
        expand(root)

    # The member table.
    level = "self" if request.GET.get("level") == "self" else "all"
    registered_filter = request.GET.get("registered", "")
    if registered_filter not in ("yes", "no"):
        registered_filter = ""
    q = request.GET.get("q", "").strip()[:50]
    members = members_current(
        org,
        include_descendants=level != "self",
        q=q,
        registered={"yes": True, "no": False}.get(registered_filter),
    ).order_by("-started_at", "-id")
    total = members_current(org).count()
    registered = members_current(org, registered=True).count() if total else 0

    return _org_render(
        request,
        "organizations/organization.html",
        scope,
        org,
        {
            "tree_roots": roots,
            "tree_limit": TREE_LIMIT,
            "page": console_page(request, members),
            "filters": {"level": level, "registered": registered_filter, "q": q},
            "filtered": bool(q or registered_filter or level == "self"),
            "counts": {
                "total": total,
                "registered": registered,
                "prelisted": total - registered,
                "rate": round(registered * 100 / org.expected_members)
                if org.expected_members
                else None,
            },
            "can_add_child": org.is_open and bool(CHILD_KINDS.get(org.kind)),
            "can_move": scope.covers_strictly(org),
            "holds_members": org.kind in MEMBER_KINDS,
            "here": request.get_full_path(),
        },
    )


@login_required
@require_GET
def organization_children(request: HttpRequest, org_id: int) -> HttpResponse:
    """The tree fragment of one node's children, fetched when the node is expanded."""
    org = access_organization_as_admin(console_actor(request), org_id)
    children = _children(org)
    return render(
        request,
        "organizations/_tree_nodes.html",
        {
            "nodes": children[:TREE_LIMIT],
            "more": len(children) > TREE_LIMIT,
            "tree_limit": TREE_LIMIT,
            "current_id": None,
        },
    )


@login_required
@require_GET
def organization_search(request: HttpRequest) -> HttpResponse:
    """Nodes inside the scope whose name contains ``q`` or whose code is ``q``."""
    scope = console_admin_scope(request)
    q = request.GET.get("q", "").strip()[:50]
    results = organizations_search(scope.root_paths, q)
    context = {"q": q, "results": results}
    if request.GET.get("partial") == "1":
        return render(request, "organizations/_search_results.html", context)
    return console_render(
        request, "organizations/organization_search.html", context, section="organizations"
    )


@login_required
def organization_create(request: HttpRequest, org_id: int) -> HttpResponse:
    actor, parent, scope = console_organization_as_admin(request, org_id)
    kinds = CHILD_KINDS.get(parent.kind, frozenset())
    form = OrganizationCreateForm(_posted(request), kinds=kinds)
    if form.is_valid():
        data = form.cleaned_data
        child = _try(
            form,
            lambda: services.organization_create(
                actor=actor,
                parent=parent,
                name=data["name"],
                kind=data["kind"],
                line=data["line"] or None,
                expected_members=data["expected_members"],
                code=data["code"] or None,
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                ip=_ip(request),
            ),
        )
        if child is not None:
            messages.success(request, _("已新建组织「%(name)s」。") % {"name": child.name})
            return redirect("console:organization", child.pk)
    return _org_render(
        request,
        "organizations/organization_form.html",
        scope,
        parent,
        {
            "form": form,
            "title": _("新建下级组织"),
            "lead": _("在「%(name)s」之下新建一个组织。") % {"name": parent.name},
            "submit": _("新建"),
            "no_kinds": not kinds,
        },
    )


@login_required
def organization_edit(request: HttpRequest, org_id: int) -> HttpResponse:
    actor, org, scope = console_organization_as_admin(request, org_id)
    form = OrganizationUpdateForm(
        _posted(request),
        initial={
            "name": org.name,
            "line": org.line,
            "expected_members": org.expected_members,
            "contact_name": org.contact_name,
            "contact_phone": org.contact_phone,
        },
    )
    if form.is_valid():
        data = form.cleaned_data
        updated = _try(
            form,
            lambda: services.organization_update(
                actor=actor,
                organization=org,
                name=data["name"],
                expected_members=data["expected_members"] or 0,
                line=data["line"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                ip=_ip(request),
            ),
        )
        if updated is not None:
            messages.success(request, _("已保存「%(name)s」的信息。") % {"name": updated.name})
            return redirect("console:organization", org.pk)
    return _org_render(
        request,
        "organizations/organization_form.html",
        scope,
        org,
        {
            "form": form,
            "title": _("编辑组织"),
            "lead": _("组织类型和编码不能修改；调整上级请使用“移动”。"),
            "submit": _("保存"),
        },
    )


@login_required
def organization_move(request: HttpRequest, org_id: int) -> HttpResponse:
    actor, org, scope = console_organization_as_admin(request, org_id)
    form = TargetForm(_posted(request))
    if form.is_valid():
        code = form.cleaned_data["target"]

        def move() -> Organization:
            target = access_organization_by_code_as_admin(actor, code)
            services.organization_move(
                actor=actor, organization=org, new_parent=target, ip=_ip(request)
            )
            return target

        target = _try(form, move)
        if target is not None:
            messages.success(
                request,
                _("已将「%(name)s」移到「%(parent)s」之下。")
                % {"name": org.name, "parent": target.name},
            )
            return redirect("console:organization", org.pk)
    q = request.GET.get("q", "").strip()[:50]
    return _org_render(
        request,
        "organizations/target_form.html",
        scope,
        org,
        {
            "form": form,
            "title": _("移动组织"),
            "lead": _(
                "把「%(name)s」连同其全部下级组织和成员移到新的上级组织之下。"
                "新上级须在您的管理范围内，且能设立此类组织。"
            )
            % {"name": org.name},
            "submit": _("移动"),
            "pick": _("移到此处"),
            "q": q,
            "results": [r for r in organizations_search(scope.root_paths, q) if r.pk != org.pk],
            "allowed_kinds": {
                kind for kind, children in CHILD_KINDS.items() if org.kind in children
            },
            "can_act": scope.covers_strictly(org),
            "refusal": _("您不能移动自己所管理的最高一级组织，请联系上级管理员。"),
        },
    )


def _open_close(request: HttpRequest, org_id: int, *, close: bool) -> HttpResponse:
    actor, org, scope = console_organization_as_admin(request, org_id)
    form = ConfirmForm(_posted(request))
    if form.is_valid():
        service = services.organization_close if close else services.organization_reopen
        done = _try(form, lambda: service(actor=actor, organization=org, ip=_ip(request)))
        if done is not None:
            text = _("已关闭「%(name)s」。") if close else _("已重新开放「%(name)s」。")
            messages.success(request, text % {"name": org.name})
            return redirect("console:organization", org.pk)
    return _org_render(
        request,
        "organizations/organization_confirm.html",
        scope,
        org,
        {
            "form": form,
            "close": close,
            "members": members_current(org).count() if close else 0,
            "descendants": Organization.objects.get_descendant_count(org) if close else 0,
            "can_act": scope.covers_strictly(org) if close else True,
        },
    )


@login_required
def organization_close(request: HttpRequest, org_id: int) -> HttpResponse:
    return _open_close(request, org_id, close=True)


@login_required
def organization_reopen(request: HttpRequest, org_id: int) -> HttpResponse:
    return _open_close(request, org_id, close=False)


# --- members ---------------------------------------------------------------------------------


@login_required
def member_add(request: HttpRequest, org_id: int) -> HttpResponse:
    actor, org, scope = console_organization_as_admin(request, org_id)
    form = MemberAddForm(_posted(request))
    if form.is_valid():
        data = form.cleaned_data
        membership = _try(
            form,
            lambda: services.member_add(
                actor=actor,
                organization=org,
                phone=data["phone"],
                real_name=data["real_name"],
                ip=_ip(request),
            ),
        )
        if membership is not None:
            if membership.user.registered_at is None:
                text = _("已将「%(name)s」加入本组织（未注册，本人注册后即可登录）。")
            else:
                text = _("已将「%(name)s」加入本组织。")
            messages.success(request, text % {"name": membership.user.real_name})
            return redirect("console:organization", org.pk)
    return _org_render(
        request,
        "organizations/member_form.html",
        scope,
        org,
        {
            "form": form,
            "title": _("新增成员"),
            "lead": _(
                "填写姓名和手机号即可加入「%(name)s」。尚未注册的手机号会先登记为未注册成员，"
                "本人用该手机号注册后自动归入本组织。"
            )
            % {"name": org.name},
            "submit": _("加入"),
            "can_act": org.kind in MEMBER_KINDS and org.is_open,
            "refusal": _("成员只能编入开放中的党支部或学习小组，请在树中选择一个支部。"),
        },
    )


@login_required
def member_edit(request: HttpRequest, org_id: int, user_id: int) -> HttpResponse:
    actor, org, scope = console_organization_as_admin(request, org_id)
    membership = access_member_as_admin(actor, org, user_id)
    form = MemberUpdateForm(
        _posted(request),
        initial={"real_name": membership.user.real_name},
    )
    if form.is_valid():
        done = _try(
            form,
            lambda: services.member_update(
                actor=actor,
                membership=membership,
                real_name=form.cleaned_data["real_name"],
                ip=_ip(request),
            ),
        )
        if done is not None:
            messages.success(request, _("已保存成员信息。"))
            return redirect(console_back(request, reverse("console:organization", args=[org.pk])))
    return _org_render(
        request,
        "organizations/member_form.html",
        scope,
        org,
        {
            "form": form,
            "membership": membership,
            "title": _("编辑成员"),
            "lead": _("更正成员的真实姓名。手机号由本人在账号中修改。"),
            "submit": _("保存"),
            "can_act": True,
            "next": console_back(request, ""),
        },
    )


@login_required
def member_transfer(request: HttpRequest, org_id: int, user_id: int) -> HttpResponse:
    actor, org, scope = console_organization_as_admin(request, org_id)
    membership = access_member_as_admin(actor, org, user_id)
    form = TargetForm(_posted(request))
    if form.is_valid():
        code = form.cleaned_data["target"]

        def transfer() -> Any:
            target = access_organization_by_code_as_admin(actor, code)
            return services.member_transfer(
                actor=actor, membership=membership, target=target, ip=_ip(request)
            )

        moved = _try(form, transfer)
        if moved is not None:
            messages.success(
                request,
                _("已将「%(name)s」的组织关系转接到「%(target)s」。")
                % {"name": membership.user.real_name, "target": moved.organization.name},
            )
            return redirect(console_back(request, reverse("console:organization", args=[org.pk])))
    q = request.GET.get("q", "").strip()[:50]
    return _org_render(
        request,
        "organizations/target_form.html",
        scope,
        org,
        {
            "form": form,
            "membership": membership,
            "title": _("组织关系转接"),
            "lead": _(
                "把「%(name)s」从「%(current)s」转接到另一个党支部或学习小组。"
                "原组织关系会结束并保留在记录中。"
            )
            % {"name": membership.user.real_name, "current": membership.organization.name},
            "submit": _("转接"),
            "pick": _("转接到此"),
            "q": q,
            "results": [
                r
                for r in organizations_search(scope.root_paths, q)
                if r.pk != membership.organization_id
            ],
            "allowed_kinds": set(MEMBER_KINDS),
            "can_act": True,
            "next": console_back(request, ""),
        },
    )


@login_required
def member_remove(request: HttpRequest, org_id: int, user_id: int) -> HttpResponse:
    actor, org, scope = console_organization_as_admin(request, org_id)
    membership = access_member_as_admin(actor, org, user_id)
    form = ConfirmForm(_posted(request))
    if form.is_valid():
        done = _try(
            form,
            lambda: services.member_remove(actor=actor, membership=membership, ip=_ip(request)),
        )
        if done is not None:
            messages.success(
                request,
                _("已将「%(name)s」移出「%(org)s」。")
                % {"name": membership.user.real_name, "org": membership.organization.name},
            )
            return redirect(console_back(request, reverse("console:organization", args=[org.pk])))
    return _org_render(
        request,
        "organizations/member_remove.html",
        scope,
        org,
        {
            "form": form,
            "membership": membership,
            "next": console_back(request, ""),
        },
    )


# --- 角色与管理员 -------------------------------------------------------------------------


@login_required
@require_GET
def roles(request: HttpRequest, org_id: int) -> HttpResponse:
    """Role grants on this node and every node below it."""
    _, org, scope = console_organization_as_admin(request, org_id)
    page = console_page(request, role_grants_under(org))
    for grant in page:
        grant.can_revoke = scope.can_appoint_on(grant.organization, grant.role)
    return _org_render(
        request,
        "organizations/roles.html",
        scope,
        org,
        {
            "page": page,
            "can_grant": any(scope.can_appoint_on(org, role) for role in Role.values),
            "here": request.get_full_path(),
        },
    )


@login_required
def role_grant(request: HttpRequest, org_id: int) -> HttpResponse:
    actor, org, scope = console_organization_as_admin(request, org_id)
    appointable = [role for role in Role.values if scope.can_appoint_on(org, role)]
    form = RoleGrantForm(_posted(request), roles=appointable)
    if form.is_valid():
        data = form.cleaned_data

        def grant() -> RoleGrant:
            membership = members_current(org).filter(user__phone=data["phone"].strip()).first()
            if membership is None:
                raise NotFound(_("找不到该成员，或他不在您的管理范围内。"))
            return services.role_grant_as(
                actor=actor,
                user=membership.user,
                organization=org,
                role=data["role"],
                ip=_ip(request),
            )

        granted = _try(form, grant)
        if granted is not None:
            messages.success(
                request,
                _("已任命「%(name)s」为「%(org)s」的%(role)s。")
                % {
                    "name": granted.user.real_name,
                    "org": org.name,
                    "role": granted.get_role_display(),
                },
            )
            return redirect("console:roles", org.pk)
    return _org_render(
        request,
        "organizations/role_form.html",
        scope,
        org,
        {
            "form": form,
            "can_act": bool(appointable),
        },
    )


@login_required
def role_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    actor = console_actor(request)
    grant = access_role_grant_as_admin(actor, grant_id)
    scope = AdminScope.of(actor)
    form = ConfirmForm(_posted(request))
    default = reverse("console:roles", args=[grant.organization_id])
    if form.is_valid():
        done = _try(
            form, lambda: services.role_revoke_as(actor=actor, grant=grant, ip=_ip(request))
        )
        if done is not None:
            messages.success(
                request,
                _("已撤销「%(name)s」在「%(org)s」的%(role)s角色。")
                % {
                    "name": grant.user.real_name,
                    "org": grant.organization.name,
                    "role": grant.get_role_display(),
                },
            )
            return redirect(console_back(request, default))
    return _org_render(
        request,
        "organizations/role_revoke.html",
        scope,
        grant.organization,
        {
            "form": form,
            "grant": grant,
            "can_act": scope.can_appoint_on(grant.organization, grant.role),
            "next": console_back(request, ""),
            "cancel": console_back(request, default),
        },
    )


# --- 邀请码 ------------------------------------------------------------------------------------


def _invitation_state(invitation: Invitation, at: dt.datetime) -> str:
    if invitation.disabled_at is not None:
        return "disabled"
    if invitation.expires_at is not None and invitation.expires_at <= at:
        return "expired"
    return "active"


@login_required
@require_GET
def invitations(request: HttpRequest, org_id: int) -> HttpResponse:
    _, org, scope = console_organization_as_admin(request, org_id)
    page = console_page(request, invitations_of(org))
    at = now()
    for invitation in page:
        invitation.state = _invitation_state(invitation, at)
    return _org_render(
        request,
        "organizations/invitations.html",
        scope,
        org,
        {
            "page": page,
            "can_create": org.kind in MEMBER_KINDS and org.is_open,
        },
    )


@login_required
def invitation_create(request: HttpRequest, org_id: int) -> HttpResponse:
    actor, org, scope = console_organization_as_admin(request, org_id)
    form = InvitationCreateForm(_posted(request))
    if form.is_valid():
        days = form.cleaned_data["valid_days"] or None
        invitation = _try(
            form,
            lambda: services.invitation_create(
                actor=actor, organization=org, valid_days=days, ip=_ip(request)
            ),
        )
        if invitation is not None:
            messages.success(request, _("已生成邀请码 %(code)s。") % {"code": invitation.code})
            return redirect("console:invitations", org.pk)
    return _org_render(
        request,
        "organizations/invitation_form.html",
        scope,
        org,
        {
            "form": form,
            "can_act": org.kind in MEMBER_KINDS and org.is_open,
        },
    )


@login_required
def invitation_disable(request: HttpRequest, invitation_id: int) -> HttpResponse:
    actor = console_actor(request)
    invitation = access_invitation_as_admin(actor, invitation_id)
    scope = AdminScope.of(actor)
    form = ConfirmForm(_posted(request))
    if form.is_valid():
        done = _try(
            form,
            lambda: services.invitation_disable(
                actor=actor, invitation=invitation, ip=_ip(request)
            ),
        )
        if done is not None:
            messages.success(request, _("已停用邀请码 %(code)s。") % {"code": invitation.code})
            return redirect("console:invitations", invitation.organization_id)
    return _org_render(
        request,
        "organizations/invitation_disable.html",
        scope,
        invitation.organization,
        {
            "form": form,
            "invitation": invitation,
        },
    )


@login_required
@require_GET
def invitation_print(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """A printable sheet: the organisation, the QR code of its join page and the code."""
    invitation = access_invitation_as_admin(console_actor(request), invitation_id)
    url = request.build_absolute_uri(reverse("join:code", args=[invitation.code]))
    # segno writes only <svg>/<path> markup from the matrix: nothing from the request is echoed.
    svg = segno.make(url, error="m").svg_inline(scale=6, dark="#1f1f1f", light="#ffffff")
    return render(
        request,
        "organizations/invitation_print.html",
        {
            "invitation": invitation,
            "path_names": organization_path_names(invitation.organization),
            "qr_svg": mark_safe(svg),  # noqa: S308 — generated markup, see above
            "join_url": url,
            "usable": invitation.is_usable(now()),
        },
    )


# --- 入组审核 ------------------------------------------------------------------------------------


@login_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    scope = console_admin_scope(request)
    pending = join_requests_pending_under(scope.root_paths).order_by("-created_at", "-id")
    return console_render(
        request,
        "organizations/approvals.html",
        {"page": console_page(request, pending)},
        section="approvals",
    )


def _decide(request: HttpRequest, request_id: int, *, approve: bool) -> HttpResponse:
    actor = console_actor(request)
    join_request = access_join_request_as_admin(actor, request_id)
    form = DecisionForm(_posted(request))
    if form.is_valid():
        decided = _try(
            form,
            lambda: services.join_request_decide(
                actor=actor,
                join_request=join_request,
                approve=approve,
                note=form.cleaned_data["note"],
                ip=_ip(request),
            ),
        )
        if decided is not None:
            text = (
                _("已通过「%(name)s」加入「%(org)s」的申请。")
                if approve
                else _("已拒绝「%(name)s」加入「%(org)s」的申请。")
            )
            messages.success(
                request,
                text % {"name": join_request.user.real_name, "org": join_request.organization.name},
            )
            return redirect("console:approvals")
    current = membership_current(join_request.user)
    return console_render(
        request,
        "organizations/approval_decide.html",
        {
            "form": form,
            "join_request": join_request,
            "approve": approve,
            "path_names": organization_path_names(join_request.organization),
            "current": current,
            "pending": join_request.status == JoinStatus.PENDING,
        },
        section="approvals",
    )


@login_required
def approval_approve(request: HttpRequest, request_id: int) -> HttpResponse:
    return _decide(request, request_id, approve=True)


@login_required
def approval_reject(request: HttpRequest, request_id: int) -> HttpResponse:
    return _decide(request, request_id, approve=False)


# --- 操作日志 ------------------------------------------------------------------------------------


def _shown(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if key in CHANGE_VALUE_LABELS:
        return str(CHANGE_VALUE_LABELS[key].get(value, value))
    if "phone" in key:
        return masking.mask_phone(str(value))
    if isinstance(value, str) and key.endswith("_at"):
        parsed = parse_datetime(value)
        if parsed is not None:
            return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _changes(before: Any, after: Any) -> list[dict[str, str]]:
    """Compact before → after rows of an audit entry, with Chinese labels; ids left out."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    rows = []
    for key in dict.fromkeys([*before, *after]):
        if key not in CHANGE_LABELS:
            continue
        if key in before and key in after and before[key] == after[key]:
            continue  # unchanged context (a transfer repeats the name): the target says it
        if key in COUNT_KEYS and not (before.get(key) or after.get(key)):
            continue  # "更新：0" says nothing
        rows.append(
            {
                "label": str(CHANGE_LABELS[key]),
                "before": _shown(key, before[key]) if key in before else "",
                "after": _shown(key, after[key]) if key in after else "",
            }
        )
    return rows


@login_required
@require_GET
def audit_index(request: HttpRequest) -> HttpResponse:
    roots = _scope_roots(console_admin_scope(request))
    return redirect("console:audit", roots[0].pk)


@login_required
@require_GET
def audit(request: HttpRequest, org_id: int) -> HttpResponse:
    """操作日志 of a subtree: read-only, newest first, filterable by action."""
    _, org, scope = console_organization_as_admin(request, org_id)
    entries = audit_entries_in(org)
    action = request.GET.get("action", "")
    if action in ACTION_LABELS:
        entries = entries.filter(action=action)
    else:
        action = ""
    page = console_page(request, entries)
    for entry in page:
        entry.action_label = ACTION_LABELS.get(entry.action, entry.action)
        entry.changes = _changes(entry.before, entry.after)
    return console_render(
        request,
        "organizations/audit.html",
        {
            **_org_context(scope, org),
            "page": page,
            "action": action,
            "actions": [(code, str(label)) for code, label in ACTION_LABELS.items()],
        },
        section="audit",
    )


# --- the member's side: joining by invitation ------------------------------------------------


@login_required
def join_start(request: HttpRequest) -> HttpResponse:
    """加入组织: the member types the invitation code he was given."""
    form = JoinCodeForm(_posted(request))
    if form.is_valid():
        code = form.cleaned_data["code"]
        if code.isalnum() and code.isascii():
            return redirect("join:code", code)
        form.add_error("code", _("邀请码由字母和数字组成，请检查后重新输入。"))
    return render(request, "organizations/join_start.html", {"form": form})


@login_required
def join_code(request: HttpRequest, code: str) -> HttpResponse:
    """The page the QR code opens: which organisation, and a 申请加入 button."""
    user = console_actor(request)
    invitation = invitation_usable(code)
    if invitation is None:
        form = JoinCodeForm({"code": code.upper()[:12]})
        form.is_valid()
        form.add_error(None, _("邀请码无效或已过期，请向管理员索取新的邀请码。"))
        return render(request, "organizations/join_start.html", {"form": form}, status=404)
    confirm = ConfirmForm(_posted(request))
    if request.method == "POST" and confirm.is_valid():
        created = _try(
            confirm,
            lambda: services.join_request_create(user=user, code=invitation.code, ip=_ip(request)),
        )
        if created is not None:
            messages.success(
                request,
                _("已申请加入「%(name)s」，请等待管理员审核。")
                % {"name": invitation.organization.name},
            )
            return redirect("web:me")
    current = membership_current(user)
    return render(
        request,
        "organizations/join_code.html",
        {
            "form": confirm,
            "invitation": invitation,
            "path_names": organization_path_names(invitation.organization),
            "current": current,
            "already_member": current is not None
            and current.organization_id == invitation.organization_id,
        },
    )


@login_required
@require_POST
def join_withdraw(request: HttpRequest, request_id: int) -> HttpResponse:
    join_request = get_object_or_404(JoinRequest, pk=request_id, user=console_actor(request))
    try:
        services.join_request_withdraw(
            user=console_actor(request),
            join_request=join_request,
            ip=client_ip_from_request(request),
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("已撤回入组申请。"))
    return redirect("web:me")
