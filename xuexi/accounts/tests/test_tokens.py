"""API tokens: short-lived access, revocable refresh, logout (SECURITY S5)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from xuexi.accounts.models import ApiToken
from xuexi.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
START = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def sign_in(client):
    response = client.post(
        "/api/v1/auth/token",
        {"phone": PHONE, "password": DEFAULT_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    return response.json()


def me(client, access):
    return client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}")


def refresh(client, refresh_token):
    return client.post(
        "/api/v1/auth/token/refresh",
        {"refresh_token": refresh_token},
        content_type="application/json",
    )


def test_tokens_are_stored_only_as_hashes(client):
    UserFactory.create(phone=PHONE)
    pair = sign_in(client)
    stored = set(ApiToken.objects.values_list("token_hash", flat=True))
    assert pair["access_token"] not in stored
    assert pair["refresh_token"] not in stored
    assert len(stored) == 2


def test_an_access_token_expires_after_an_hour(client):
    UserFactory.create(phone=PHONE)
    with time_machine.travel(START, tick=False) as clock:
        pair = sign_in(client)
        clock.shift(dt.timedelta(minutes=59))
        assert me(client, pair["access_token"]).status_code == 200
        clock.shift(dt.timedelta(minutes=2))
        response = me(client, pair["access_token"])
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_a_refresh_token_rotates_and_cannot_be_used_twice(client):
    UserFactory.create(phone=PHONE)
    pair = sign_in(client)
    rotated = refresh(client, pair["refresh_token"])
    assert rotated.status_code == 200
    new = rotated.json()
    assert me(client, new["access_token"]).status_code == 200
    assert me(client, pair["access_token"]).status_code == 401  # the old pair is revoked
    reused = refresh(client, pair["refresh_token"])
    assert reused.status_code == 401
    assert reused.json()["code"] == "invalid_refresh_token"


def test_a_refresh_token_expires_after_thirty_days(client):
    UserFactory.create(phone=PHONE)
    with time_machine.travel(START, tick=False) as clock:
        pair = sign_in(client)
        clock.shift(dt.timedelta(days=30, seconds=1))
        assert refresh(client, pair["refresh_token"]).status_code == 401


def test_logout_revokes_the_access_and_refresh_tokens(client):
    UserFactory.create(phone=PHONE)
    pair = sign_in(client)
    response = client.post(
        "/api/v1/auth/token/revoke", HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}"
    )
    assert response.status_code == 204
    assert me(client, pair["access_token"]).status_code == 401
    assert refresh(client, pair["refresh_token"]).status_code == 401


def test_a_refresh_token_is_not_an_access_token(client):
    UserFactory.create(phone=PHONE)
    pair = sign_in(client)
    assert me(client, pair["refresh_token"]).status_code == 401


def test_a_deactivated_member_loses_api_access(client):
    user = UserFactory.create(phone=PHONE)
    pair = sign_in(client)
    user.is_active = False
    user.save()
    assert me(client, pair["access_token"]).status_code == 401


def test_me_shows_the_full_number_organisation_path_and_roles(client):
    from xuexi.organizations.models import Organization
    from xuexi.organizations.services import membership_place, role_grant

    user = UserFactory.create(phone=PHONE, real_name="李红梅")
    root = Organization.objects.add_root({"name": "示范省", "kind": "province", "code": "T-P"})
    branch = Organization.objects.add_child(
        root, {"name": "第一党支部", "kind": "branch", "code": "T-B1"}
    )
    membership_place(user=user, organization=branch)
    role_grant(user=user, organization=branch, role="admin", granted_by=None)
    body = me(client, sign_in(client)["access_token"]).json()
    assert body["phone"] == PHONE
    assert body["real_name"] == "李红梅"
    assert body["organization"] == {
        "id": branch.pk,
        "name": "第一党支部",
        "path_names": ["示范省", "第一党支部"],
    }
    assert body["roles"] == [{"role": "admin", "organization_id": branch.pk}]
