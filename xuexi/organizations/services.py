"""Writes for the organisation tree, memberships, role grants, invitations and join requests.

Every administrative service takes the acting user, checks the target against his scope
(``AdminScope``) whatever the caller already checked, does its work in one transaction and
appends an audit entry in that same transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.accounts.services import user_prelist, validate_real_name
from xuexi.core.audit import audit_record
from xuexi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xuexi.core.time import now
from xuexi.organizations.models import (
    ADMINISTRATIVE_ROLES,
    CHILD_KINDS,
    MEMBER_KINDS,
    Invitation,
    JoinRequest,
    JoinStatus,
    ManagementLine,
    Membership,
    MembershipEnd,
    Organization,
    OrganizationKind,
    Role,
    RoleGrant,
)
from xuexi.organizations.scope import AdminScope
from xuexi.organizations.signals import organization_moved

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{0,39}$")
INVITATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud safely


# --- low-level placement (no actor: registration, demo data, approved requests) ------------


def membership_place(
    *, user: User, organization: Organization, end_reason: str = MembershipEnd.TRANSFERRED
) -> Membership:
    """Make ``organization`` the member's current one; the previous membership is ended."""
    with transaction.atomic():
        current = (
            Membership.objects.select_for_update().filter(user=user, ended_at__isnull=True).first()
        )
        if current is not None:
            if current.organization_id == organization.pk:
                return current
            current.ended_at = now()
            current.end_reason = end_reason
            current.save(update_fields=["ended_at", "end_reason"])
        return Membership.objects.create(user=user, organization=organization)


def role_grant(
    *, user: User, organization: Organization, role: str, granted_by: User | None
) -> RoleGrant:
    """Grant ``role`` on ``organization`` and keep ``User.is_administrator`` in step."""
    with transaction.atomic():
        grant, _created = RoleGrant.objects.get_or_create(
            user=user, organization=organization, role=role, defaults={"granted_by": granted_by}
        )
        if role in ADMINISTRATIVE_ROLES and not user.is_administrator:
            user.is_administrator = True
            user.save(update_fields=["is_administrator"])
    return grant


def _organization_state(organization: Organization) -> dict[str, Any]:
    return {
        "name": organization.name,
        "kind": organization.kind,
        "line": organization.line,
        "code": organization.code,
        "expected_members": organization.expected_members,
        "is_open": organization.is_open,
        "contact_name": organization.contact_name,
        "contact_phone": organization.contact_phone,
    }


def _locked(organization: Organization) -> Organization:
    return Organization.objects.select_for_update().get(pk=organization.pk)


# --- the tree ----------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationFailed({"name": _("组织名称须为 1–100 个字。")})
    return name


def _clean_line(line: str | None) -> str:
    line = line or ""
    if line and line not in ManagementLine.values:
        raise ValidationFailed({"line": _("所属系统无效。")})
    return line


def _clean_expected(expected: int | None) -> int:
    if expected is None:
        return 0
    if not 0 <= expected <= 10_000_000:
        raise ValidationFailed({"expected_members": _("应注册人数须为 0 或正整数。")})
    return expected


def _check_child_kind(parent: Organization, kind: str, *, field: str = "kind") -> None:
    if kind not in OrganizationKind.values:
        raise ValidationFailed({field: _("组织类型无效。")})
    if kind not in CHILD_KINDS.get(parent.kind, frozenset()):
        raise ValidationFailed(
            {
                field: _("「%(parent)s」下不能设立「%(kind)s」。")
                % {
                    "parent": OrganizationKind(parent.kind).label,
                    "kind": OrganizationKind(kind).label,
                }
            }
        )


def _next_code(parent: Organization) -> str:
    serial = parent.numchild + 1
    while True:
        candidate = f"{parent.code}-{serial:03d}"[:40]
        if not Organization.objects.filter(code=candidate).exists():
            return candidate
        serial += 1


