"""What the console shell needs on every console page, computed only if a page shows it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.http import HttpRequest

from xuexi.organizations.scope import AdminScope
from xuexi.organizations.selectors import join_requests_pending_under


def console(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """``console_pending``: join requests waiting in the administrator's scope (the sidebar's
    badge). A callable, so member pages that never show it never run its query."""

    @cache
    def pending() -> int:
        user: Any = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_administrator:
            return 0
        scope = AdminScope.of(user)
        return join_requests_pending_under(scope.root_paths).count() if scope.is_admin else 0

    return {"console_pending": pending}
