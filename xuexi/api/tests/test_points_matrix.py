"""The persona matrix for every points administration route, API and console (SECURITY S8).

Cast (conftest ``personas``): operator (platform), province_admin, county_admin (县A, main
administrator and member of 县A), outsider (县B's main administrator, member of 县B),
branch_admin (支部A1, plain administrator and member), member (支部A1), member_b (支部B1),
stranger (no organisation), anonymous. Every object acted on lies in county A.

Rankings are also readable by members for their own organisation and the nodes above it
(docs/rankings.md): a member of 支部A1 reads 支部A1, 县A and above; a member of 支部B1 gets 404
for county A's nodes; someone with no organisation and no role gets 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from xuexi.core.models import AuditEntry
from xuexi.core.testing import Route, admin_scope, ask, console_path, org
from xuexi.core.time import business_day
from xuexi.points import activities, services
from xuexi.points import forms as ruleset_forms
from xuexi.points.models import Activity, LedgerEntry, RuleSet
from xuexi.points.tests.conftest import TEST_RULES, install

pytestmark = pytest.mark.django_db

PERSONAS = [
    "operator",
    "province_admin",
    "county_admin",
    "outsider",
    "branch_admin",
    "member",
    "member_b",
    "stranger",
    "anonymous",
]


@pytest.fixture(autouse=True)
def _test_rules(db: Any) -> None:
    RuleSet.objects.all().delete()
    install(TEST_RULES, dt.date(2020, 1, 1))


def ranking_route(**overrides: int) -> dict[str, int]:
    """Rankings of a node in county A: administrators in scope and members of the chain 200."""
    return admin_scope(200, **{"member": 200, "member_b": 404, **overrides})


def activity_in_a(p: dict[str, Any]) -> Activity:
    return activities.activity_record(
        actor=p["county_admin"],
        organization=p["orgs"]["branch_a"],
        title="专题党课",
        kind="party_lecture",
        held_on=business_day(),
        attendee_ids=[p["member"].pk],
        points=2,
    )


def paid_entries() -> int:
    """Ledger entries other than the daily login the middleware pays on a first request."""
    return LedgerEntry.objects.exclude(rule="login").count()


def counts() -> tuple[int, int]:
    """Audit entries and paid ledger entries: what an API route may add."""
    return AuditEntry.objects.count(), paid_entries()


def activity_body(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "主题党日",
        "kind": "party_day",
        "held_on": business_day().isoformat(),
        "attendee_ids": [p["member"].pk, p["branch_admin"].pk],
        "points": 3,
    }


API = "/api/v1"
CASES: dict[str, Route] = {
    "member rankings of branch A": Route(
        "get",
        lambda p: f"{API}/organizations/{org('branch_a')(p)}/rankings?of=members",
        None,
        ranking_route(),
    ),
    "organisation rankings of county A by week": Route(
        "get",
        lambda p: (
            f"{API}/organizations/{org('county_a')(p)}/rankings"
            f"?of=organizations&period=week&by=per_member&date={business_day()}"
        ),
        None,
        ranking_route(),
    ),
    "member rankings of the city (above county B too)": Route(
        "get",
        lambda p: f"{API}/organizations/{org('city')(p)}/rankings?period=year",
        None,
        ranking_route(county_admin=200, branch_admin=200, outsider=200, member_b=200),
    ),
    "rankings of county B": Route(
        "get",
        lambda p: f"{API}/organizations/{org('county_b')(p)}/rankings",
        None,
        ranking_route(outsider=200, county_admin=404, branch_admin=404, member=404, member_b=200),
    ),
    "list activities": Route(
        "get",
        lambda p: f"{API}/organizations/{org('branch_a')(p)}/activities",
        None,
        admin_scope(200),
    ),
    "record an activity": Route(
        "post",
        lambda p: f"{API}/organizations/{org('branch_a')(p)}/activities",
        activity_body,
        admin_scope(201),
    ),
    "record an activity for county A": Route(
        "post",
        lambda p: f"{API}/organizations/{org('county_a')(p)}/activities",
        activity_body,
        admin_scope(201, branch_admin=404),
    ),
    "read an activity": Route(
        "get", lambda p: f"{API}/activities/{activity_in_a(p).pk}", None, admin_scope(200)
    ),
    "reverse an activity": Route(
        "post",
        lambda p: f"{API}/activities/{activity_in_a(p).pk}/reverse",
        lambda p: {"reason": "签到有误"},
        admin_scope(200),
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case_name", CASES)
def test_every_points_api_route_answers_each_persona_exactly(client, personas, case_name, persona):
    case = CASES[case_name]
    response, (audit_before, ledger_before) = ask(
        client, personas, persona, case_name, case, counts, json=True
    )
    if response.status_code >= 400:
        if case.method != "get":  # a refusal changes nothing
            assert AuditEntry.objects.count() == audit_before
            assert paid_entries() == ledger_before
    elif case.method != "get":
        assert AuditEntry.objects.count() == audit_before + 1
        assert paid_entries() > ledger_before


def test_recording_through_the_api_reports_what_each_attendee_got(client, personas):
    client.force_login(personas["county_admin"])
    response = client.post(
        f"{API}/organizations/{personas['orgs']['branch_a'].pk}/activities",
        {**activity_body(personas), "points": 10},
        content_type="application/json",
    )
    assert response.status_code == 201
    data = response.json()
    assert (data["attendee_count"], data["points_paid"], data["trimmed"]) == (2, 20, 0)
    assert {a["member_id"]: a["points_paid"] for a in data["attendees"]} == {
        personas["member"].pk: 10,
        personas["branch_admin"].pk: 10,
    }
    again = client.post(
        f"{API}/organizations/{personas['orgs']['branch_a'].pk}/activities",
        {**activity_body(personas), "title": "第二场", "points": 10,
         "attendee_ids": [personas["member"].pk]},
        content_type="application/json",
    )  # fmt: skip
    assert again.status_code == 201
    assert again.json()["attendees"][0]["points_paid"] == 10
    third = client.post(
        f"{API}/organizations/{personas['orgs']['branch_a'].pk}/activities",
        {**activity_body(personas), "title": "第三场", "points": 5,
         "attendee_ids": [personas["member"].pk]},
        content_type="application/json",
    )  # fmt: skip
    assert (third.json()["unpaid"], third.json()["attendees"][0]["reason"]) == (1, "capped")


def test_an_attendee_of_the_sibling_county_refuses_the_whole_request(client, personas):
    client.force_login(personas["province_admin"])
    before = (Activity.objects.count(), paid_entries(), AuditEntry.objects.count())
    response = client.post(
        f"{API}/organizations/{personas['orgs']['branch_a'].pk}/activities",
        {**activity_body(personas), "attendee_ids": [personas["member"].pk,
                                                      personas["member_b"].pk]},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 422
    assert "attendee_ids" in response.json()["details"]["fields"]
    assert (Activity.objects.count(), paid_entries(), AuditEntry.objects.count()) == before


def test_bad_activity_input_gets_422(client, personas):
    client.force_login(personas["county_admin"])
    path = f"{API}/organizations/{personas['orgs']['branch_a'].pk}/activities"
    changes: list[dict[str, Any]] = [
        {"kind": "banquet"},
        {"points": 0},
        {"points": 99},
        {"held_on": "2020-13-01"},
        {"held_on": (business_day() + dt.timedelta(days=1)).isoformat()},
        {"attendee_ids": []},
    ]
    for change in changes:
        response = client.post(
            path, {**activity_body(personas), **change}, content_type="application/json"
        )
        assert response.status_code == 422, change
    assert not Activity.objects.exists()


def test_reversing_twice_is_a_conflict(client, personas):
    activity = activity_in_a(personas)
    client.force_login(personas["county_admin"])
    path = f"{API}/activities/{activity.pk}/reverse"
    first = client.post(path, {"reason": "重复登记"}, content_type="application/json")
    assert first.status_code == 200
    assert first.json()["attendees"][0]["reversed"] is True
    audit_before = AuditEntry.objects.count()
    second = client.post(path, {"reason": "再撤一次"}, content_type="application/json")
    assert (second.status_code, second.json()["code"]) == (409, "already_reversed")
    assert AuditEntry.objects.count() == audit_before


def test_member_rankings_switched_off_answer_403_and_organisations_still_answer(client, personas):
    from xuexi.points.rankings import ranking_setting_update

    ranking_setting_update(actor=personas["operator"], organization=None, members_visible=False)
    client.force_login(personas["member"])
    county = personas["orgs"]["county_a"].pk
    off = client.get(f"{API}/organizations/{county}/rankings?of=members")
    assert (off.status_code, off.json()["code"]) == (403, "member_rankings_off")
    on = client.get(f"{API}/organizations/{county}/rankings?of=organizations")
    assert on.status_code == 200
    assert [row["name"] for row in on.json()] == ["支部A1"]


def test_rankings_answer_the_api_shape_with_shared_ranks(client, personas):
    for name in ("member", "branch_admin"):
        activities.activity_record(
            actor=personas["county_admin"],
            organization=personas["orgs"]["branch_a"],
            title=f"党课{name}",
            kind="party_lecture",
            held_on=business_day(),
            attendee_ids=[personas[name].pk],
            points=4,
        )
    client.force_login(personas["province_admin"])  # his login point lands in the province
    rows = client.get(
        f"{API}/organizations/{personas['orgs']['county_a'].pk}/rankings?of=members"
    ).json()
    assert [(row["rank"], row["points"]) for row in rows] == [(1, 4), (1, 4)]
    assert {"rank", "id", "name", "points", "organization"} <= set(rows[0])
    assert all("phone" not in row for row in rows)
    bad = client.get(f"{API}/organizations/{personas['orgs']['county_a'].pk}/rankings?period=hour")
    assert bad.status_code == 422


# --- console pages ------------------------------------------------------------------------------


def console(allowed: int, **overrides: int) -> dict[str, int]:
    """Console pages: like the API, but anonymous visitors are sent to sign in (302)."""
    return admin_scope(allowed, anonymous=302, **overrides)


def record_form(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "go": "record",
        "title": "七一专题党课",
        "kind": "party_lecture",
        "held_on": business_day().isoformat(),
        "place": "",
        "points": "2",
        "attendee_ids": [str(p["member"].pk)],
    }


def ruleset_page(allowed: int, **overrides: int) -> dict[str, int]:
    """积分规则 pages: every administrator reads them, the sibling county's too (rule sets
    are platform-wide); members 403; anonymous visitors sent to sign in."""
    return console(allowed, outsider=allowed, **overrides)


def operator_page(allowed: int) -> dict[str, int]:
    """Changing rule sets: the platform operator only; every other administrator 403."""
    return console(403, operator=allowed, outsider=403)


def ruleset_in_force(p: dict[str, Any]) -> RuleSet:
    return RuleSet.objects.get()  # the one the autouse fixture installs


def ruleset_scheduled(p: dict[str, Any]) -> RuleSet:
    return services.ruleset_schedule(
        actor=p["operator"],
        data={**TEST_RULES, "ruleset": {**TEST_RULES["ruleset"], "code": "next"}},
        effective_from=business_day() + dt.timedelta(days=3),
    )


def ruleset_form(p: dict[str, Any]) -> dict[str, Any]:
    """The editor's post with the table left empty: the whole set comes from the JSON text."""
    data = ruleset_forms.editable_data(TEST_RULES)
    return {
        "go": "save",
        "code": "matrix",
        "title": "矩阵测试规则",
        "effective_from": (business_day() + dt.timedelta(days=30)).isoformat(),
        "note": "",
        "rules": ruleset_forms.data_json(data),
        "base": "",
        "rule-TOTAL_FORMS": "0",
        "rule-INITIAL_FORMS": "0",
        "rule-MIN_NUM_FORMS": "0",
        "rule-MAX_NUM_FORMS": "1000",
    }


