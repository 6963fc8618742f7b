"""Who edits which content: editors (编辑) and operators (运营人员) hold their role on a node of
the tree and edit the channels whose platform node lies in that subtree — the national channel
from the root, a province's local channel from the province's platform node.

``access_*_as_editor`` returns the object when it lies in the actor's editing scope, raises
``NotFound`` for an object outside it (existence is private) and ``Forbidden`` when the actor
edits nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.content.models import Account, Channel, Column, Item
from xuexi.core.errors import Forbidden, NotFound
from xuexi.organizations.models import Role, RoleGrant

EDITING_ROLES = frozenset({Role.EDITOR, Role.OPERATOR})


@dataclass(frozen=True)
class EditorScope:
    paths: tuple[str, ...]

    @classmethod
    def of(cls, user: User) -> EditorScope:
        if not getattr(user, "is_authenticated", False):
            return cls(())
        paths = RoleGrant.objects.filter(user=user, role__in=EDITING_ROLES).values_list(
            "organization__path", flat=True
        )
        return cls(tuple(sorted(set(paths))))

    @property
    def is_editor(self) -> bool:
        return bool(self.paths)

    def require_editor(self) -> None:
        if not self.is_editor:
            raise Forbidden(_("只有编辑或运营人员可以管理内容。"))

    def covers_path(self, path: str) -> bool:
        return any(path.startswith(p) for p in self.paths)

    def platform_filter(self, prefix: str) -> Q:
        """Rows whose channel's platform node lies in the scope (``prefix`` leads to the
        channel: ``""`` for Channel, ``"channel__"`` for Column, ``"column__channel__"`` for
        Item)."""
        condition = Q(pk__in=[])
        for path in self.paths:
            condition |= Q(**{f"{prefix}platform__path__startswith": path})
        return condition


def editable_channels(user: User) -> QuerySet[Channel]:
    scope = EditorScope.of(user)
    scope.require_editor()
    return Channel.objects.filter(scope.platform_filter("")).select_related("platform")


def editable_columns(user: User) -> QuerySet[Column]:
    scope = EditorScope.of(user)
    scope.require_editor()
    return Column.objects.filter(scope.platform_filter("channel__")).select_related("channel")


def editable_items(user: User) -> QuerySet[Item]:
    scope = EditorScope.of(user)
    scope.require_editor()
    return Item.objects.filter(scope.platform_filter("column__channel__")).select_related(
        "column", "column__channel", "account"
    )


def access_channel_as_editor(user: User, channel_id: int) -> Channel:
    channel = editable_channels(user).filter(pk=channel_id).first()
    if channel is None:
        raise NotFound(_("找不到该频道，或它不在您的管理范围内。"))
    return channel


def access_column_as_editor(user: User, column_id: int) -> Column:
    column = editable_columns(user).filter(pk=column_id).first()
    if column is None:
        raise NotFound(_("找不到该栏目，或它不在您的管理范围内。"))
    return column


def access_item_as_editor(user: User, item_id: int) -> Item:
    item = editable_items(user).filter(pk=item_id).first()
    if item is None:
        raise NotFound(_("找不到该内容，或它不在您的管理范围内。"))
    return item


def editable_accounts(user: User) -> QuerySet[Account]:
    """强国号 accounts an editor may publish under: those of organisations in his scope."""
    scope = EditorScope.of(user)
    scope.require_editor()
    condition = Q(pk__in=[])
    for path in scope.paths:
        condition |= Q(organization__path__startswith=path)
    return Account.objects.filter(condition, is_active=True)
