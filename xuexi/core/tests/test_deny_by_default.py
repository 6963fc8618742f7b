"""SECURITY S7: every route needs authentication unless it is on the short public list.

The test walks the URL resolver and asks every route without a session or token, so a route
added later without protection fails here.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Routes anyone may open: signing in and up, health, API docs, static assets.
PUBLIC = {
    "/",
    "/healthz",
    "/privacy/",
    "/terms/",
    "/api/v1/auth/privacy-notice",
    "/accounts/login/",
    "/accounts/register/",
    "/accounts/password-reset/",
    "/accounts/sms-code/",
    "/accounts/logout/",
    "/i18n/setlang/",
    "/api/v1/auth/sms-codes",
    "/api/v1/auth/register",
    "/api/v1/auth/token",
    "/api/v1/auth/token/refresh",
    "/api/v1/auth/password-reset",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/django-admin/login/",
}
PUBLIC_PREFIXES = ("/django-admin/",)  # Django's admin has its own login wall, checked below
CAPTCHA = "/captcha/"  # the sign-in page's picture captcha: served to anyone, unknown keys 404


def concrete_paths(patterns: list, prefix: str = "") -> list[str]:
    """Every route with its converters filled by 1 (ids) or "x" (slugs and strings)."""
    paths: list[str] = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        route = re.sub(r"<int:[^>]+>", "1", route)
        route = re.sub(r"<[^>]+>", "x", route)
        route = route.lstrip("^").replace("\\Z", "").replace("$", "")
        if isinstance(entry, URLResolver):
            paths += concrete_paths(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and not re.search(r"[\\(\[?*+]", route):
            paths.append("/" + route)
    return sorted(set(paths))


ALL_PATHS = concrete_paths(get_resolver().url_patterns)


def test_the_resolver_walk_finds_the_known_routes():
    assert {"/me/", "/api/v1/me", "/console/login-log/"} <= set(ALL_PATHS)


@pytest.mark.parametrize("path", [p for p in ALL_PATHS if p not in PUBLIC])
def test_a_private_route_refuses_an_anonymous_visitor(client, path):
    if path.startswith(CAPTCHA):
        assert client.get(path).status_code in (200, 404), path
        return
    if path.startswith(PUBLIC_PREFIXES):
        response = client.get(path)
        assert response.status_code in (302, 404), path
        return
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert response.status_code in (302, 401, 403, 404, 405), (method, path)
        if response.status_code == 302:
            assert "/login/" in response["Location"], path