PAGES: dict[str, Route] = {
    "activities index": Route(
        "get",
        console_path("points_activities_index"),
        None,
        console(302, outsider=302),  # to his own top node
    ),
    "activities of branch A": Route(
        "get", console_path("points_activities", org("branch_a")), None, console(200)
    ),
    "activity form": Route(
        "get", console_path("points_activity_create", org("branch_a")), None, console(200)
    ),
    "record an activity": Route(
        "post", console_path("points_activity_create", org("branch_a")), record_form, console(302)
    ),
    "activity detail": Route(
        "get", console_path("points_activity", activity_in_a), None, console(200)
    ),
    "reverse form": Route(
        "get", console_path("points_activity_reverse", activity_in_a), None, console(200)
    ),
    "reverse an activity": Route(
        "post",
        console_path("points_activity_reverse", activity_in_a),
        lambda p: {"reason": "签到有误"},
        console(302),
    ),
    "rankings index": Route(
        "get", console_path("points_rankings_index"), None, console(302, outsider=302)
    ),
    "rankings of branch A": Route(
        "get", console_path("points_rankings", org("branch_a")), None, console(200)
    ),
    "organisation rankings of county A": Route(
        "get",
        console_path(
            "points_rankings", org("county_a"), "?of=organizations&period=month&by=per_member"
        ),
        None,
        console(200, branch_admin=404),
    ),
    "ranking setting form": Route(
        "get", console_path("points_ranking_setting", org("branch_a")), None, console(200)
    ),
    # A plain administrator (branch_admin) sees the form again with the refusal; nothing saved.
    "switch branch A off": Route(
        "post",
        console_path("points_ranking_setting", org("branch_a")),
        lambda p: {"target": "node", "members_visible": "0"},
        console(302, branch_admin=200),
    ),
    # Only operators of a root node switch the platform; the rest see the refusal in the form.
    "switch the platform off": Route(
        "post",
        console_path("points_ranking_setting", org("branch_a")),
        lambda p: {"target": "platform", "members_visible": "0"},
        console(200, operator=302),
    ),
    # 积分规则: readable by every administrator, changed by the platform operator only.
    "rule sets": Route("get", console_path("points_rulesets"), None, ruleset_page(200)),
    "a rule set": Route(
        "get", console_path("points_ruleset", ruleset_in_force), None, ruleset_page(200)
    ),
    "a scheduled rule set": Route(
        "get", console_path("points_ruleset", ruleset_scheduled), None, ruleset_page(200)
    ),
    "rule set editor": Route(
        "get", console_path("points_ruleset_create"), None, operator_page(200)
    ),
    "schedule a rule set": Route(
        "post", console_path("points_ruleset_create"), ruleset_form, operator_page(302)
    ),
    "withdrawal form": Route(
        "get", console_path("points_ruleset_withdraw", ruleset_scheduled), None, operator_page(200)
    ),
    "withdraw a scheduled rule set": Route(
        "post", console_path("points_ruleset_withdraw", ruleset_scheduled), None, operator_page(302)
    ),
    # A set in force is never withdrawn: the operator sees the refusal, nothing changes.
    "withdraw the rule set in force": Route(
        "post", console_path("points_ruleset_withdraw", ruleset_in_force), None, operator_page(200)
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page_name", PAGES)
def test_every_points_console_page_answers_each_persona_exactly(
    client, personas, page_name, persona
):
    page = PAGES[page_name]
    response, audit_before = ask(
        client, personas, persona, page_name, page, AuditEntry.objects.count
    )
    wrote = AuditEntry.objects.count() - audit_before
    if persona == "anonymous":
        assert "/accounts/" in response["Location"]
        assert wrote == 0
    elif page.method == "post":
        assert wrote == (1 if response.status_code == 302 else 0), (page_name, persona)


def test_the_console_form_keeps_the_choice_across_a_search_and_records_it(client, personas):
    client.force_login(personas["county_admin"])
    url = reverse("console:points_activity_create", args=[personas["orgs"]["county_a"].pk])
    searched = client.post(
        url,
        {**record_form(personas), "go": "search", "q": personas["branch_admin"].real_name},
    )
    assert searched.status_code == 200
    content = searched.content.decode()
    assert f'name="attendee_ids" value="{personas["member"].pk}"' in content  # kept, hidden
    assert "七一专题党课" in content
    assert not Activity.objects.exists()
    recorded = client.post(
        url,
        {
            **record_form(personas),
            "attendee_ids": [str(personas["member"].pk), str(personas["branch_admin"].pk)],
        },
    )
    assert recorded.status_code == 302
    activity = Activity.objects.get()
    assert recorded["Location"] == reverse("console:points_activity", args=[activity.pk])
    assert activities.activity_summary(activity).attendees == 2
    detail = client.get(recorded["Location"])
    assert "七一专题党课" in detail.content.decode()


def test_the_console_ranking_page_says_when_personal_rankings_are_off(client, personas):
    from xuexi.points.rankings import ranking_setting_update

    ranking_setting_update(
        actor=personas["county_admin"],
        organization=personas["orgs"]["county_a"],
        members_visible=False,
    )
    client.force_login(personas["county_admin"])
    page = client.get(reverse("console:points_rankings", args=[personas["orgs"]["branch_a"].pk]))
    assert page.status_code == 200
    assert "个人积分排行已关闭" in page.content.decode()
