"""Reads about organisations, always as one indexed query per question."""

from __future__ import annotations

from django.db.models import QuerySet

from xuexi.accounts.models import User
from xuexi.organizations.models import (
    ADMINISTRATIVE_ROLES,
    Membership,
    Organization,
    RoleGrant,
)


def organization_path_names(organization: Organization) -> list[str]:
    """Names from the root down to ``organization`` (one query for the ancestors)."""
    ancestors = Organization.objects.get_ancestors(organization)
    return [*ancestors.values_list("name", flat=True), organization.name]


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
