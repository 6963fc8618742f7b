"""Who may read which reports: administrators (admin, main_admin, operator) their scope —
the nodes they hold a role on and everything below (``AdminScope``). Outside it a node answers
404, its existence being private; someone who administers nothing gets 403."""

from __future__ import annotations

from xuexi.accounts.models import User
from xuexi.organizations.access import access_organization_as_admin
from xuexi.organizations.models import Organization


def access_organization_for_reports(user: User, organization_id: int) -> Organization:
    """The node ``organization_id`` when ``user`` may read its reports (``NotFound`` /
    ``Forbidden`` otherwise)."""
    return access_organization_as_admin(user, organization_id)
