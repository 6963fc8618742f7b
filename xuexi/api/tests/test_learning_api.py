"""/learning-sessions, its heartbeats and its finish (API.md, Content; C13)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client

from xuexi.accounts.models import User
from xuexi.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from xuexi.content.models import Column, Item, ItemKind, LearningSession
from xuexi.content.tests.factories import make_item, make_site
from xuexi.points import scoring
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.tests.conftest import install

pytestmark = pytest.mark.django_db

SH = dt.timezone(dt.timedelta(hours=8))
TUESDAY = dt.datetime(2026, 3, 3, 10, 0, tzinfo=SH)
BASE = "/api/v1/learning-sessions"
ERROR_SHAPE = {"code", "message", "details"}


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def column(db: Any) -> Column:
    RuleSet.objects.all().delete()
    spec = next(s for s in scoring.shipped() if s.code == "2021")
    install(spec.as_data(), spec.effective_from)
    return make_site().column


@pytest.fixture
def member(clock: Any, column: Column, monkeypatch: pytest.MonkeyPatch) -> User:
    # No daily login point: each test pays exactly what it says.
    monkeypatch.setattr("xuexi.points.middleware.points_award_daily_login", lambda user: None)
    return UserFactory.create(phone="13812340077")


@pytest.fixture
def article(clock: Any, column: Column) -> Item:
    return make_item(column)


@pytest.fixture
def api(client: Client, member: User) -> Client:
    client.force_login(member)
    return client


def post(client: Client, path: str, body: Any = None, **headers: Any) -> Any:
    if body is None:
        return client.post(path, **headers)
    return client.post(path, body, content_type="application/json", **headers)


def start(client: Client, item: Item, **headers: Any) -> dict[str, Any]:
    response = post(client, BASE, {"item_id": item.pk}, **headers)
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def read(client: Client, clock: Any, session_id: int, seconds: int, **headers: Any) -> None:
    for _ in range(seconds // 15):
        clock.shift(15)
        response = post(client, f"{BASE}/{session_id}/heartbeats", {"visible": True}, **headers)
        assert response.status_code == 204, response.content


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_SHAPE
    assert body["code"] == code
    assert body["message"]
    return body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (BASE, {"item_id": 1}),
        (f"{BASE}/1/heartbeats", {"visible": True}),
        (f"{BASE}/1/finish", None),
    ],
)
def test_anonymous_callers_get_401_in_the_error_shape(client, db, path, body):
    assert_error(post(client, path, body), 401, "not_authenticated")


def test_a_valid_reading_session_through_the_api(api, clock, member, article):
    started = start(api, article)
    assert started == {
        "id": started["id"],
        "heartbeat_every": 15,
        "min_seconds": 60,
        "item_id": article.pk,
        "kind": "article",
        "expires_in": 7200,
    }
    read(api, clock, started["id"], 75)

    response = post(api, f"{BASE}/{started['id']}/finish")

    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "points_awarded": 2,
        "message": "本次学习有效，获得 2 分。",
        "verified_seconds": 75,
    }
    assert LedgerEntry.objects.get(member=member).rule == "chosen_reading"


def test_finishing_early_answers_invalid_with_the_reason_and_the_same_again(api, clock, article):
    started = start(api, article)
    read(api, clock, started["id"], 30)

    first = post(api, f"{BASE}/{started['id']}/finish")
    clock.shift(60)
    again = post(api, f"{BASE}/{started['id']}/finish")

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json() == {
        "valid": False,
        "reason": "too_early",
        "points_awarded": 0,
        "message": "还没有达到规定的学习时长，不能提前结束，本次不计分。",
        "verified_seconds": 30,
    }


def test_a_closed_session_refuses_heartbeats_with_409(api, clock, column, article):
    first = start(api, article)
    start(api, make_item(column, title="另一篇"))  # a second tab: the first is superseded
    clock.shift(15)

    body = assert_error(
        post(api, f"{BASE}/{first['id']}/heartbeats", {"visible": True}), 409, "session_superseded"
    )
    assert body["details"] == {"reason": "superseded"}
    finish = post(api, f"{BASE}/{first['id']}/finish").json()
    assert (finish["valid"], finish["reason"]) == (False, "superseded")


def test_someone_elses_session_answers_404(api, clock, article):
    other = Client()
    other.force_login(UserFactory.create())
    started = start(other, article)

    assert_error(
        post(api, f"{BASE}/{started['id']}/heartbeats", {"visible": True}), 404, "not_found"
    )
    assert_error(post(api, f"{BASE}/{started['id']}/finish"), 404, "not_found")
    assert LearningSession.objects.get(pk=started["id"]).beats == 0


def test_an_unknown_or_unpublished_item_answers_404(api, column):
    draft = make_item(column, published=False)
    assert_error(post(api, BASE, {"item_id": draft.pk}), 404, "not_found")
    assert_error(post(api, BASE, {"item_id": 987654}), 404, "not_found")
    assert not LearningSession.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "item_id"),
        ({"item_id": "abc"}, "item_id"),
        ({"item_id": 0}, "item_id"),
        ({"item_id": 2**70}, "item_id"),
    ],
)
def test_a_malformed_start_answers_422(api, body, field):
    response = assert_error(post(api, BASE, body), 422, "validation_error")
    assert field in response["details"]["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "visible"),
        ({"visible": True, "position": -1}, "position"),
        ({"visible": True, "position": "middle"}, "position"),
        ({"visible": True, "position": 10**9}, "position"),
    ],
)
def test_a_malformed_heartbeat_answers_422_and_changes_nothing(api, article, body, field):
    started = start(api, article)
    response = assert_error(
        post(api, f"{BASE}/{started['id']}/heartbeats", body), 422, "validation_error"
    )
    assert field in response["details"]["fields"]
    assert LearningSession.objects.get(pk=started["id"]).beats == 0


def test_a_huge_session_id_is_invalid_input_not_a_server_error(api):
    assert_error(post(api, f"{BASE}/{2**70}/finish"), 422, "validation_error")


def test_too_many_starts_answer_429_with_retry_after(api, article, settings):
    settings.LEARNING_STARTS_PER_MINUTE = 2
    start(api, article)
    start(api, article)
    response = post(api, BASE, {"item_id": article.pk})
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0


def test_a_video_session_reports_its_minimum_and_checks_the_position(api, clock, column):
    video = make_item(column, kind=ItemKind.VIDEO, duration=100)
    started = start(api, video)
    assert (started["kind"], started["min_seconds"]) == ("video", 80)
    beats = f"{BASE}/{started['id']}/heartbeats"
    assert post(api, beats, {"visible": False, "position": 0}).status_code == 204
    position = 0
    for _ in range(6):
        clock.shift(15)
        position += 15
        assert post(api, beats, {"visible": True, "position": position}).status_code == 204
    result = post(api, f"{BASE}/{started['id']}/finish").json()
    assert (result["valid"], result["verified_seconds"], result["points_awarded"]) == (
        True,
        90,
        1 + 1,  # 2021: 视听学习 1, 视听学习时长 1 per minute
    )


def test_a_bearer_token_runs_a_whole_session(client, clock, member, article):
    token = client.post(
        "/api/v1/auth/token",
        {"phone": member.phone, "password": DEFAULT_PASSWORD},
        content_type="application/json",
    ).json()["access_token"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    app = Client()  # no session cookie: only the token

    started = start(app, article, **bearer)
    read(app, clock, started["id"], 60, **bearer)
    result = post(app, f"{BASE}/{started['id']}/finish", **bearer).json()

    assert (result["valid"], result["points_awarded"]) == (True, 2)
    assert LearningSession.objects.get(pk=started["id"]).member == member


def test_the_web_ui_needs_the_csrf_token_as_learning_js_sends_it(member, article):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    refused = post(browser, BASE, {"item_id": article.pk})
    assert refused.status_code == 403
    assert set(refused.json()) == ERROR_SHAPE

    browser.get("/me/")  # any page sets the CSRF cookie when it renders a token
    token = browser.cookies["csrftoken"].value
    started = post(browser, BASE, {"item_id": article.pk}, HTTP_X_CSRFTOKEN=token)
    assert started.status_code == 201


def test_the_openapi_document_lists_the_learning_routes(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/learning-sessions",
        "/api/v1/learning-sessions/{session_id}/heartbeats",
        "/api/v1/learning-sessions/{session_id}/finish",
    ):
        assert "post" in paths[path]
