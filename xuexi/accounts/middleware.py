"""Session lifetimes by role (SECURITY S5).

Members: 30 minutes idle (``SESSION_COOKIE_AGE`` renewed on every request).
Administrators: 15 minutes idle and 12 hours from sign-in, whatever the activity.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

LOGIN_AT_KEY = "xuexi_login_at"


class SessionExpiryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "is_administrator", False):
            login_at = request.session.get(LOGIN_AT_KEY)
            if login_at is None or time.time() - login_at > settings.XUEXI_ADMIN_SESSION_ABSOLUTE:
                logout(request)
            else:
                request.session.set_expiry(settings.XUEXI_ADMIN_SESSION_IDLE)
        return self.get_response(request)


def mark_session_start(sender: object, request: HttpRequest, **kwargs: object) -> None:
    """``user_logged_in`` receiver: starts the absolute lifetime of every new session."""
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT_KEY] = time.time()
