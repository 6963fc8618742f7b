"""Writes for the organisation tree, memberships and role grants."""

from __future__ import annotations

from django.db import transaction

from xuexi.accounts.models import User
from xuexi.core.time import now
from xuexi.organizations.models import ADMINISTRATIVE_ROLES, Membership, Organization, RoleGrant


def membership_place(*, user: User, organization: Organization) -> Membership:
    """Make ``organization`` the member's current one; the previous membership is ended."""
    with transaction.atomic():
        current = (
            Membership.objects.select_for_update().filter(user=user, ended_at__isnull=True).first()
        )
        if current is not None:
            if current.organization_id == organization.pk:
                return current
            current.ended_at = now()
            current.save(update_fields=["ended_at"])
        return Membership.objects.create(user=user, organization=organization)


def role_grant(
    *, user: User, organization: Organization, role: str, granted_by: User | None
) -> RoleGrant:
    """Grant ``role`` on ``organization`` and keep ``User.is_administrator`` in step."""
    with transaction.atomic():
        grant, _ = RoleGrant.objects.get_or_create(
            user=user, organization=organization, role=role, defaults={"granted_by": granted_by}
        )
        if role in ADMINISTRATIVE_ROLES and not user.is_administrator:
            user.is_administrator = True
            user.save(update_fields=["is_administrator"])
    return grant
