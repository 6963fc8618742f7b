"""Organisation routes of API.md: the tree, members, administrators, audit log; and joining.

Thin: every route fetches through the access layer and writes through a service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from xuexi.accounts.models import User
from xuexi.api.schemas import ERRORS
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import NotFound, ValidationFailed
from xuexi.core.masking import mask_phone
from xuexi.core.pagination import paginate
from xuexi.organizations import services
from xuexi.organizations.access import (
    access_invitation_as_admin,
    access_join_request_as_admin,
    access_member_as_admin,
    access_organization_as_admin,
    access_role_grant_as_admin,
)
from xuexi.organizations.models import (
    Invitation,
    JoinRequest,
    Membership,
    Organization,
    Role,
    RoleGrant,
)
from xuexi.organizations.scope import AdminScope
from xuexi.organizations.selectors import (
    audit_entries_in,
    children_with_counts,
    invitations_of,
    join_requests_pending,
    members_current,
    organization_path_names,
    organizations_search,
    role_grants_under,
    subtree_member_count,
)

router = Router(tags=["学习组织"])


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # authenticated by the router's auth


def _ip(request: HttpRequest) -> str:
    return client_ip_from_request(request)


# --- shapes -------------------------------------------------------------------------------------


class OrganizationOut(Schema):
    id: int
    name: str
    kind: str
    line: str
    code: str
    parent_id: int | None
    path_names: list[str]
    expected_members: int
    member_count: int
    children_count: int
    is_open: bool


class OrganizationPage(Schema):
    items: list[OrganizationOut]
    next_cursor: str | None


class OrganizationIn(Schema):
    parent_id: int
    name: str
    kind: str
    line: str | None = None
    expected_members: int | None = None
    code: str | None = None


class OrganizationPatch(Schema):
    name: str | None = None
    parent_id: int | None = None
    expected_members: int | None = None
    line: str | None = None
    is_open: bool | None = None


class OrganizationRef(Schema):
    id: int
    name: str


class MemberOut(Schema):
    id: int
    real_name: str
    phone: str
    registered: bool
    political_status: str
    organization: OrganizationRef
    joined_at: dt.datetime


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class MemberIn(Schema):
    phone: str
    real_name: str


class MemberPatch(Schema):
    real_name: str | None = None
    organization_id: int | None = None


class AdminIn(Schema):
    user_id: int
    main: bool = False


class RoleIn(Schema):
    user_id: int
    role: str


class RoleGrantOut(Schema):
    id: int
    user_id: int
    real_name: str
    role: str
    organization_id: int
    granted_at: dt.datetime


class AuditOut(Schema):
    id: int
    actor: str | None
    action: str
    target: str
    organization_id: int | None
    at: dt.datetime
    before: Any
    after: Any


class AuditPage(Schema):
    items: list[AuditOut]
    next_cursor: str | None


class InvitationIn(Schema):
    valid_days: int | None = 30


class InvitationOut(Schema):
    id: int
    code: str
    organization_id: int
    created_at: dt.datetime
    expires_at: dt.datetime | None
    disabled: bool


class JoinRequestIn(Schema):
    code: str


class DecisionIn(Schema):
    note: str = ""


class JoinRequestOut(Schema):
    id: int
    user_id: int
    real_name: str
    organization: OrganizationRef
    status: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    note: str


def organization_out(organization: Organization, *, member_count: int | None = None) -> dict:
    parent = Organization.objects.get_parent(organization)
    return {
        "id": organization.pk,
        "name": organization.name,
        "kind": organization.kind,
        "line": organization.line,
        "code": organization.code,
        "parent_id": parent.pk if parent else None,
        "path_names": organization_path_names(organization),
        "expected_members": organization.expected_members,
        "member_count": (
            member_count if member_count is not None else subtree_member_count(organization)
        ),
        "children_count": organization.numchild,
        "is_open": organization.is_open,
    }


def member_out(membership: Membership) -> dict:
    """A member as administrators see him in lists: the number masked (S11)."""
    user = membership.user
    return {
        "id": user.pk,
        "real_name": user.real_name,
        "phone": mask_phone(user.phone),
        "registered": user.registered_at is not None,
        "political_status": user.political_status,
        "organization": {"id": membership.organization_id, "name": membership.organization.name},
        "joined_at": membership.started_at,
    }


def grant_out(grant: RoleGrant) -> dict:
    return {
        "id": grant.pk,
        "user_id": grant.user_id,
        "real_name": grant.user.real_name,
        "role": grant.role,
        "organization_id": grant.organization_id,
        "granted_at": grant.granted_at,
    }


def invitation_out(invitation: Invitation) -> dict:
    return {
        "id": invitation.pk,
        "code": invitation.code,
        "organization_id": invitation.organization_id,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "disabled": invitation.disabled_at is not None,
    }


def join_request_out(join_request: JoinRequest) -> dict:
    return {
        "id": join_request.pk,
        "user_id": join_request.user_id,
        "real_name": join_request.user.real_name,
        "organization": {
            "id": join_request.organization_id,
            "name": join_request.organization.name,
        },
        "status": join_request.status,
        "created_at": join_request.created_at,
        "decided_at": join_request.decided_at,
        "note": join_request.note,
    }


# --- the tree ----------------------------------------------------------------------------------


@router.get("/organizations/search", response={200: list[OrganizationOut], **ERRORS})
def organization_search(request: HttpRequest, q: str) -> list[dict]:
    """Nodes inside the administrator's scope whose name contains ``q`` (or whose code is it)."""
    scope = AdminScope.of(_actor(request))
    scope.require_admin()
    return [organization_out(o) for o in organizations_search(scope.root_paths, q)]


