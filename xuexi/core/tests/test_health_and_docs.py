from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_the_openapi_document_lists_the_account_routes(client):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    for route in (
        "/api/v1/auth/sms-codes",
        "/api/v1/auth/register",
        "/api/v1/auth/token",
        "/api/v1/auth/token/revoke",
        "/api/v1/auth/password-reset",
        "/api/v1/me",
    ):
        assert route in paths


def test_the_api_docs_page_loads_its_assets_from_our_own_host(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_responses_carry_the_security_headers(client):
    response = client.get("/accounts/login/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_unknown_api_paths_and_methods_keep_the_error_shape(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    response = client.delete("/api/v1/auth/sms-codes")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "POST" in response["Allow"]
