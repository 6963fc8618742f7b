"""Daily login points: the first authenticated page of the member's day pays ``login``."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from xuexi.points.services import points_award_daily_login


class DailyLoginPointsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            points_award_daily_login(user)
        return self.get_response(request)
