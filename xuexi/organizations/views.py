"""Administrator console pages for organisations (grown by the Organisations issue)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from xuexi.accounts.models import LoginResult
from xuexi.organizations.access import access_login_events_as_admin


@login_required
def login_log(request: HttpRequest) -> HttpResponse:
    """登录日志: sign-ins of members in the administrator's scope, newest first."""
    # Outside any admin scope this raises Forbidden: DomainErrorPageMiddleware shows the 403 page.
    events = access_login_events_as_admin(request.user).select_related("user")  # type: ignore[arg-type]
    result = request.GET.get("result", "")
    if result in LoginResult.values:
        events = events.filter(result=result)
    page = Paginator(events.order_by("-at", "-id"), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "organizations/login_log.html",
        {"page": page, "result": result, "results": LoginResult.choices},
    )
