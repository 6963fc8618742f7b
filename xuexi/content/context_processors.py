"""Which groups of the console's menu the signed-in person may use, computed only if a page
shows the menu: the learning administrators' groups (组织与成员, 积分, 系统) and 内容 (editors
and operators, ``xuexi/content/access.py``). A menu nobody can use is not shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.http import HttpRequest

from xuexi.content.access import EDITING_ROLES
from xuexi.organizations.models import ADMINISTRATIVE_ROLES, RoleGrant


@dataclass(frozen=True)
class ConsoleMenu:
    admin: bool = False  # holds an administrative role (学习管理员, 主管理员, 运营人员)
    editor: bool = False  # edits content (编辑, 运营人员)


def console_menu(request: HttpRequest) -> dict[str, Callable[[], ConsoleMenu]]:
    """``console_menu``: a callable (one query, on first use) answering ``ConsoleMenu``."""

    @cache
    def menu() -> ConsoleMenu:
        user: Any = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return ConsoleMenu()
        roles = set(RoleGrant.objects.filter(user=user).values_list("role", flat=True))
        return ConsoleMenu(
            admin=bool(roles & ADMINISTRATIVE_ROLES), editor=bool(roles & EDITING_ROLES)
        )

    return {"console_menu": menu}
