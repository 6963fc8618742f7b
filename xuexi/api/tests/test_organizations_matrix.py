"""The persona matrix for every organisation route (SECURITY S8, issue "Organisations").

Each case names a route, how to build its request from the cast, and the exact status each
persona must get. The cast (conftest ``personas``): operator (platform), province_admin,
county_admin (县A), outsider (县B), branch_admin (支部A1, plain ``admin``), member (支部A1),
stranger (no organisation), and anonymous.
"""

from __future__ import annotations

from typing import Any

import pytest

from xuexi.core.models import AuditEntry
from xuexi.core.testing import Route, admin_scope, ask, org, sign_in_as
from xuexi.organizations.models import Invitation, JoinRequest, Membership, Organization
from xuexi.organizations.services import invitation_create, join_request_create

pytestmark = pytest.mark.django_db

PERSONAS = [
    "operator",
    "province_admin",
    "county_admin",
    "outsider",
    "branch_admin",
    "member",
    "stranger",
    "anonymous",
]


def member_of_a(p: dict[str, Any]) -> int:
    return p["member"].pk


def invitation_for_a(p: dict[str, Any]) -> Invitation:
    return invitation_create(actor=p["province_admin"], organization=p["orgs"]["branch_a"])


def pending_request_for_a(p: dict[str, Any]) -> JoinRequest:
    return join_request_create(user=p["stranger"], code=invitation_for_a(p).code)


