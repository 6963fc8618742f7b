"""The member shell: 学习 / 视频 / 答题 / 我的, and the health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from xuexi.accounts.consent import PRIVACY_NOTICE_VERSION
from xuexi.content import views as reader
from xuexi.organizations.models import ADMINISTRATIVE_ROLES
from xuexi.organizations.selectors import (
    membership_current,
    organization_path_names,
    role_grants_of,
)
from xuexi.quizzes import views as quiz_pages


def home(request: HttpRequest) -> HttpResponse:
    """学习: public. The greeting (or the visitors' hero), 焦点 and the feed with its tabs
    (``?tab=``): drawn by the reader (``xuexi.content.views.home_page``)."""
    return reader.home_page(request, tab=request.GET.get("tab"))


@login_required
def videos(request: HttpRequest) -> HttpResponse:
    """视频 (视听学习): videos and audio as a grid (``xuexi.content.views.media_page``)."""
    return reader.media_page(request)


@login_required
def quizzes(request: HttpRequest) -> HttpResponse:
    """答题: the four kinds, the weekly sets and special papers, accuracy and 错题本 (drawn by
    ``xuexi.quizzes.views.home_page``)."""
    return quiz_pages.home_page(request)


@login_required
def me(request: HttpRequest) -> HttpResponse:
    user = request.user
    membership = membership_current(user)  # type: ignore[arg-type]
    path_names = organization_path_names(membership.organization) if membership else []
    grants = list(role_grants_of(user).select_related("organization"))  # type: ignore[arg-type]
    return render(
        request,
        "web/me.html",
        {
            "membership": membership,
            "path_names": path_names,
            "grants": grants,
            # The 登录日志 entry is shown only to those whom the console would let in.
            "can_open_console": any(grant.role in ADMINISTRATIVE_ROLES for grant in grants),
        },
    )


def privacy(request: HttpRequest) -> HttpResponse:
    """隐私政策: public, so it can be read before registering."""
    return render(request, "web/privacy.html", {"version": PRIVACY_NOTICE_VERSION})


def terms(request: HttpRequest) -> HttpResponse:
    """用户协议: public."""
    return render(request, "web/terms.html", {"version": PRIVACY_NOTICE_VERSION})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: the database answers a query and the cache a round trip."""
    checks = {"status": "ok", "database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any failure means "not ready"; the body says which part
        checks["database"] = "error"
    try:
        cache.set("healthz", "1", 5)
        if cache.get("healthz") != "1":
            checks["cache"] = "error"
    except Exception:
        checks["cache"] = "error"
    healthy = checks["database"] == "ok" and checks["cache"] == "ok"
    if not healthy:
        checks["status"] = "error"
    return JsonResponse(checks, status=200 if healthy else 503)