def organization_create(
    *,
    actor: User,
    parent: Organization,
    name: str,
    kind: str,
    line: str | None = None,
    expected_members: int | None = None,
    code: str | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    ip: str | None = None,
) -> Organization:
    """Add a node under ``parent`` (in scope, open, and of a kind that may hold ``kind``)."""
    AdminScope.of(actor).require(parent)
    name = _clean_name(name)
    _check_child_kind(parent, kind)
    line = _clean_line(line) or parent.line  # a node under a line belongs to that line
    expected = _clean_expected(expected_members)
    if code is not None and code != "" and not CODE_RE.match(code):
        raise ValidationFailed({"code": _("组织编码只能包含字母、数字和短横线，最长 40 位。")})
    with transaction.atomic():
        parent = _locked(parent)  # serialises sibling inserts: treebeard picks the next path
        if not parent.is_open:
            raise Conflict(_("上级组织已关闭，不能在其下新建组织。"), code="organization_closed")
        if code and Organization.objects.filter(code=code).exists():
            raise ValidationFailed({"code": _("组织编码已被使用。")})
        try:
            child: Organization = Organization.objects.add_child(
                parent,
                {
                    "name": name,
                    "kind": kind,
                    "line": line,
                    "code": code or _next_code(parent),
                    "expected_members": expected,
                    "contact_name": contact_name.strip()[:50],
                    "contact_phone": contact_phone.strip()[:20],
                },
            )
        except IntegrityError as exc:
            raise Conflict(_("组织编码已被使用。"), code="code_taken") from exc
        audit_record(
            actor=actor,
            action="organization.create",
            target=child,
            organization=child,
            after=_organization_state(child),
            ip=ip,
        )
    return child


def organization_update(
    *,
    actor: User,
    organization: Organization,
    name: str | None = None,
    expected_members: int | None = None,
    line: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    ip: str | None = None,
) -> Organization:
    """Rename a node, set its headcount, line or contact. Only the fields given change."""
    AdminScope.of(actor).require(organization)
    with transaction.atomic():
        organization = _locked(organization)
        before = _organization_state(organization)
        if name is not None:
            organization.name = _clean_name(name)
        if expected_members is not None:
            organization.expected_members = _clean_expected(expected_members)
        if line is not None:
            organization.line = _clean_line(line)
        if contact_name is not None:
            organization.contact_name = contact_name.strip()[:50]
        if contact_phone is not None:
            organization.contact_phone = contact_phone.strip()[:20]
        after = _organization_state(organization)
        if after != before:
            organization.save()
            changed = {key for key in after if after[key] != before[key]}
            audit_record(
                actor=actor,
                action="organization.update",
                target=organization,
                organization=organization,
                before={key: before[key] for key in changed},
                after={key: after[key] for key in changed},
                ip=ip,
            )
    return organization


def organization_move(
    *, actor: User, organization: Organization, new_parent: Organization, ip: str | None = None
) -> Organization:
    """Move a node with its whole subtree under ``new_parent``.

    Both ends must be inside the actor's scope, and the node must lie strictly below the top
    of that scope: an administrator cannot carry his own node (or anything) out of his reach.
    """
    scope = AdminScope.of(actor)
    scope.require(organization)
    scope.require(new_parent)
    if not scope.covers_strictly(organization):
        raise Forbidden(_("您不能移动自己所管理的最高一级组织，请联系上级管理员。"))
    if new_parent.path.startswith(organization.path):
        raise ValidationFailed({"parent_id": _("不能把组织移到它自己或它的下级组织之下。")})
    _check_child_kind(new_parent, organization.kind, field="parent_id")
    with transaction.atomic():
        organization, new_parent = _locked(organization), _locked(new_parent)
        if not new_parent.is_open:
            raise Conflict(_("目标上级组织已关闭。"), code="organization_closed")
        old_parent = Organization.objects.get_parent(organization)
        if old_parent is not None and old_parent.pk == new_parent.pk:
            return organization
        subtree_size = Organization.objects.get_descendant_count(organization) + 1
        old_path = organization.path
        Organization.objects.move(organization, new_parent, "last-child")
        organization.refresh_from_db()
        transaction.on_commit(
            functools.partial(
                organization_moved.send_robust,
                sender=Organization,
                organization=organization,
                old_path=old_path,
                new_path=organization.path,
                old_parent=old_parent,
                new_parent=new_parent,
                subtree_size=subtree_size,
            )
        )
        audit_record(
            actor=actor,
            action="organization.move",
            target=organization,
            organization=organization,
            before={
                "parent_id": old_parent.pk if old_parent else None,
                "parent": old_parent.name if old_parent else None,
            },
            after={
                "parent_id": new_parent.pk,
                "parent": new_parent.name,
                "subtree_size": subtree_size,
            },
            ip=ip,
        )
    return organization


