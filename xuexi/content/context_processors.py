"""Which groups of the console's menu the signed-in person may use, computed only if a page
shows the menu: the learning administrators' groups (组织与成员, 积分, 系统), 内容 (editors
and operators, ``xuexi/content/access.py``) and 答题 (operators on a root of the tree, the
rule of ``xuexi/quizzes/access.py``, which this lower app cannot import). A menu nobody can
use is not shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.http import HttpRequest

from xuexi.content.access import EDITING_ROLES
from xuexi.organizations.models import ADMINISTRATIVE_ROLES, Organization, Role, RoleGrant


@dataclass(frozen=True)
class ConsoleMenu:
    admin: bool = False  # holds an administrative role (学习管理员, 主管理员, 运营人员)
    editor: bool = False  # edits content (编辑, 运营人员)
    quizzes: bool = False  # manages the question bank and papers (运营人员 on a root)


def console_menu(request: HttpRequest) -> dict[str, Callable[[], ConsoleMenu]]:
    """``console_menu``: a callable (one query, on first use) answering ``ConsoleMenu``."""

    @cache
    def menu() -> ConsoleMenu:
        user: Any = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return ConsoleMenu()
        grants = list(RoleGrant.objects.filter(user=user).values_list("role", "organization__path"))
        roles = {role for role, _path in grants}
        return ConsoleMenu(
            admin=bool(roles & ADMINISTRATIVE_ROLES),
            editor=bool(roles & EDITING_ROLES),
            quizzes=any(
                role == Role.OPERATOR and len(path) == Organization.steplen for role, path in grants
            ),
        )

    return {"console_menu": menu}
