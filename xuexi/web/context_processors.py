"""What every page's shell needs: the tab bar's active tab and the signed-in member's name."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_noop

# The labels stay Chinese source strings here; the templates translate them ({% translate label %}).
TABS = [
    ("home", gettext_noop("学习"), "web:home"),
    ("videos", gettext_noop("视频"), "web:videos"),
    ("quizzes", gettext_noop("答题"), "web:quizzes"),
    ("me", gettext_noop("我的"), "web:me"),
]


def shell(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    return {"shell_tabs": TABS, "shell_current_tab": current}