def organization_close(
    *, actor: User, organization: Organization, ip: str | None = None
) -> Organization:
    """Close a node and its whole subtree; refused while anyone is still a member below it."""
    scope = AdminScope.of(actor)
    scope.require(organization)
    if not scope.covers_strictly(organization):
        raise Forbidden(_("您不能关闭自己所管理的最高一级组织，请联系上级管理员。"))
    with transaction.atomic():
        organization = _locked(organization)
        members = Membership.objects.filter(
            ended_at__isnull=True, organization__path__startswith=organization.path
        ).count()
        if members:
            raise Conflict(
                _("该组织及其下级还有 %(count)d 名成员，请先转接或移出后再关闭。")
                % {"count": members},
                code="organization_has_members",
            )
        closed = Organization.objects.filter(
            path__startswith=organization.path, is_open=True
        ).update(is_open=False)
        organization.refresh_from_db()
        audit_record(
            actor=actor,
            action="organization.close",
            target=organization,
            organization=organization,
            before={"is_open": True},
            after={"is_open": False, "closed_nodes": closed},
            ip=ip,
        )
    return organization


def organization_reopen(
    *, actor: User, organization: Organization, ip: str | None = None
) -> Organization:
    """Reopen a closed node (its parent must be open); its children stay as they are."""
    AdminScope.of(actor).require(organization)
    with transaction.atomic():
        organization = _locked(organization)
        parent = Organization.objects.get_parent(organization)
        if parent is not None and not parent.is_open:
            raise Conflict(_("上级组织已关闭，请先重新开放上级组织。"), code="organization_closed")
        if not organization.is_open:
            organization.is_open = True
            organization.save(update_fields=["is_open"])
            audit_record(
                actor=actor,
                action="organization.reopen",
                target=organization,
                organization=organization,
                before={"is_open": False},
                after={"is_open": True},
                ip=ip,
            )
    return organization


# --- members -------------------------------------------------------------------------------------


def _check_member_organization(organization: Organization, *, field: str) -> None:
    if organization.kind not in MEMBER_KINDS:
        raise ValidationFailed({field: _("成员只能编入党支部或学习小组。")})
    if not organization.is_open:
        raise Conflict(_("该组织已关闭，不能编入成员。"), code="organization_closed")


def _member_state(membership: Membership) -> dict[str, Any]:
    return {
        "user_id": membership.user_id,
        "real_name": membership.user.real_name,
        "organization_id": membership.organization_id,
        "organization": membership.organization.name,
        "registered": membership.user.registered_at is not None,
    }


def member_add(
    *,
    actor: User,
    organization: Organization,
    phone: str,
    real_name: str,
    ip: str | None = None,
) -> Membership:
    """Add a member by phone and real name.

    A number without an account becomes a pre-listed member (placed now, registers later). A
    number whose owner belongs nowhere is placed here. A member of another organisation is
    refused: moving him is a transfer, done by an administrator whose scope holds both.
    """
    scope = AdminScope.of(actor)
    scope.require(organization)
    real_name = validate_real_name(real_name)
    with transaction.atomic():
        organization = _locked(organization)  # read its open state as it is now
        _check_member_organization(organization, field="organization_id")
        user = user_prelist(phone=phone, real_name=real_name)
        current = (
            Membership.objects.select_for_update()
            .select_related("organization")
            .filter(user=user, ended_at__isnull=True)
            .first()
        )
        if current is not None:
            if current.organization_id == organization.pk:
                raise Conflict(_("该成员已在本组织中。"), code="already_member")
            if scope.covers(current.organization):
                raise Conflict(
                    _("该成员已在「%(name)s」，如需调整请使用组织关系转接。")
                    % {"name": current.organization.name},
                    code="member_elsewhere_in_scope",
                )
            raise Conflict(
                _("该手机号已在其他组织登记，请联系其所在组织的管理员办理组织关系转接。"),
                code="member_elsewhere",
            )
        membership = Membership.objects.create(user=user, organization=organization)
        audit_record(
            actor=actor,
            action="member.add",
            target=user,
            target_label=user.real_name,
            organization=organization,
            after=_member_state(membership),
            ip=ip,
        )
    return membership


def member_update(
    *, actor: User, membership: Membership, real_name: str, ip: str | None = None
) -> Membership:
    """Correct a member's real name."""
    AdminScope.of(actor).require(membership.organization)
    real_name = validate_real_name(real_name)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=membership.user_id)
        if user.real_name != real_name:
            before = user.real_name
            user.real_name = real_name
            user.save(update_fields=["real_name"])
            membership.user = user
            audit_record(
                actor=actor,
                action="member.update",
                target=user,
                target_label=real_name,
                organization=membership.organization,
                before={"real_name": before},
                after={"real_name": real_name},
                ip=ip,
            )
    return membership


