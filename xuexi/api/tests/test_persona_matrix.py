"""Every administrative route asked the same questions by the same cast (SECURITY S8).

Add each new admin route to ROUTES with what each persona must get.
"""

from __future__ import annotations

import pytest

from xuexi.accounts.models import LoginEvent

pytestmark = pytest.mark.django_db

PERSONAS = [
    "operator",
    "province_admin",
    "county_admin",
    "outsider",
    "branch_admin",
    "member",
    "stranger",
]
ADMINS = {"operator", "province_admin", "county_admin", "outsider", "branch_admin"}

# route → expected status for administrators and for everyone else
ROUTES = {
    "/api/v1/login-events": (200, 403),
    "/console/login-log/": (200, 403),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", ROUTES)
def test_admin_routes_answer_each_persona_as_the_matrix_says(client, personas, persona, route):
    client.force_login(personas[persona])
    expected_admin, expected_other = ROUTES[route]
    expected = expected_admin if persona in ADMINS else expected_other
    assert client.get(route).status_code == expected


@pytest.mark.parametrize("route", ROUTES)
def test_admin_routes_refuse_anonymous_visitors(client, route):
    response = client.get(route)
    assert response.status_code in (302, 401)


def event_for(user) -> LoginEvent:
    return LoginEvent.objects.create(
        user=user, phone=user.phone, channel="web", method="password", result="success"
    )


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("operator", {"member", "member_b", "county_admin", "outsider", "stranger"}),
        ("province_admin", {"member", "member_b", "county_admin", "outsider"}),
        ("county_admin", {"member", "county_admin"}),
        ("outsider", {"member_b", "outsider"}),
        ("branch_admin", {"member"}),
    ],
)
def test_the_login_log_shows_only_members_inside_the_scope(client, personas, persona, sees):
    everyone = ("member", "member_b", "county_admin", "outsider", "stranger")
    events = {name: event_for(personas[name]) for name in everyone}
    client.force_login(personas[persona])
    items = client.get("/api/v1/login-events?limit=100").json()["items"]
    shown = {item["id"] for item in items}
    assert shown == {events[name].pk for name in sees}
    assert all("****" in item["phone"] for item in items)


@pytest.mark.parametrize(
    ("persona", "reachable"),
    [
        ("operator", {"root", "province", "county_a", "county_b", "branch_a", "branch_b"}),
        ("province_admin", {"province", "county_a", "county_b", "branch_a", "branch_b"}),
        ("county_admin", {"county_a", "branch_a"}),
        ("outsider", {"county_b", "branch_b"}),
        ("branch_admin", {"branch_a"}),
    ],
)
def test_an_organisation_is_reachable_only_inside_the_scope(personas, persona, reachable):
    from xuexi.core.errors import NotFound
    from xuexi.organizations.access import access_organization_as_admin

    for name in ("root", "province", "county_a", "county_b", "branch_a", "branch_b"):
        organization = personas["orgs"][name]
        if name in reachable:
            assert access_organization_as_admin(personas[persona], organization.pk) == organization
        else:
            with pytest.raises(NotFound):
                access_organization_as_admin(personas[persona], organization.pk)


def test_a_member_without_a_role_reaches_no_organisation(personas):
    from xuexi.core.errors import Forbidden
    from xuexi.organizations.access import access_organization_as_admin

    with pytest.raises(Forbidden):
        access_organization_as_admin(personas["member"], personas["orgs"]["branch_a"].pk)


# --- reports (docs/reports.md): routes on a node, asked of county A and of branch A1 ---------
# Administrators whose scope holds the node get 200, the sibling county's administrator 404
# (existence is private), anyone without an administrative role 403.

REPORT_ROUTES = [
    "/api/v1/organizations/{id}/reports/daily",
    "/api/v1/organizations/{id}/reports/members?status=not_learned",
    "/api/v1/organizations/{id}/reports/daily.xlsx",
    "/console/reports/organizations/{id}/",
    "/console/reports/organizations/{id}/members/?status=unregistered",
    "/console/reports/organizations/{id}/daily.xlsx",
]
REPORT_EXPECTED = {
    # persona: (county A, branch A1)
    "operator": (200, 200),
    "province_admin": (200, 200),
    "county_admin": (200, 200),
    "outsider": (404, 404),
    "branch_admin": (404, 200),
    "member": (403, 403),
    "stranger": (403, 403),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", REPORT_ROUTES)
def test_report_routes_answer_each_persona_as_the_matrix_says(client, personas, persona, route):
    client.force_login(personas[persona])
    for node, expected in zip(("county_a", "branch_a"), REPORT_EXPECTED[persona], strict=True):
        url = route.format(id=personas["orgs"][node].pk)
        assert client.get(url).status_code == expected, (persona, url)


@pytest.mark.parametrize("route", REPORT_ROUTES)
def test_report_routes_refuse_anonymous_visitors(client, personas, route):
    response = client.get(route.format(id=personas["orgs"]["county_a"].pk))
    assert response.status_code in (302, 401)


def test_the_reports_index_leads_each_administrator_to_his_own_top_node(client, personas):
    for persona, node in (("county_admin", "county_a"), ("branch_admin", "branch_a")):
        client.force_login(personas[persona])
        response = client.get("/console/reports/")
        assert (
            response["Location"] == f"/console/reports/organizations/{personas['orgs'][node].pk}/"
        )
    client.force_login(personas["member"])
    assert client.get("/console/reports/").status_code == 403
