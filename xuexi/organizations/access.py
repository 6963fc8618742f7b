"""The access layer: every administrative read passes through one of these helpers.

``access_<thing>_as_<role>`` returns the object only when it lies inside the actor's scope and
raises ``NotFound`` otherwise (outside the scope, existence itself is private — API.md).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from xuexi.accounts.models import LoginEvent, User
from xuexi.core.errors import Forbidden, NotFound
from xuexi.organizations.models import Membership, Organization
from xuexi.organizations.selectors import admin_scopes_of, organization_in_scopes


def access_organization_as_admin(user: User, organization_id: int) -> Organization:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None or not organization_in_scopes(organization, admin_scopes_of(user)):
        raise NotFound(_("找不到该组织，或它不在您的管理范围内。"))
    return organization


def access_login_events_as_admin(user: User) -> QuerySet[LoginEvent]:
    """Login events of members inside the administrator's scopes.

    A scope at a root of the tree (the platform) covers every event, including members not yet
    placed in any organisation and attempts on numbers that have no account.
    """
    scopes = admin_scopes_of(user)
    if not scopes:
        raise Forbidden(_("只有学习管理员可以查看登录日志。"))
    if any(scope.depth == 1 for scope in scopes):
        return LoginEvent.objects.all()
    in_scope = Q()
    for scope in scopes:
        in_scope |= Q(organization__path__startswith=scope.path)
    members = Membership.objects.filter(in_scope, ended_at__isnull=True).values("user_id")
    return LoginEvent.objects.filter(user_id__in=members)