CASES: dict[str, Route] = {
    "read organisation": Route(
        "get", lambda p: f"/api/v1/organizations/{org('branch_a')(p)}", None, admin_scope(200)
    ),
    "read county": Route(
        "get",
        lambda p: f"/api/v1/organizations/{org('county_a')(p)}",
        None,
        admin_scope(200, branch_admin=404),
    ),
    "list children": Route(
        "get",
        lambda p: f"/api/v1/organizations/{org('county_a')(p)}/children",
        None,
        admin_scope(200, branch_admin=404),
    ),
    "search": Route(
        "get",
        lambda p: "/api/v1/organizations/search?q=支部",
        None,
        admin_scope(200, outsider=200),
    ),
    "create child": Route(
        "post",
        lambda p: "/api/v1/organizations",
        lambda p: {"parent_id": org("branch_a")(p), "name": "第一学习小组", "kind": "group"},
        admin_scope(201),
    ),
    "rename": Route(
        "patch",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}",
        lambda p: {"name": "支部A1（更名）"},
        admin_scope(200),
    ),
    "move to the sibling county": Route(
        "patch",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}",
        lambda p: {"parent_id": org("county_b")(p)},
        admin_scope(200, county_admin=404, branch_admin=404),
    ),
    "close a node with members": Route(
        "patch",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}",
        lambda p: {"is_open": False},
        admin_scope(409, branch_admin=403),
    ),
    "list members": Route(
        "get",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}/members",
        None,
        admin_scope(200),
    ),
    "add member": Route(
        "post",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}/members",
        lambda p: {"phone": "13911112222", "real_name": "孙新人"},
        admin_scope(201),
    ),
    "rename member": Route(
        "patch",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}/members/{member_of_a(p)}",
        lambda p: {"real_name": "周更正"},
        admin_scope(200),
    ),
    "transfer member to the sibling county": Route(
        "patch",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}/members/{member_of_a(p)}",
        lambda p: {"organization_id": org("branch_b")(p)},
        admin_scope(200, county_admin=404, branch_admin=404),
    ),
    "remove member": Route(
        "delete",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}/members/{member_of_a(p)}",
        None,
        admin_scope(204),
    ),
    "appoint an administrator": Route(
        "post",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}/admins",
        lambda p: {"user_id": member_of_a(p)},
        admin_scope(201, branch_admin=403),
    ),
    "appoint a main administrator of county A": Route(
        "post",
        lambda p: f"/api/v1/organizations/{org('county_a')(p)}/admins",
        lambda p: {"user_id": member_of_a(p), "main": True},
        admin_scope(201, branch_admin=404),
    ),
    "list roles": Route(
        "get", lambda p: f"/api/v1/organizations/{org('branch_a')(p)}/roles", None, admin_scope(200)
    ),
    "audit log": Route(
        "get",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}/audit-log",
        None,
        admin_scope(200),
    ),
    "list invitations": Route(
        "get",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}/invitations",
        None,
        admin_scope(200),
    ),
    "create invitation": Route(
        "post",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}/invitations",
        lambda p: {"valid_days": 7},
        admin_scope(201),
    ),
    "disable invitation": Route(
        "post",
        lambda p: f"/api/v1/invitations/{invitation_for_a(p).pk}/disable",
        lambda p: {},
        admin_scope(200),
    ),
    "list join requests": Route(
        "get",
        lambda p: f"/api/v1/organizations/{org('branch_a')(p)}/join-requests",
        None,
        admin_scope(200),
    ),
    "approve join request": Route(
        "post",
        lambda p: f"/api/v1/join-requests/{pending_request_for_a(p).pk}/approve",
        lambda p: {"note": "欢迎"},
        admin_scope(200),
    ),
    "revoke the branch administrator": Route(
        "delete",
        lambda p: f"/api/v1/role-grants/{p['branch_admin'].role_grants.get().pk}",
        None,
        admin_scope(204, branch_admin=403),
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case_name", CASES)
def test_every_organisation_route_answers_each_persona_exactly(
    client, personas, case_name, persona
):
    case = CASES[case_name]
    response, audit_before = ask(
        client, personas, persona, case_name, case, AuditEntry.objects.count, json=True
    )
    if response.status_code >= 400:
        if case.method != "get":  # a refusal changes nothing, not even the audit log
            assert AuditEntry.objects.count() == audit_before
    elif case.method != "get":
        assert AuditEntry.objects.count() > audit_before


def test_a_county_admin_cannot_appoint_himself(client, personas):
    client.force_login(personas["county_admin"])
    response = client.post(
        f"/api/v1/organizations/{personas['orgs']['branch_a'].pk}/admins",
        {"user_id": personas["county_admin"].pk},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_a_county_admin_cannot_move_his_own_county(client, personas):
    client.force_login(personas["county_admin"])
    response = client.patch(
        f"/api/v1/organizations/{personas['orgs']['county_a'].pk}",
        {"parent_id": personas["orgs"]["county_a"].pk},
        content_type="application/json",
    )
    assert response.status_code in (403, 422)
    assert Organization.objects.get(pk=personas["orgs"]["county_a"].pk).path == (
        personas["orgs"]["county_a"].path
    )


def test_guessing_the_ids_of_the_sibling_county_reveals_nothing(client, personas):
    client.force_login(personas["county_admin"])
    b = personas["orgs"]["branch_b"]
    answers = [
        client.get(f"/api/v1/organizations/{b.pk}"),
        client.get(f"/api/v1/organizations/{b.pk}/members"),
        client.get(f"/api/v1/organizations/{b.pk}/audit-log"),
        client.get(f"/api/v1/organizations/{10**9}"),
    ]
    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert len({a.content for a in answers}) == 1  # existing and missing look the same


def test_the_member_list_masks_phones(client, personas):
    client.force_login(personas["county_admin"])
    items = client.get(f"/api/v1/organizations/{personas['orgs']['county_a'].pk}/members").json()[
        "items"
    ]
    assert items
    assert all("****" in item["phone"] for item in items)


def test_a_member_joins_by_code_and_is_placed_when_approved(client, personas):
    invitation = invitation_create(
        actor=personas["county_admin"], organization=personas["orgs"]["branch_a"]
    )
    client.force_login(personas["stranger"])
    created = client.post(
        "/api/v1/join-requests", {"code": invitation.code.lower()}, content_type="application/json"
    )
    assert created.status_code == 201
    assert client.get("/api/v1/me/join-requests").json()[0]["status"] == "pending"
    client.force_login(personas["county_admin"])
    decided = client.post(
        f"/api/v1/join-requests/{created.json()['id']}/approve",
        {"note": ""},
        content_type="application/json",
    )
    assert decided.json()["status"] == "approved"
    assert (
        Membership.objects.get(user=personas["stranger"], ended_at__isnull=True).organization
        == (personas["orgs"]["branch_a"])
    )


def roster_file(branch_code: str) -> bytes:
    """A one-row roster as a CSV upload (the reader sniffs the content, not the name)."""
    return f"姓名,手机号,所属组织（编码或路径）\n孙新人,13911112222,{branch_code}\n".encode()


ROSTER_EXPECT = admin_scope(200)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", ["roster-template", "roster-export"])
def test_roster_downloads_answer_each_persona_exactly(client, personas, persona, route):
    sign_in_as(client, personas, persona)
    response = client.get(f"/api/v1/organizations/{personas['orgs']['branch_a'].pk}/{route}")
    assert response.status_code == ROSTER_EXPECT[persona], (route, persona)


@pytest.mark.parametrize("persona", PERSONAS)
def test_roster_import_answers_each_persona_exactly(client, personas, persona):
    from django.core.files.uploadedfile import SimpleUploadedFile

    sign_in_as(client, personas, persona)
    branch = personas["orgs"]["branch_a"]
    upload = SimpleUploadedFile("名单.csv", roster_file(branch.code), content_type="text/csv")
    members_before = Membership.objects.count()
    response = client.post(f"/api/v1/organizations/{branch.pk}/roster-imports", {"file": upload})
    assert response.status_code == admin_scope(201)[persona], (persona, response.content[:300])
    grew = Membership.objects.count() - members_before
    assert grew == (1 if response.status_code == 201 else 0)


def test_a_county_admin_cannot_import_rows_naming_the_sibling_county(client, personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(personas["county_admin"])
    county_a, branch_b = personas["orgs"]["county_a"], personas["orgs"]["branch_b"]
    upload = SimpleUploadedFile("名单.csv", roster_file(branch_b.code), content_type="text/csv")
    response = client.post(f"/api/v1/organizations/{county_a.pk}/roster-imports", {"file": upload})
    assert response.status_code == 422
    assert response.json()["details"]["rows"][0]["field"] == "organization"
    assert not Membership.objects.filter(user__phone="13911112222").exists()


def test_bulk_exports_are_capped_per_administrator_per_day(client, personas, settings):
    settings.XUEXI_EXPORTS_PER_DAY = 2
    client.force_login(personas["county_admin"])
    path = f"/api/v1/organizations/{personas['orgs']['county_a'].pk}/roster-export"
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 429]
    assert AuditEntry.objects.filter(action="roster.export").count() == 2
    client.force_login(personas["province_admin"])  # another administrator has his own quota
    assert client.get(path).status_code == 200
