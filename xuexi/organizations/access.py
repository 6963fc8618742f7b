"""The access layer: every administrative read and write fetches through these helpers.

``access_<thing>_as_admin`` returns the object only when it lies inside the actor's scope and
raises ``NotFound`` otherwise (outside the scope, existence itself is private — API.md), or
``Forbidden`` when the actor is no administrator at all.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from xuexi.accounts.models import LoginEvent, User
from xuexi.core.errors import NotFound
from xuexi.organizations.models import Invitation, JoinRequest, Membership, Organization, RoleGrant
from xuexi.organizations.scope import AdminScope


def _scope(user: User) -> AdminScope:
    scope = AdminScope.of(user)
    scope.require_admin()
    return scope


def access_organization_as_admin(user: User, organization_id: int) -> Organization:
    return access_organization_in_scope(_scope(user), organization_id)


def access_organization_in_scope(scope: AdminScope, organization_id: int) -> Organization:
    """The node ``organization_id`` if ``scope`` (an administrator's, already required) covers
    it, for a caller that needs the scope itself too and so reads the grants once."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None or not scope.covers(organization):
        raise NotFound(_("找不到该组织，或它不在您的管理范围内。"))
    return organization


def access_organization_by_code_as_admin(user: User, code: str) -> Organization:
    """The node with ``code`` inside the actor's scope (forms that take a code, not an id)."""
    scope = _scope(user)
    organization = Organization.objects.filter(code=(code or "").strip()).first()
    if organization is None or not scope.covers(organization):
        raise NotFound(_("找不到该组织，或它不在您的管理范围内。"))
    return organization


def access_member_as_admin(user: User, organization: Organization, member_id: int) -> Membership:
    """The current membership of user ``member_id`` inside ``organization``'s subtree."""
    access_organization_as_admin(user, organization.pk)
    membership = (
        Membership.objects.select_related("user", "organization")
        .filter(
            user_id=member_id,
            ended_at__isnull=True,
            organization__path__startswith=organization.path,
        )
        .first()
    )
    if membership is None:
        raise NotFound(_("找不到该成员，或他不在您的管理范围内。"))
    return membership


def access_role_grant_as_admin(user: User, grant_id: int) -> RoleGrant:
    scope = _scope(user)
    grant = RoleGrant.objects.select_related("user", "organization").filter(pk=grant_id).first()
    if grant is None or not scope.covers(grant.organization):
        raise NotFound(_("找不到该授权。"))
    return grant


def access_invitation_as_admin(user: User, invitation_id: int) -> Invitation:
    scope = _scope(user)
    invitation = Invitation.objects.select_related("organization").filter(pk=invitation_id).first()
    if invitation is None or not scope.covers(invitation.organization):
        raise NotFound(_("找不到该邀请码。"))
    return invitation


def access_join_request_as_admin(user: User, request_id: int) -> JoinRequest:
    scope = _scope(user)
    request = (
        JoinRequest.objects.select_related("user", "organization").filter(pk=request_id).first()
    )
    if request is None or not scope.covers(request.organization):
        raise NotFound(_("找不到该申请。"))
    return request


def access_login_events_as_admin(user: User) -> QuerySet[LoginEvent]:
    """Login events of members inside the administrator's scopes.

    A scope at a root of the tree (the platform) covers every event, including members not yet
    placed in any organisation and attempts on numbers that have no account.
    """
    scope = _scope(user)
    if scope.is_platform_wide:
        return LoginEvent.objects.all()
    in_scope = Q()
    for path in scope.root_paths:
        in_scope |= Q(organization__path__startswith=path)
    members = Membership.objects.filter(in_scope, ended_at__isnull=True).values("user_id")
    return LoginEvent.objects.filter(user_id__in=members)
