"""/me/points/today, /me/points/summary and /me/points/ledger (API.md, Points)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client

from xuexi.accounts.models import User
from xuexi.accounts.tests.factories import UserFactory
from xuexi.points import scoring
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.services import points_award, points_reverse
from xuexi.points.tests.conftest import TEST_RULES, install

pytestmark = pytest.mark.django_db

SH = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SH)
DAILY_MAX = scoring.parse(TEST_RULES).daily_max()


@pytest.fixture
def rules(db: Any) -> RuleSet:
    RuleSet.objects.all().delete()
    return install(TEST_RULES, dt.date(2020, 1, 1))


@pytest.fixture
def monday() -> Iterator[Any]:
    with time_machine.travel(MONDAY, tick=False) as clock:
        yield clock


@pytest.fixture
def member(rules: RuleSet, monday: Any, monkeypatch: pytest.MonkeyPatch) -> User:
    # No daily login point: each test pays exactly what it says.
    monkeypatch.setattr("xuexi.points.middleware.points_award_daily_login", lambda user: None)
    return UserFactory.create(phone="13812340002")


@pytest.fixture
def api(client: Client, member: User) -> Client:
    client.force_login(member)
    return client


def award(member: User, rule: str, source: str, at: dt.datetime, **kwargs: Any) -> int:
    return points_award(
        member=member, rule=rule, source_type="test", source_id=source, at=at, **kwargs
    ).points


@pytest.mark.parametrize(
    "path", ["/api/v1/me/points/today", "/api/v1/me/points/summary", "/api/v1/me/points/ledger"]
)
def test_anonymous_callers_get_401_in_the_error_shape(client: Client, db: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert set(response.json()) == {"code", "message", "details"}


def test_today_lists_every_rule_with_its_progress(api: Client, member: User) -> None:
    award(member, "daily_quiz", "q1", MONDAY, outcome="full")
    award(member, "read_article", "a1", MONDAY.replace(hour=7))
    award(member, "sport", "s1", MONDAY)
    body = api.get("/api/v1/me/points/today").json()
    assert body["date"] == "2026-03-02"
    assert body["total"] == 2 + 2 + 1
    assert body["daily_max"] == DAILY_MAX
    rules = {rule["code"]: rule for rule in body["rules"]}
    assert [rule["code"] for rule in body["rules"]] == [r["code"] for r in TEST_RULES["rules"]]
    assert rules["daily_quiz"] == {
        "code": "daily_quiz",
        "title": "每日答题",
        "points": 2,
        "daily_cap": 5,
        "weekly_cap": None,
        "week_points": 0,
        "link": "",
        "scores_today": True,
    }
    assert rules["read_article"]["daily_cap"] == 12  # the shared reading cap
    assert (rules["sport"]["daily_cap"], rules["sport"]["weekly_cap"]) == (None, 2)
    assert (rules["sport"]["points"], rules["sport"]["week_points"]) == (1, 1)
    assert rules["challenge_quiz"]["scores_today"] is False  # Tue, Fri and Sun only


def test_today_without_a_rule_set_is_empty_not_an_error(api: Client) -> None:
    RuleSet.objects.all().delete()
    body = api.get("/api/v1/me/points/today").json()
    assert body == {"date": "2026-03-02", "total": 0, "daily_max": 0, "rules": []}


def test_summary_adds_up_the_days(api: Client, member: User) -> None:
    day = dt.timedelta(days=1)
    award(member, "daily_quiz", "q0", MONDAY, outcome="full")  # 2
    award(member, "daily_quiz", "q1", MONDAY - day, outcome="partial")  # 1
    award(member, "subscribe", "s2", MONDAY - 2 * day)  # 1
    award(member, "daily_quiz", "q45", MONDAY - 45 * day, outcome="full")  # 2, this year
    award(member, "offline_activity", "ly", dt.datetime(2025, 6, 1, 9, tzinfo=SH),
          occurrences=20)  # fmt: skip
    award(member, "offline_activity", "ly2", dt.datetime(2025, 6, 2, 9, tzinfo=SH),
          occurrences=20)  # fmt: skip
    award(member, "offline_activity", "ly3", dt.datetime(2025, 6, 3, 9, tzinfo=SH),
          occurrences=20)  # fmt: skip
    award(member, "offline_activity", "ly4", dt.datetime(2025, 6, 4, 9, tzinfo=SH),
          occurrences=20)  # fmt: skip
    award(member, "offline_activity", "ly5", dt.datetime(2025, 6, 5, 9, tzinfo=SH),
          occurrences=20)  # fmt: skip
    assert api.get("/api/v1/me/points/summary").json() == {
        "today": 2,
        "last_30_days": 4,
        "this_year": 6,
        "total": 106,
        "streak_days": 3,
        "level": 2,  # 100 points reached
        "next_level_points": 500,
        "daily_max": DAILY_MAX,
    }


def test_a_streak_counts_up_to_yesterday_until_today_scores(api: Client, member: User) -> None:
    award(member, "subscribe", "s1", MONDAY - dt.timedelta(days=1))
    award(member, "subscribe", "s2", MONDAY - dt.timedelta(days=2))
    assert api.get("/api/v1/me/points/summary").json()["streak_days"] == 2


def test_the_ledger_is_newest_first_with_the_documented_fields(api: Client, member: User) -> None:
    award(member, "daily_quiz", "q1", MONDAY - dt.timedelta(days=1), outcome="full")
    award(member, "subscribe", "s1", MONDAY, note="订阅“学习强国”号")
    entry = LedgerEntry.objects.get(rule="subscribe")
    points_reverse(actor=None, entry=entry, reason="误订阅")
    body = api.get("/api/v1/me/points/ledger").json()
    assert body["next_cursor"] is None
    items = body["items"]
    assert [(item["rule"], item["points"]) for item in items] == [
        ("subscribe", -1),
        ("subscribe", 1),
        ("daily_quiz", 2),
    ]
    fields = {"id", "rule", "points", "source_type", "source_id", "at", "note", "day"}
    assert set(items[1]) == fields
    assert items[1]["source_type"] == "test"
    assert items[1]["source_id"] == "s1"
    assert items[1]["note"] == "订阅“学习强国”号"
    assert dt.datetime.fromisoformat(items[1]["at"]) == MONDAY
    assert items[0]["source_type"] == "reversal"
    assert items[0]["note"] == "误订阅"
    assert items[2]["day"] == "2026-03-01"


def test_the_ledger_shows_only_the_callers_own_entries(api: Client, member: User) -> None:
    other = UserFactory.create(phone="13812340003")
    award(other, "subscribe", "s1", MONDAY)
    award(member, "subscribe", "s1", MONDAY)
    items = api.get("/api/v1/me/points/ledger").json()["items"]
    assert len(items) == 1
    assert LedgerEntry.objects.get(pk=items[0]["id"]).member_id == member.pk


def test_the_ledger_filters_by_rule_and_days(api: Client, member: User) -> None:
    award(member, "daily_quiz", "q0", MONDAY, outcome="full")
    award(member, "subscribe", "s0", MONDAY)
    award(member, "daily_quiz", "q3", MONDAY - dt.timedelta(days=3), outcome="full")
    award(member, "daily_quiz", "q9", MONDAY - dt.timedelta(days=9), outcome="full")

    def days(query: str) -> list[tuple[str, str]]:
        response = api.get(f"/api/v1/me/points/ledger?{query}")
        assert response.status_code == 200, response.json()
        return [(item["rule"], item["day"]) for item in response.json()["items"]]

    assert days("rule=daily_quiz") == [
        ("daily_quiz", "2026-03-02"),
        ("daily_quiz", "2026-02-27"),
        ("daily_quiz", "2026-02-21"),
    ]
    assert days("since=2026-02-27") == [
        ("subscribe", "2026-03-02"),
        ("daily_quiz", "2026-03-02"),
        ("daily_quiz", "2026-02-27"),
    ]
    assert days("until=2026-02-27") == [("daily_quiz", "2026-02-27"), ("daily_quiz", "2026-02-21")]
    assert days("since=2026-02-27&until=2026-02-27&rule=daily_quiz") == [
        ("daily_quiz", "2026-02-27")
    ]
    assert days("since=2026-03-03") == []


def test_the_ledger_pages_with_a_cursor(api: Client, member: User) -> None:
    for number in range(7):
        award(member, "offline_activity", f"o{number}", MONDAY - dt.timedelta(minutes=number))
    # Two entries at the same instant: the id breaks the tie, none is skipped or repeated.
    award(member, "subscribe", "same-a", MONDAY - dt.timedelta(minutes=3))
    seen: list[int] = []
    cursor = ""
    pages = 0
    while True:
        body = api.get(f"/api/v1/me/points/ledger?limit=3&cursor={cursor}").json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        if not body["next_cursor"]:
            break
        cursor = body["next_cursor"]
    assert pages == 3
    expected = LedgerEntry.objects.filter(member=member).order_by("-at", "-id")
    assert seen == [entry.pk for entry in expected]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=2026-02-30", "since"),
        ("until=yesterday", "until"),
        ("since=2026-03-02&until=2026-03-01", "since"),
        ("rule=flying", "rule"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=" + base64.urlsafe_b64encode(json.dumps(["x", "y"]).encode()).decode(), "cursor"),
        ("cursor=" + base64.urlsafe_b64encode(json.dumps([1, 2]).encode()).decode(), "cursor"),
    ],
)
def test_bad_ledger_queries_are_422_with_the_field(
    api: Client, member: User, query: str, field: str
) -> None:
    response = api.get(f"/api/v1/me/points/ledger?{query}")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["details"]["fields"]


def test_a_bearer_token_reads_the_same_points(client: Client, member: User) -> None:
    award(member, "subscribe", "s1", MONDAY)
    member.set_password("Xuexi2026ok")
    member.save()
    token = client.post(
        "/api/v1/auth/token",
        {"phone": member.phone, "password": "Xuexi2026ok"},
        content_type="application/json",
    ).json()["access_token"]
    body = client.get("/api/v1/me/points/today", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    # The app's first call of the day is its daily login (the bearer auth pays it).
    assert body["total"] == 1 + 1


def test_the_openapi_document_lists_the_points_routes(client: Client, db: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for name in ("today", "summary", "ledger"):
        assert "get" in paths[f"/api/v1/me/points/{name}"]
