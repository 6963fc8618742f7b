"""Administrator console pages for organisations (grown by the Organisations issue)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from xuexi.accounts.models import LoginResult
from xuexi.core.errors import Forbidden
from xuexi.organizations.access import access_login_events_as_admin


@login_required
def login_log(request: HttpRequest) -> HttpResponse:
    """登录日志: sign-ins of members in the administrator's scope, newest first."""
    try:
        events = access_login_events_as_admin(request.user)  # type: ignore[arg-type]
    except Forbidden as error:  # a member without a role gets the 403 page, not a 500
        raise PermissionDenied(error.message) from error
    events = events.select_related("user")
    result = request.GET.get("result", "")
    if result in LoginResult.values:
        events = events.filter(result=result)
    page = Paginator(events.order_by("-at", "-id"), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "organizations/login_log.html",
        {"page": page, "result": result, "results": LoginResult.choices},
    )
