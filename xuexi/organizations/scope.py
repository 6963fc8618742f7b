"""An administrator's scope: the nodes he holds roles on, each covering its subtree.

Loaded once per request (one query) and asked many questions without further queries:
``covers`` for reads and writes, ``can_appoint_on`` for role grants. Paths are treebeard's
materialised paths, so "inside" is a string prefix test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.core.errors import Forbidden, NotFound
from xuexi.organizations.models import ADMINISTRATIVE_ROLES, Organization, Role, RoleGrant


@dataclass(frozen=True)
class Grant:
    role: str
    path: str
    organization_id: int


@dataclass
class AdminScope:
    user: User
    grants: list[Grant] = field(default_factory=list)

    @classmethod
    def of(cls, user: User) -> AdminScope:
        if not getattr(user, "is_authenticated", False):
            return cls(user=user)
        rows = RoleGrant.objects.filter(user=user).values_list(
            "role", "organization__path", "organization_id"
        )
        return cls(user=user, grants=[Grant(*row) for row in rows])

    # --- what the scope reaches ---------------------------------------------------------------

    @property
    def admin_grants(self) -> list[Grant]:
        return [grant for grant in self.grants if grant.role in ADMINISTRATIVE_ROLES]

    @property
    def is_admin(self) -> bool:
        return bool(self.admin_grants)

    @property
    def is_platform_wide(self) -> bool:
        """An administrative role on a root of the tree covers everything."""
        return any(len(grant.path) == Organization.steplen for grant in self.admin_grants)

    @property
    def root_paths(self) -> list[str]:
        """The top nodes of the scope, without those nested in another."""
        paths = sorted({grant.path for grant in self.admin_grants})
        return [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]

    def covers(self, organization: Organization) -> bool:
        return any(organization.path.startswith(grant.path) for grant in self.admin_grants)

    def covers_strictly(self, organization: Organization) -> bool:
        """Inside the scope and below its top: the node can be moved or closed from here."""
        return any(
            organization.path.startswith(grant.path) and organization.path != grant.path
            for grant in self.admin_grants
        )

    def require(self, organization: Organization) -> Organization:
        """``organization`` if it is in scope; ``NotFound`` otherwise (existence is private)."""
        if not self.covers(organization):
            raise NotFound(_("找不到该组织，或它不在您的管理范围内。"))
        return organization

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden(_("只有学习管理员可以进行此操作。"))

    # --- appointing --------------------------------------------------------------------------

    def can_appoint_on(self, organization: Organization, role: str) -> bool:
        """Whether this actor may grant or revoke ``role`` on ``organization`` (SECURITY S10).

        - ``operator`` only by an operator whose node covers it;
        - ``admin`` / ``main_admin`` by the main administrator of the node or of a node above
          it, by any administrator of a node strictly above it, or by an operator;
        - the content roles by any administrator whose scope covers the node.
        """
        path = organization.path
        for grant in self.grants:
            if not path.startswith(grant.path):
                continue
            above = path != grant.path
            if grant.role == Role.OPERATOR:
                return True
            if role == Role.OPERATOR:
                continue
            if role in (Role.ADMIN, Role.MAIN_ADMIN):
                if grant.role == Role.MAIN_ADMIN or (grant.role == Role.ADMIN and above):
                    return True
            elif grant.role in ADMINISTRATIVE_ROLES:
                return True
        return False