@router.get("/organizations/{organization_id}", response={200: OrganizationOut, **ERRORS})
def organization_detail(request: HttpRequest, organization_id: int) -> dict:
    return organization_out(access_organization_as_admin(_actor(request), organization_id))


@router.get("/organizations/{organization_id}/children", response={200: OrganizationPage, **ERRORS})
def organization_children(
    request: HttpRequest, organization_id: int, cursor: str | None = None, limit: int | None = None
) -> dict:
    """Children in tree order, each with the member count of its whole subtree."""
    organization = access_organization_as_admin(_actor(request), organization_id)
    page = paginate(
        Organization.objects.get_children(organization),
        cursor=cursor,
        limit=limit,
        field="path",
        ascending=True,
    )
    counted = {child.pk: child for child in children_with_counts(organization)}
    return {
        "items": [
            organization_out(child, member_count=getattr(counted.get(child.pk), "member_count", 0))
            for child in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.post("/organizations", response={201: OrganizationOut, **ERRORS})
def organization_create(request: HttpRequest, payload: OrganizationIn) -> Status[dict]:
    parent = access_organization_as_admin(_actor(request), payload.parent_id)
    child = services.organization_create(
        actor=_actor(request),
        parent=parent,
        name=payload.name,
        kind=payload.kind,
        line=payload.line,
        expected_members=payload.expected_members,
        code=payload.code,
        ip=_ip(request),
    )
    return Status(201, organization_out(child, member_count=0))


@router.patch("/organizations/{organization_id}", response={200: OrganizationOut, **ERRORS})
def organization_patch(
    request: HttpRequest, organization_id: int, payload: OrganizationPatch
) -> dict:
    """Rename, set the headcount or line, move (``parent_id``), close or reopen (``is_open``)."""
    actor, ip = _actor(request), _ip(request)
    organization = access_organization_as_admin(actor, organization_id)
    if payload.parent_id is not None:
        new_parent = access_organization_as_admin(actor, payload.parent_id)
        organization = services.organization_move(
            actor=actor, organization=organization, new_parent=new_parent, ip=ip
        )
    if any(v is not None for v in (payload.name, payload.expected_members, payload.line)):
        organization = services.organization_update(
            actor=actor,
            organization=organization,
            name=payload.name,
            expected_members=payload.expected_members,
            line=payload.line,
            ip=ip,
        )
    if payload.is_open is False:
        organization = services.organization_close(actor=actor, organization=organization, ip=ip)
    elif payload.is_open is True:
        organization = services.organization_reopen(actor=actor, organization=organization, ip=ip)
    return organization_out(organization)


# --- members -------------------------------------------------------------------------------------


@router.get("/organizations/{organization_id}/members", response={200: MemberPage, **ERRORS})
def member_list(
    request: HttpRequest,
    organization_id: int,
    q: str = "",
    include_descendants: bool = True,
    registered: bool | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict:
    organization = access_organization_as_admin(_actor(request), organization_id)
    members = members_current(
        organization, include_descendants=include_descendants, q=q, registered=registered
    )
    page = paginate(members, cursor=cursor, limit=limit)
    return {"items": [member_out(m) for m in page.items], "next_cursor": page.next_cursor}


@router.post("/organizations/{organization_id}/members", response={201: MemberOut, **ERRORS})
def member_create(request: HttpRequest, organization_id: int, payload: MemberIn) -> Status[dict]:
    """Add a member by phone and real name; a number with no account is pre-listed."""
    organization = access_organization_as_admin(_actor(request), organization_id)
    membership = services.member_add(
        actor=_actor(request),
        organization=organization,
        phone=payload.phone,
        real_name=payload.real_name,
        ip=_ip(request),
    )
    return Status(201, member_out(membership))


@router.patch(
    "/organizations/{organization_id}/members/{user_id}", response={200: MemberOut, **ERRORS}
)
def member_patch(
    request: HttpRequest, organization_id: int, user_id: int, payload: MemberPatch
) -> dict:
    """Correct the real name, or transfer (``organization_id``) inside the scope."""
    actor, ip = _actor(request), _ip(request)
    organization = access_organization_as_admin(actor, organization_id)
    membership = access_member_as_admin(actor, organization, user_id)
    if payload.real_name is not None:
        membership = services.member_update(
            actor=actor, membership=membership, real_name=payload.real_name, ip=ip
        )
    if payload.organization_id is not None:
        target = access_organization_as_admin(actor, payload.organization_id)
        membership = services.member_transfer(
            actor=actor, membership=membership, target=target, ip=ip
        )
    return member_out(membership)


@router.delete("/organizations/{organization_id}/members/{user_id}", response={204: None, **ERRORS})
def member_delete(request: HttpRequest, organization_id: int, user_id: int) -> Status[None]:
    actor = _actor(request)
    organization = access_organization_as_admin(actor, organization_id)
    membership = access_member_as_admin(actor, organization, user_id)
    services.member_remove(actor=actor, membership=membership, ip=_ip(request))
    return Status(204, None)


# --- administrators and roles --------------------------------------------------------------------


def _grantee(user_id: int) -> User:
    """The user to appoint; ``role_grant_as`` checks he is a member inside the scope."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("找不到该成员，或他不在您的管理范围内。"))
    return user


@router.post("/organizations/{organization_id}/admins", response={201: RoleGrantOut, **ERRORS})
def admin_appoint(request: HttpRequest, organization_id: int, payload: AdminIn) -> Status[dict]:
    """Appoint an administrator (``main`` for a main administrator): main administrators and
    higher administrators only."""
    actor = _actor(request)
    organization = access_organization_as_admin(actor, organization_id)
    grant = services.role_grant_as(
        actor=actor,
        user=_grantee(payload.user_id),
        organization=organization,
        role=Role.MAIN_ADMIN if payload.main else Role.ADMIN,
        ip=_ip(request),
    )
    return Status(201, grant_out(grant))


@router.get("/organizations/{organization_id}/roles", response={200: list[RoleGrantOut], **ERRORS})
def role_list(request: HttpRequest, organization_id: int) -> list[dict]:
    """Roles held on this node and every node below it."""
    organization = access_organization_as_admin(_actor(request), organization_id)
    return [grant_out(grant) for grant in role_grants_under(organization)[:500]]


@router.post("/organizations/{organization_id}/roles", response={201: RoleGrantOut, **ERRORS})
def role_create(request: HttpRequest, organization_id: int, payload: RoleIn) -> Status[dict]:
    actor = _actor(request)
    organization = access_organization_as_admin(actor, organization_id)
    if payload.role not in Role.values:
        raise ValidationFailed({"role": _("角色无效。")})
    grant = services.role_grant_as(
        actor=actor,
        user=_grantee(payload.user_id),
        organization=organization,
        role=payload.role,
        ip=_ip(request),
    )
    return Status(201, grant_out(grant))


@router.delete("/role-grants/{grant_id}", response={204: None, **ERRORS})
def role_delete(request: HttpRequest, grant_id: int) -> Status[None]:
    actor = _actor(request)
    services.role_revoke_as(
        actor=actor, grant=access_role_grant_as_admin(actor, grant_id), ip=_ip(request)
    )
    return Status(204, None)


# --- audit log ------------------------------------------------------------------------------------


@router.get("/organizations/{organization_id}/audit-log", response={200: AuditPage, **ERRORS})
def audit_log(
    request: HttpRequest,
    organization_id: int,
    action: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict:
    organization = access_organization_as_admin(_actor(request), organization_id)
    entries = audit_entries_in(organization)
    if action:
        entries = entries.filter(action=action)
    page = paginate(entries, cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "id": entry.pk,
                "actor": entry.actor.real_name if entry.actor else None,
                "action": entry.action,
                "target": entry.target_label,
                "organization_id": entry.organization_id,
                "at": entry.at,
                "before": entry.before,
                "after": entry.after,
            }
            for entry in page.items
        ],
        "next_cursor": page.next_cursor,
    }


# --- invitations and joining --------------------------------------------------------------


@router.get(
    "/organizations/{organization_id}/invitations",
    response={200: list[InvitationOut], **ERRORS},
)
def invitation_list(request: HttpRequest, organization_id: int) -> list[dict]:
    organization = access_organization_as_admin(_actor(request), organization_id)
    return [invitation_out(i) for i in invitations_of(organization)[:200]]


@router.post(
    "/organizations/{organization_id}/invitations", response={201: InvitationOut, **ERRORS}
)
def invitation_create(
    request: HttpRequest, organization_id: int, payload: InvitationIn
) -> Status[dict]:
    actor = _actor(request)
    organization = access_organization_as_admin(actor, organization_id)
    invitation = services.invitation_create(
        actor=actor, organization=organization, valid_days=payload.valid_days, ip=_ip(request)
    )
    return Status(201, invitation_out(invitation))


@router.post("/invitations/{invitation_id}/disable", response={200: InvitationOut, **ERRORS})
def invitation_disable(request: HttpRequest, invitation_id: int) -> dict:
    actor = _actor(request)
    invitation = services.invitation_disable(
        actor=actor,
        invitation=access_invitation_as_admin(actor, invitation_id),
        ip=_ip(request),
    )
    return invitation_out(invitation)


@router.get(
    "/organizations/{organization_id}/join-requests",
    response={200: list[JoinRequestOut], **ERRORS},
)
def join_request_list(request: HttpRequest, organization_id: int) -> list[dict]:
    """Pending requests to join this node or any node below it, oldest first."""
    organization = access_organization_as_admin(_actor(request), organization_id)
    return [join_request_out(r) for r in join_requests_pending(organization)[:500]]


@router.post("/join-requests/{request_id}/{decision}", response={200: JoinRequestOut, **ERRORS})
def join_request_decide(
    request: HttpRequest,
    request_id: int,
    decision: Literal["approve", "reject"],
    payload: DecisionIn,
) -> dict:
    actor = _actor(request)
    decided = services.join_request_decide(
        actor=actor,
        join_request=access_join_request_as_admin(actor, request_id),
        approve=decision == "approve",
        note=payload.note,
        ip=_ip(request),
    )
    return join_request_out(decided)


@router.post("/join-requests", response={201: JoinRequestOut, **ERRORS})
def join_request_create(request: HttpRequest, payload: JoinRequestIn) -> Status[dict]:
    """A member asks to join by invitation code; an administrator of that organisation decides."""
    created = services.join_request_create(user=_actor(request), code=payload.code, ip=_ip(request))
    return Status(201, join_request_out(created))


@router.get("/me/join-requests", response={200: list[JoinRequestOut], **ERRORS})
def my_join_requests(request: HttpRequest) -> list[dict]:
    requests = (
        JoinRequest.objects.filter(user=_actor(request))
        .select_related("user", "organization")
        .order_by("-created_at")[:50]
    )
    return [join_request_out(r) for r in requests]


@router.post("/me/join-requests/{request_id}/withdraw", response={200: JoinRequestOut, **ERRORS})
def my_join_request_withdraw(request: HttpRequest, request_id: int) -> dict:
    join_request = JoinRequest.objects.filter(pk=request_id, user=_actor(request)).first()
    if join_request is None:
        raise NotFound(_("找不到该申请。"))
    withdrawn = services.join_request_withdraw(
        user=_actor(request), join_request=join_request, ip=_ip(request)
    )
    return join_request_out(withdrawn)
