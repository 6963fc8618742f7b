"""django-axes hooks: cool-off by role and the 423 answer (SECURITY S4)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext

from xuexi.accounts.models import User
from xuexi.core.errors import AccountLocked

MEMBER_COOLOFF = dt.timedelta(minutes=15)
ADMIN_COOLOFF = dt.timedelta(minutes=30)


def username_from(request: HttpRequest | None, credentials: dict | None) -> str | None:
    """The account a sign-in attempt is for, whichever login form or API sent it."""
    for source in (credentials or {}, getattr(request, "POST", {}) or {}):
        for key in ("phone", "username"):
            if source.get(key):
                return str(source[key])
    return None


def cooloff_for(request: HttpRequest | None) -> dt.timedelta:
    """Members are locked for 15 minutes, administrators for 30."""
    phone = getattr(request, "xuexi_login_phone", None) if request is not None else None
    if phone and User.objects.filter(phone=phone, is_administrator=True).exists():
        return ADMIN_COOLOFF
    return MEMBER_COOLOFF


def locked_out_response(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    minutes = int(cooloff_for(request).total_seconds() // 60)
    message = ngettext(
        "登录失败次数过多，账号已锁定 %(minutes)s 分钟。可稍后再试，或通过短信验证码重置密码解锁。",
        "登录失败次数过多，账号已锁定 %(minutes)s 分钟。可稍后再试，或通过短信验证码重置密码解锁。",
        minutes,
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": AccountLocked.code, "message": message, "details": {"minutes": minutes}},
            status=423,
        )
    return render(request, "accounts/locked.html", {"message": message}, status=423)
