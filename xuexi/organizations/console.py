"""The preamble every administrators' console page shares (组织与成员, 积分, 内容管理, 题库 …).

Who asks, which page of a list, a number from the query string, where a row action returns
to, and rendering either as a full console page or as only its content inside the console's
dialog (``?dialog=1``). It lives here, below the apps whose console pages use it, because the
console's frame, its dialog and its administrators' scope are this app's.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from xuexi.accounts.models import User
from xuexi.organizations.access import access_organization_in_scope
from xuexi.organizations.models import Organization
from xuexi.organizations.scope import AdminScope

PAGE_SIZE = 20

# Query keys that say how to show a page, not what to list: left out of the pager's links.
_PRESENTATION_KEYS = ("page", "dialog", "partial")


def console_actor(request: HttpRequest) -> User:
    """The signed-in user (every console view is behind ``login_required``)."""
    return cast(User, request.user)


def console_admin_scope(request: HttpRequest) -> AdminScope:
    """The signed-in administrator's scope; ``Forbidden`` (403) for anyone who holds none."""
    scope = AdminScope.of(console_actor(request))
    scope.require_admin()
    return scope


def console_organization_as_admin(
    request: HttpRequest, org_id: int
) -> tuple[User, Organization, AdminScope]:
    """The administrator, the node ``org_id`` and his scope: what a page about one node starts
    with. ``Forbidden`` (403) for a non-administrator, ``NotFound`` (404) outside his scope."""
    scope = console_admin_scope(request)
    return scope.user, access_organization_in_scope(scope, org_id), scope


def console_page(request: HttpRequest, items: Any, size: int = PAGE_SIZE) -> Page[Any]:
    """The page of ``items`` that ``?page=`` asks for (the last one when past the end)."""
    return Paginator(items, size).get_page(request.GET.get("page"))


def query_int(value: str | None) -> int | None:
    """A filter's id from the query string, or ``None`` for anything but a plain number."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


def console_back(request: HttpRequest, fallback: str, *, prefix: str = "/console/") -> str:
    """Where an action returns to: ``next`` when it is a page under ``prefix`` on our own host
    (SECURITY S20: never an open redirect), else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def console_render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    section: str,
    status: int = 200,
) -> HttpResponse:
    """A console page, or only its content inside the console's dialog (``?dialog=1``).

    The template extends ``base_template``; ``querystring`` keeps the list's filters for the
    pager (``organizations/_pager.html``); ``console_section`` marks the side navigation.
    """
    dialog = request.GET.get("dialog") == "1"
    query = request.GET.copy()
    for key in _PRESENTATION_KEYS:
        query.pop(key, None)
    full: dict[str, Any] = {
        "querystring": query.urlencode(),
        "base_template": "organizations/_dialog.html" if dialog else "web/console_base.html",
        "console_section": section,
        "in_dialog": dialog,
        **context,
    }
    return render(request, template, full, status=status)