def member_transfer(
    *, actor: User, membership: Membership, target: Organization, ip: str | None = None
) -> Membership:
    """组织关系转接: end the current membership and open one in ``target``; history is kept.

    Source and target must both lie in the actor's scope.
    """
    scope = AdminScope.of(actor)
    scope.require(membership.organization)
    scope.require(target)
    with transaction.atomic():
        target = _locked(target)
        _check_member_organization(target, field="organization_id")
        current = (
            Membership.objects.select_for_update()
            .select_related("user", "organization")
            .filter(pk=membership.pk, ended_at__isnull=True)
            .first()
        )
        if current is None:
            raise Conflict(_("该成员的组织关系已变更，请刷新后重试。"), code="membership_changed")
        if current.organization_id == target.pk:
            return current
        before = _member_state(current)
        current.ended_at = now()
        current.end_reason = MembershipEnd.TRANSFERRED
        current.save(update_fields=["ended_at", "end_reason"])
        moved = Membership.objects.create(user=current.user, organization=target)
        audit_record(
            actor=actor,
            action="member.transfer",
            target=current.user,
            target_label=current.user.real_name,
            organization=target,
            before=before,
            after=_member_state(moved),
            ip=ip,
        )
    return moved


def member_remove(*, actor: User, membership: Membership, ip: str | None = None) -> None:
    """Take a member out of his organisation (移出). His account and history stay."""
    AdminScope.of(actor).require(membership.organization)
    with transaction.atomic():
        removed = Membership.objects.filter(pk=membership.pk, ended_at__isnull=True).update(
            ended_at=now(), end_reason=MembershipEnd.REMOVED
        )
        if not removed:
            raise Conflict(_("该成员的组织关系已变更，请刷新后重试。"), code="membership_changed")
        audit_record(
            actor=actor,
            action="member.remove",
            target=membership.user,
            target_label=membership.user.real_name,
            organization=membership.organization,
            before=_member_state(membership),
            ip=ip,
        )


# --- roles -------------------------------------------------------------------------------------


def _refresh_administrator_flag(user: User) -> None:
    holds = RoleGrant.objects.filter(user=user, role__in=ADMINISTRATIVE_ROLES).exists()
    if user.is_administrator != holds:
        user.is_administrator = holds
        user.save(update_fields=["is_administrator"])


def role_grant_as(
    *, actor: User, user: User, organization: Organization, role: str, ip: str | None = None
) -> RoleGrant:
    """Appoint ``user`` to ``role`` on ``organization`` within the actor's powers (S10)."""
    if role not in Role.values:
        raise ValidationFailed({"role": _("角色无效。")})
    scope = AdminScope.of(actor)
    scope.require(organization)
    if user.pk == actor.pk:
        raise Forbidden(_("不能给自己授予角色。"))
    if not scope.can_appoint_on(organization, role):
        raise Forbidden(_("只有本级主管理员或上级管理员可以任命管理员。"))
    current = (
        Membership.objects.select_related("organization")
        .filter(user=user, ended_at__isnull=True)
        .first()
    )
    if not scope.is_platform_wide and (current is None or not scope.covers(current.organization)):
        raise NotFound(_("找不到该成员，或他不在您的管理范围内。"))
    if user.registered_at is None:
        raise Conflict(_("该成员尚未注册，注册后才能任命。"), code="member_not_registered")
    with transaction.atomic():
        if RoleGrant.objects.filter(user=user, organization=organization, role=role).exists():
            raise Conflict(_("该成员已担任此角色。"), code="already_granted")
        grant = role_grant(user=user, organization=organization, role=role, granted_by=actor)
        audit_record(
            actor=actor,
            action="role.grant",
            target=user,
            target_label=user.real_name,
            organization=organization,
            after={"role": role, "user_id": user.pk, "organization_id": organization.pk},
            ip=ip,
        )
    return grant


def role_revoke_as(*, actor: User, grant: RoleGrant, ip: str | None = None) -> None:
    scope = AdminScope.of(actor)
    scope.require(grant.organization)
    if not scope.can_appoint_on(grant.organization, grant.role):
        raise Forbidden(_("只有本级主管理员或上级管理员可以撤销管理员。"))
    with transaction.atomic():
        user = grant.user
        RoleGrant.objects.filter(pk=grant.pk).delete()
        _refresh_administrator_flag(user)
        audit_record(
            actor=actor,
            action="role.revoke",
            target=user,
            target_label=user.real_name,
            organization=grant.organization,
            before={
                "role": grant.role,
                "user_id": user.pk,
                "organization_id": grant.organization_id,
            },
            ip=ip,
        )


# --- invitations and join requests -------------------------------------------------------------


