"""What every page's shell needs: the tab bar's active tab and the signed-in member's name."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

TABS = [
    ("home", "学习", "web:home"),
    ("videos", "视频", "web:videos"),
    ("quizzes", "答题", "web:quizzes"),
    ("me", "我的", "web:me"),
]


def shell(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    return {"shell_tabs": TABS, "shell_current_tab": current}
