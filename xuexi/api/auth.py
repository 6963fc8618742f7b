"""API authentication: Bearer tokens for apps, the Django session (with CSRF) for the web UI."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from xuexi.accounts.services import token_user
from xuexi.points.services import points_award_daily_login


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_user(token)
        if user is None:
            return None
        request.user = user
        request.api_token = token  # type: ignore[attr-defined]
        points_award_daily_login(user)  # an app's first call of the day is its daily login
        return user


# Deny by default (SECURITY S7): every operation needs one of these unless it says auth=None.
DEFAULT_AUTH = [BearerToken(), SessionAuth(csrf=True)]