def invitation_create(
    *,
    actor: User,
    organization: Organization,
    valid_days: int | None = 30,
    ip: str | None = None,
) -> Invitation:
    """A new invitation code for a branch or group; ``valid_days=None`` never expires."""
    AdminScope.of(actor).require(organization)
    if valid_days is not None and not 1 <= valid_days <= 365:
        raise ValidationFailed({"valid_days": _("有效期须在 1 到 365 天之间。")})
    with transaction.atomic():
        organization = _locked(organization)
        _check_member_organization(organization, field="organization_id")
        while True:
            code = "".join(secrets.choice(INVITATION_ALPHABET) for _ in range(8))
            if not Invitation.objects.filter(code=code).exists():
                break
        invitation = Invitation.objects.create(
            organization=organization,
            code=code,
            created_by=actor,
            expires_at=now() + dt.timedelta(days=valid_days) if valid_days else None,
        )
        audit_record(
            actor=actor,
            action="invitation.create",
            target=invitation,
            organization=organization,
            after={"code": code, "expires_at": invitation.expires_at},
            ip=ip,
        )
    return invitation


def invitation_disable(*, actor: User, invitation: Invitation, ip: str | None = None) -> Invitation:
    AdminScope.of(actor).require(invitation.organization)
    with transaction.atomic():
        if invitation.disabled_at is None:
            invitation.disabled_at = now()
            invitation.save(update_fields=["disabled_at"])
            audit_record(
                actor=actor,
                action="invitation.disable",
                target=invitation,
                organization=invitation.organization,
                after={"disabled_at": invitation.disabled_at},
                ip=ip,
            )
    return invitation


def join_request_create(*, user: User, code: str, ip: str | None = None) -> JoinRequest:
    """A member asks to join the organisation of an invitation code; an administrator decides."""
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(code=(code or "").strip().upper())
        .first()
    )
    if invitation is None or not invitation.is_usable(now()):
        raise ValidationFailed({"code": _("邀请码无效或已过期，请向管理员索取新的邀请码。")})
    if not invitation.organization.is_open:
        raise ValidationFailed({"code": _("该组织已关闭，不能加入。")})
    if Membership.objects.filter(
        user=user, organization=invitation.organization, ended_at__isnull=True
    ).exists():
        raise Conflict(_("您已是该组织成员。"), code="already_member")
    try:
        with transaction.atomic():
            request = JoinRequest.objects.create(
                user=user, organization=invitation.organization, invitation=invitation
            )
            audit_record(
                actor=user,
                action="join_request.create",
                target=request,
                target_label=user.real_name,
                organization=invitation.organization,
                after={"invitation": invitation.code},
                ip=ip,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("您已有一条待审核的入组申请，请等待审核或先撤回。"), code="join_request_pending"
        ) from exc
    return request


def join_request_decide(
    *,
    actor: User,
    join_request: JoinRequest,
    approve: bool,
    note: str = "",
    ip: str | None = None,
) -> JoinRequest:
    """Approve (the member is placed, leaving any earlier organisation) or reject a request."""
    AdminScope.of(actor).require(join_request.organization)
    with transaction.atomic():
        locked = (
            JoinRequest.objects.select_for_update()
            .select_related("user", "organization")
            .get(pk=join_request.pk)
        )
        if locked.status != JoinStatus.PENDING:
            raise Conflict(_("该申请已处理。"), code="join_request_decided")
        if approve:
            _check_member_organization(locked.organization, field="organization_id")
            membership_place(user=locked.user, organization=locked.organization)
        locked.status = JoinStatus.APPROVED if approve else JoinStatus.REJECTED
        locked.decided_by = actor
        locked.decided_at = now()
        locked.note = (note or "").strip()[:200]
        locked.save(update_fields=["status", "decided_by", "decided_at", "note"])
        audit_record(
            actor=actor,
            action="join_request.approve" if approve else "join_request.reject",
            target=locked,
            target_label=locked.user.real_name,
            organization=locked.organization,
            before={"status": JoinStatus.PENDING},
            after={"status": locked.status, "note": locked.note},
            ip=ip,
        )
    return locked


def join_request_withdraw(
    *, user: User, join_request: JoinRequest, ip: str | None = None
) -> JoinRequest:
    """The member takes back his pending request."""
    with transaction.atomic():
        updated = JoinRequest.objects.filter(
            pk=join_request.pk, user=user, status=JoinStatus.PENDING
        ).update(status=JoinStatus.WITHDRAWN, decided_at=now())
        if not updated:
            raise Conflict(_("该申请已处理，不能撤回。"), code="join_request_decided")
        join_request.refresh_from_db()
        audit_record(
            actor=user,
            action="join_request.withdraw",
            target=join_request,
            target_label=user.real_name,
            organization=join_request.organization,
            before={"status": JoinStatus.PENDING},
            after={"status": JoinStatus.WITHDRAWN},
            ip=ip,
        )
    return join_request
