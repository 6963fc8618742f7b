"""Session lifetimes by role (SECURITY S5).

Members: 30 minutes idle (``SESSION_COOKIE_AGE``). Administrators: 15 minutes idle and 12
hours from sign-in, whatever the activity.

Activity renews a session at most once a minute (``RENEW_EVERY``), not on every request: a
renewal is a write of the session (and of its cookie), and a member reading pages would
otherwise pay one database write per page. A session may so end up to a minute before its
idle time has passed since the very last request, never after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

LOGIN_AT_KEY = "xuexi_login_at"
RENEWED_AT_KEY = "xuexi_renewed_at"
RENEW_EVERY = 60  # seconds


class SessionExpiryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "is_administrator", False):
            login_at = request.session.get(LOGIN_AT_KEY)
            if login_at is None or time.time() - login_at > settings.XUEXI_ADMIN_SESSION_ABSOLUTE:
                logout(request)
            elif request.session.get_expiry_age() != settings.XUEXI_ADMIN_SESSION_IDLE:
                request.session.set_expiry(settings.XUEXI_ADMIN_SESSION_IDLE)
        _renew_when_due(request)
        return self.get_response(request)


def _renew_when_due(request: HttpRequest) -> None:
    """Mark a signed-in session modified when its last renewal is a minute old, so that the
    session middleware saves it with a fresh expiry. A visitor without a session gets none."""
    session = getattr(request, "session", None)
    if session is None or session.session_key is None or session.is_empty():
        return
    now = time.time()
    if now - session.get(RENEWED_AT_KEY, 0) >= RENEW_EVERY:
        session[RENEWED_AT_KEY] = now


def mark_session_start(sender: object, request: HttpRequest, **kwargs: object) -> None:
    """``user_logged_in`` receiver: starts the absolute lifetime of every new session."""
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT_KEY] = time.time()
