"""Reads about organisations: each question is one indexed query (subtree = path prefix)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from xuexi.accounts.models import User
from xuexi.core.models import AuditEntry
from xuexi.core.time import now
from xuexi.organizations.models import (
    ADMINISTRATIVE_ROLES,
    Invitation,
    JoinRequest,
    JoinStatus,
    Membership,
    Organization,
    RoleGrant,
)


def organization_path_names(organization: Organization) -> list[str]:
    """Names from the root down to ``organization`` (one query for the ancestors)."""
    ancestors = Organization.objects.get_ancestors(organization)
    return [*ancestors.values_list("name", flat=True), organization.name]


def organization_ancestors(organization: Organization) -> list[Organization]:
    return list(Organization.objects.get_ancestors(organization))


def membership_current(user: User) -> Membership | None:
    return (
        Membership.objects.select_related("organization")
        .filter(user=user, ended_at__isnull=True)
        .first()
    )


def role_grants_of(user: User) -> QuerySet[RoleGrant]:
    return RoleGrant.objects.filter(user=user).order_by("organization__path", "role")


def admin_scopes_of(user: User) -> list[Organization]:
    """Nodes where ``user`` holds an administrative role; each covers its subtree."""
    return [
        grant.organization
        for grant in RoleGrant.objects.select_related("organization").filter(
            user=user, role__in=ADMINISTRATIVE_ROLES
        )
    ]


def organization_in_scopes(organization: Organization, scopes: list[Organization]) -> bool:
    return any(organization.path.startswith(scope.path) for scope in scopes)


# --- members of a subtree ------------------------------------------------------------------------


def members_current(
    organization: Organization,
    *,
    include_descendants: bool = True,
    q: str = "",
    registered: bool | None = None,
) -> QuerySet[Membership]:
    """Current memberships of ``organization`` (and, by default, its whole subtree).

    ``q`` matches a name fragment or the start of a phone number; ``registered`` picks
    registered members (True) or pre-listed ones (False).
    """
    members = Membership.objects.filter(ended_at__isnull=True).select_related(
        "user", "organization"
    )
    if include_descendants:
        members = members.filter(organization__path__startswith=organization.path)
    else:
        members = members.filter(organization=organization)
    q = (q or "").strip()
    if q:
        members = members.filter(Q(user__real_name__contains=q) | Q(user__phone__startswith=q))
    if registered is not None:
        members = members.filter(user__registered_at__isnull=not registered)
    return members


def subtree_member_count(organization: Organization) -> int:
    return members_current(organization).count()


def children_with_counts(organization: Organization) -> list[Organization]:
    """The children of ``organization``, each with ``member_count`` for its whole subtree.

    One grouped query over the parent's subtree gives every child's count: the child a
    membership falls under is the prefix of its organisation's path one level below the parent.
    """
    children = list(Organization.objects.get_children(organization))
    if not children:
        return children
    width = len(organization.path) + Organization.steplen
    counts = dict(
        Membership.objects.filter(
            ended_at__isnull=True, organization__path__startswith=organization.path
        )
        .exclude(organization=organization)
        .annotate(child_path=Substr("organization__path", 1, width))
        .values_list("child_path")
        .annotate(total=Count("id"))
        .values_list("child_path", "total")
    )
    for child in children:
        child.member_count = counts.get(child.path, 0)
    return children


def organizations_search(root_paths: list[str], q: str, *, limit: int = 20) -> list[Organization]:
    """Nodes whose name or code contains ``q``, inside the given subtrees, shallowest first."""
    q = (q or "").strip()
    if not q or not root_paths:
        return []
    inside = Q()
    for path in root_paths:
        inside |= Q(path__startswith=path)
    return list(
        Organization.objects.filter(inside)
        .filter(Q(name__contains=q) | Q(code__iexact=q))
        .order_by("depth", "path")[:limit]
    )


# --- joining and audit --------------------------------------------------------------------


def join_requests_pending(organization: Organization) -> QuerySet[JoinRequest]:
    return (
        JoinRequest.objects.filter(
            status=JoinStatus.PENDING, organization__path__startswith=organization.path
        )
        .select_related("user", "organization", "invitation")
        .order_by("created_at", "id")
    )


def join_requests_pending_under(paths: list[str]) -> QuerySet[JoinRequest]:
    """Pending requests to join any node under the given paths (an administrator's scope)."""
    if not paths:
        return JoinRequest.objects.none()
    inside = Q()
    for path in paths:
        inside |= Q(organization__path__startswith=path)
    return (
        JoinRequest.objects.filter(inside, status=JoinStatus.PENDING)
        .select_related("user", "organization", "invitation")
        .order_by("created_at", "id")
    )


def role_grants_under(organization: Organization) -> QuerySet[RoleGrant]:
    """Role grants on ``organization`` and every node below it, in tree order."""
    return (
        RoleGrant.objects.filter(organization__path__startswith=organization.path)
        .select_related("user", "organization", "granted_by")
        .order_by("organization__path", "role", "id")
    )


def invitation_usable(code: str) -> Invitation | None:
    """The invitation with ``code`` if it can still be used to ask to join, else ``None``."""
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(code=(code or "").strip().upper())
        .first()
    )
    if invitation is None or not invitation.is_usable(now()):
        return None
    if not invitation.organization.is_open:
        return None
    return invitation


def invitations_of(organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(organization=organization).order_by("-created_at")


def audit_entries_in(organization: Organization) -> QuerySet[AuditEntry]:
    """Audit entries about ``organization`` and every node below it, newest first."""
    return (
        AuditEntry.objects.filter(organization__path__startswith=organization.path)
        .select_related("actor", "organization")
        .order_by("-at", "-id")
    )
