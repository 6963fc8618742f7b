"""The members' quiz routes (API.md, Quizzes; C5): every route, every refusal, and that no
start or resume ever carries an answer, an explanation or a hint of an unanswered question."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client

from xuexi.accounts.models import User
from xuexi.accounts.tests.factories import UserFactory
from xuexi.content.models import ItemStatus
from xuexi.content.tests.factories import make_item, make_site
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.services import rulesets_install_default
from xuexi.quizzes.bank import question_update
from xuexi.quizzes.models import (
    Attempt,
    AttemptQuestion,
    AttemptState,
    Category,
    Question,
    QuestionVersion,
    WrongAnswer,
)
from xuexi.quizzes.tests.factories import SINGLE, bank, paper, right_answer, wrong_answer

pytestmark = pytest.mark.django_db

SH = dt.timezone(dt.timedelta(hours=8))
TUESDAY = dt.datetime(2026, 3, 3, 10, 0, tzinfo=SH)
BASE = "/api/v1/quiz-attempts"
ERROR_SHAPE = {"code", "message", "details"}
SECRET_KEYS = {"answer", "correct_answer", "explanation", "hint", "given", "correct", "late"}


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def member(clock: Any, monkeypatch: pytest.MonkeyPatch) -> User:
    if not RuleSet.objects.exists():
        rulesets_install_default()
    # No daily login point: each test pays exactly what it says.
    monkeypatch.setattr("xuexi.points.middleware.points_award_daily_login", lambda user: None)
    return UserFactory.create(phone="13812340088")


@pytest.fixture
def api(client: Client, member: User) -> Client:
    client.force_login(member)
    return client


@pytest.fixture
def other(db: Any) -> User:
    return UserFactory.create(phone="13812340099")


def post(client: Client, path: str, body: Any = None) -> Any:
    if body is None:
        return client.post(path)
    return client.post(path, body, content_type="application/json")


def start(client: Client, kind: str = "daily", **fields: Any) -> dict[str, Any]:
    response = post(client, BASE, {"kind": kind, **fields})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_SHAPE
    assert body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    return body


def row_of(question_id: int) -> AttemptQuestion:
    return AttemptQuestion.objects.select_related("version", "question").get(pk=question_id)


def right(question_id: int) -> list[str]:
    row = row_of(question_id)
    return right_answer(row.version, row.question.type)


def wrong(question_id: int) -> list[str]:
    row = row_of(question_id)
    return wrong_answer(row.version, row.question.type)


def answer(client: Client, attempt_id: int, question_id: int, given: Any) -> Any:
    return post(
        client, f"{BASE}/{attempt_id}/answers", {"question_id": question_id, "answer": given}
    )


def keys_of(value: Any) -> set[str]:
    """Every key of every object in a JSON document, however deep."""
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys_of(item)}
    if isinstance(value, list):
        return {key for item in value for key in keys_of(item)}
    return set()


def assert_nothing_revealed(body: dict[str, Any]) -> None:
    """No unanswered question of ``body`` (an attempt) carries its answer, explanation or hint
    — not as a key, and not as text anywhere in the document but in the questions answered
    (which may share an explanation with one still to answer)."""
    unanswered = [question for question in body["questions"] if not question["answered"]]
    text = json.dumps({**body, "questions": unanswered}, ensure_ascii=False)
    for question in body["questions"]:
        if question["answered"]:
            continue
        assert not keys_of(question) & SECRET_KEYS, question
        version = row_of(question["id"]).version
        for secret in (version.explanation, version.hint):
            if secret:
                assert secret not in text
        assert json.dumps(version.answer, ensure_ascii=False) not in text


# --- who may call ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", BASE, {"kind": "daily"}),
        ("get", f"{BASE}/1", None),
        ("post", f"{BASE}/1/answers", {"question_id": 1, "answer": ["A"]}),
        ("post", f"{BASE}/1/timeout", {"question_id": 1}),
        ("post", f"{BASE}/1/revive", None),
        ("post", f"{BASE}/1/finish", None),
        ("get", f"{BASE}/1/questions/1/hint", None),
        ("get", "/api/v1/quiz-papers?kind=weekly", None),
        ("get", "/api/v1/me/wrong-answers", None),
        ("get", "/api/v1/me/quiz-stats", None),
    ],
)
def test_anonymous_callers_get_401_in_the_error_shape(client, db, method, path, body):
    response = client.get(path) if method == "get" else post(client, path, body)
    assert_error(response, 401, "not_authenticated")


def test_someone_else_s_attempt_answers_404_everywhere_and_changes_nothing(api, member, other):
    bank(8)
    client = Client()
    client.force_login(other)
    theirs = start(client)
    first = theirs["questions"][0]["id"]
    for response in (
        api.get(f"{BASE}/{theirs['id']}"),
        answer(api, theirs["id"], first, right(first)),
        post(api, f"{BASE}/{theirs['id']}/timeout", {"question_id": first}),
        post(api, f"{BASE}/{theirs['id']}/revive"),
        post(api, f"{BASE}/{theirs['id']}/finish"),
        api.get(f"{BASE}/{theirs['id']}/questions/{first}/hint"),
    ):
        assert_error(response, 404, "not_found")
    assert not AttemptQuestion.objects.filter(answered_at__isnull=False).exists()
    assert Attempt.objects.get(pk=theirs["id"]).state == AttemptState.OPEN


# --- the daily quiz, end to end --------------------------------------------------------------


def test_a_daily_start_carries_five_questions_and_no_answer(api):
    bank(12)
    body = start(api)
    assert body["kind"] == "daily"
    assert body["title"] == "每日答题"
    assert (body["state"], body["scoring"], body["resumed"]) == ("open", True, False)
    assert body["question_count"] == 5
    assert [q["position"] for q in body["questions"]] == [1, 2, 3, 4, 5]
    assert "deadline" not in body  # a daily quiz has no time limit
    assert "server_time" in body
    for question in body["questions"]:
        assert set(question) == {
            "id", "position", "type", "type_label", "stem", "options", "blanks",
            "category", "issued_at", "answered", "has_hint",
        }  # fmt: skip
        if question["type"] == "true_false":
            assert question["options"] == [
                {"key": "T", "text": "正确"},
                {"key": "F", "text": "错误"},
            ]
        if question["type"] == "fill":
            assert (question["options"], question["blanks"]) == ([], 2)
    assert_nothing_revealed(body)


def test_answering_grades_on_the_server_and_finishing_pays_once(api, member):
    bank(12)
    body = start(api)
    attempt_id = body["id"]
    first, *rest = [q["id"] for q in body["questions"]]

    response = answer(api, attempt_id, first, right(first))

    assert response.status_code == 200, response.content
    graded = response.json()
    version = row_of(first).version
    assert graded == {
        "question_id": first,
        "correct": True,
        "correct_answer": version.answer,
        "explanation": version.explanation,
        "late": False,
        "answered_count": 1,
        "correct_count": 1,
        "remaining": 4,
        "can_revive": False,
        "round_over": False,
    }
    resumed = api.get(f"{BASE}/{attempt_id}").json()
    answered = resumed["questions"][0]
    assert (answered["answered"], answered["correct"], answered["given"]) == (
        True,
        True,
        right(first),
    )
    assert answered["correct_answer"] == version.answer
    assert_nothing_revealed(resumed)  # the four still to answer

    wrong_one = answer(api, attempt_id, rest[0], wrong(rest[0])).json()
    assert (wrong_one["correct"], wrong_one["correct_count"]) == (False, 1)
    for question_id in rest[1:]:
        assert answer(api, attempt_id, question_id, right(question_id)).status_code == 200

    finished = post(api, f"{BASE}/{attempt_id}/finish")
    assert finished.status_code == 200
    assert finished.json() == {
        "score": 80,
        "correct_count": 4,
        "points_awarded": 4,
        "question_count": 5,
        "scoring": True,
    }
    assert post(api, f"{BASE}/{attempt_id}/finish").json() == finished.json()
    assert LedgerEntry.objects.filter(member=member, rule="daily_quiz").count() == 1
    after = api.get(f"{BASE}/{attempt_id}").json()
    assert after["state"] == "finished"
    assert after["result"]["points_awarded"] == 4
    assert all("correct_answer" in q and "explanation" in q for q in after["questions"])


def test_bad_answers_are_refused_in_the_error_shape_and_change_nothing(api, member):
    questions = bank(8)
    body = start(api)
    attempt_id = body["id"]
    rows = {q["type"]: q["id"] for q in body["questions"]}
    first = body["questions"][0]["id"]
    foreign = start(api)["questions"][0]["id"]  # the member's own, but of another attempt

    cases = [
        (answer(api, attempt_id, foreign, right(foreign)), 404, "not_found"),
        (answer(api, attempt_id, 10**12, ["A"]), 404, "not_found"),
        (answer(api, attempt_id, first, "A"), 422, "validation_error"),
        (answer(api, attempt_id, first, [1]), 422, "validation_error"),
        (answer(api, attempt_id, first, ["Z"] * 21), 422, "validation_error"),
        (answer(api, attempt_id, first, ["A\x00"]), 422, "validation_error"),
        (answer(api, attempt_id, first, ["x" * 201]), 422, "validation_error"),
        (answer(api, attempt_id, first, None), 422, "validation_error"),
        (post(api, f"{BASE}/{attempt_id}/answers", {"answer": ["A"]}), 422, "validation_error"),
        (
            api.post(f"{BASE}/{attempt_id}/answers", "{not json", content_type="application/json"),
            400,
            "bad_request",
        ),
        (answer(api, 2**63, first, ["A"]), 422, "validation_error"),
    ]
    if "single" in rows:
        cases.append((answer(api, attempt_id, rows["single"], ["Z"]), 422, "validation_error"))
        cases.append((answer(api, attempt_id, rows["single"], ["A", "B"]), 422, "validation_error"))
    if "fill" in rows:
        cases.append((answer(api, attempt_id, rows["fill"], ["乡村"]), 422, "validation_error"))
    for response, status, code in cases:
        assert_error(response, status, code)
    assert not AttemptQuestion.objects.filter(answered_at__isnull=False).exists()
    assert not WrongAnswer.objects.exists()

    assert answer(api, attempt_id, first, right(first)).status_code == 200
    body_twice = assert_error(answer(api, attempt_id, first, wrong(first)), 409, "already_answered")
    assert body_twice["message"] == "这道题已经作答。"
    assert row_of(first).correct is True  # the second answer changed nothing
    post(api, f"{BASE}/{attempt_id}/finish")
    second = body["questions"][1]["id"]
    assert_error(answer(api, attempt_id, second, right(second)), 409, "attempt_finished")
    assert row_of(second).answered_at is None
    assert len(questions) == 8


def test_a_special_paper_resumes_runs_on_the_server_clock_and_refuses_late_answers(
    api, member, clock
):
    special = paper("special", bank(10), time_limit=600, title="党史专项")
    body = start(api, "special", quiz_id=special.pk)
    assert dt.datetime.fromisoformat(body["deadline"]) == TUESDAY + dt.timedelta(seconds=600)
    assert body["title"] == "党史专项"
    assert body["quiz_id"] == special.pk
    first = body["questions"][0]["id"]
    assert answer(api, body["id"], first, right(first)).status_code == 200

    clock.shift(300)
    again = post(api, BASE, {"kind": "special", "quiz_id": special.pk})
    assert again.status_code == 200  # resumed, not a new attempt
    resumed = again.json()
    assert (resumed["id"], resumed["resumed"], resumed["answered_count"]) == (body["id"], True, 1)
    assert_nothing_revealed(resumed)

    clock.shift(400)  # past the deadline
    second = body["questions"][1]["id"]
    assert_error(answer(api, body["id"], second, right(second)), 409, "time_up")
    assert row_of(second).answered_at is None
    result = post(api, f"{BASE}/{body['id']}/finish").json()
    assert (result["correct_count"], result["score"], result["points_awarded"]) == (1, 10, 1)


def test_a_closed_or_unknown_paper_is_refused(api):
    questions = bank(6)
    closed = paper(
        "special",
        questions[:5],
        title="已截止",
        opens_at=TUESDAY - dt.timedelta(days=3),
        closes_at=TUESDAY - dt.timedelta(days=1),
    )
    assert_error(post(api, BASE, {"kind": "special", "quiz_id": closed.pk}), 409, "paper_closed")
    assert_error(post(api, BASE, {"kind": "weekly"}), 404, "not_found")
    assert_error(post(api, BASE, {"kind": "special", "quiz_id": 10**9}), 404, "not_found")
    assert not Attempt.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "exam"}, "kind"),
        ({}, "kind"),
        ({"kind": "daily", "quiz_id": 1}, "quiz_id"),
        ({"kind": "challenge", "quiz_id": 1}, "quiz_id"),
        ({"kind": "weekly", "category_id": 1}, "category_id"),
        ({"kind": "weekly", "quiz_id": 0}, "quiz_id"),
        ({"kind": "weekly", "quiz_id": "一"}, "quiz_id"),
    ],
)
def test_malformed_starts_are_422_and_start_nothing(api, body, field):
    bank(6)
    response = post(api, BASE, body)
    error = assert_error(response, 422, "validation_error")
    assert field in error["details"]["fields"]
    assert not Attempt.objects.exists()


def test_a_weekly_set_scores_once_and_later_goes_are_practice(api, member):
    week = paper("weekly", bank(5), title="第十周")
    first = start(api, "weekly")
    assert first["quiz_id"] == week.pk
    for question in first["questions"]:
        answer(api, first["id"], question["id"], right(question["id"]))
    assert post(api, f"{BASE}/{first['id']}/finish").json()["points_awarded"] == 5
    again = start(api, "weekly", quiz_id=week.pk)
    assert (again["scoring"], again["id"] != first["id"]) == (False, True)
    result = post(api, f"{BASE}/{again['id']}/finish").json()
    assert (result["scoring"], result["points_awarded"]) == (False, 0)


def test_starting_too_often_is_429_with_retry_after_and_starts_nothing(api, settings):
    settings.QUIZ_STARTS_PER_HOUR = 2
    bank(12)
    start(api)
    start(api)
    response = post(api, BASE, {"kind": "daily"})
    assert_error(response, 429, "rate_limited")
    assert 0 < int(response["Retry-After"]) <= 3600
    assert Attempt.objects.count() == 2


def test_answering_too_fast_for_a_person_is_429(api, monkeypatch):
    monkeypatch.setattr("xuexi.api.quizzes.ACTIONS_PER_MINUTE", 2)
    bank(8)
    body = start(api)
    ids = [q["id"] for q in body["questions"]]
    for question_id in ids[:2]:
        assert answer(api, body["id"], question_id, right(question_id)).status_code == 200
    response = answer(api, body["id"], ids[2], right(ids[2]))
    assert_error(response, 429, "rate_limited")
    assert response["Retry-After"]
    assert row_of(ids[2]).answered_at is None


# --- the challenge ---------------------------------------------------------------------------


def test_a_challenge_round_goes_on_until_wrong_revives_once_and_times_out(api, member, clock):
    bank(20)
    body = start(api, "challenge")
    assert body["question_seconds"] == 45
    assert body["question_count"] == 1
    question = body["questions"][0]
    assert dt.datetime.fromisoformat(question["deadline"]) == TUESDAY + dt.timedelta(seconds=45)
    assert_nothing_revealed(body)

    for _ in range(5):
        clock.shift(5)
        graded = answer(api, body["id"], question["id"], right(question["id"])).json()
        assert graded["correct"] is True
        question = graded["next_question"]
        assert not keys_of(question) & SECRET_KEYS  # the next one comes without its answer
        assert question["answered"] is False
    clock.shift(5)
    missed = answer(api, body["id"], question["id"], wrong(question["id"])).json()
    assert (missed["correct"], missed["can_revive"], missed["round_over"]) == (False, True, False)
    assert "next_question" not in missed
    assert api.get(f"{BASE}/{body['id']}").json()["can_revive"] is True

    revived = post(api, f"{BASE}/{body['id']}/revive")
    assert revived.status_code == 200, revived.content
    question = revived.json()["next_question"]
    assert not keys_of(question) & SECRET_KEYS
    assert_error(post(api, f"{BASE}/{body['id']}/revive"), 409, "not_revivable")

    clock.shift(60)  # the timer ran out on the page
    timed_out = post(api, f"{BASE}/{body['id']}/timeout", {"question_id": question["id"]})
    assert timed_out.status_code == 200, timed_out.content
    over = timed_out.json()
    assert (over["correct"], over["late"], over["round_over"], over["can_revive"]) == (
        False,
        True,
        True,
        False,
    )
    assert over["correct_answer"] == row_of(question["id"]).version.answer
    assert row_of(question["id"]).answer == []  # nothing was chosen
    assert_error(
        post(api, f"{BASE}/{body['id']}/timeout", {"question_id": question["id"]}),
        409,
        "already_answered",
    )
    finished = post(api, f"{BASE}/{body['id']}/finish").json()
    assert (finished["score"], finished["points_awarded"]) == (5, 3)  # 2021: 3 for 5 right
    assert WrongAnswer.objects.filter(member=member).count() == 2


def test_a_challenge_answer_after_its_timer_is_wrong_and_a_timeout_elsewhere_is_refused(api, clock):
    bank(10)
    body = start(api, "challenge")
    question = body["questions"][0]["id"]
    clock.shift(60)
    late = answer(api, body["id"], question, right(question)).json()
    assert (late["correct"], late["late"], late["can_revive"]) == (False, True, True)

    daily = start(api)
    first = daily["questions"][0]["id"]
    assert_error(
        post(api, f"{BASE}/{daily['id']}/timeout", {"question_id": first}),
        409,
        "no_question_timer",
    )
    assert_error(post(api, f"{BASE}/{daily['id']}/revive"), 409, "not_revivable")
    assert row_of(first).answered_at is None


# --- hints -----------------------------------------------------------------------------------


def test_a_hint_is_the_source_passage_and_item_of_an_issued_daily_question(api, member):
    site = make_site()
    article = make_item(site.column, title="党的二十大胜利召开")
    draft = make_item(site.column, title="未发布的文章", published=False)
    category = Category.objects.create(name="时事")
    for number in range(5):
        data = {**SINGLE, "stem": f"{SINGLE['stem']}（{number}）", "category": category}
        data["hint_item_id"] = article.pk if number else draft.pk
        question = Question.objects.get(pk=_create(data).pk)
        assert question.current is not None
    body = start(api)
    assert all(q["has_hint"] for q in body["questions"])
    by_item = {}
    for question in body["questions"]:
        response = api.get(f"{BASE}/{body['id']}/questions/{question['id']}/hint")
        assert response.status_code == 200, response.content
        hint = response.json()
        assert hint["text"] == SINGLE["hint"]
        by_item[row_of(question["id"]).version.hint_item_id] = hint.get("item")
    assert by_item[article.pk] == {
        "id": article.pk,
        "title": "党的二十大胜利召开",
        "url": f"http://testserver/items/{article.pk}/",
    }
    assert by_item[draft.pk] is None  # an unpublished item is not shown
    assert draft.status != ItemStatus.PUBLISHED


def _create(data: dict[str, Any]) -> Question:
    from xuexi.quizzes.bank import question_create

    return question_create(actor=None, data=data)


def test_hints_only_for_questions_of_the_attempt_and_not_in_tests_or_contests(api):
    questions = bank(10)
    daily = start(api)
    other_attempt = start(api)
    foreign = other_attempt["questions"][0]["id"]
    assert_error(api.get(f"{BASE}/{daily['id']}/questions/{foreign}/hint"), 404, "not_found")
    challenge = start(api, "challenge")
    first = challenge["questions"][0]["id"]
    assert challenge["questions"][0]["has_hint"] is False
    assert_error(
        api.get(f"{BASE}/{challenge['id']}/questions/{first}/hint"), 409, "hint_unavailable"
    )
    special = paper("special", questions[:5], time_limit=600)
    paper_body = start(api, "special", quiz_id=special.pk)
    assert_error(
        api.get(f"{BASE}/{paper_body['id']}/questions/{paper_body['questions'][0]['id']}/hint"),
        409,
        "hint_unavailable",
    )


# --- papers ----------------------------------------------------------------------------------


def test_papers_list_the_member_s_status_latest_first_with_a_cursor(api, clock):
    questions = bank(10)
    older = paper("weekly", questions[:5], title="第九周", opens_at=TUESDAY - dt.timedelta(days=7))
    newer = paper("weekly", questions[5:], title="第十周", opens_at=TUESDAY - dt.timedelta(hours=1))
    paper("weekly", questions[:5], title="下周", opens_at=TUESDAY + dt.timedelta(days=6))
    unpublished = paper("weekly", questions[5:], title="草稿")
    unpublished.is_published = False
    unpublished.save()
    done = start(api, "weekly", quiz_id=older.pk)
    for question in done["questions"][:4]:
        answer(api, done["id"], question["id"], right(question["id"]))
    post(api, f"{BASE}/{done['id']}/finish")
    running = start(api, "weekly", quiz_id=newer.pk)

    first = api.get("/api/v1/quiz-papers?kind=weekly&limit=1").json()
    assert [row["title"] for row in first["items"]] == ["第十周"]
    assert first["items"][0]["status"] == "open"
    assert first["items"][0]["open_attempt_id"] == running["id"]
    assert first["items"][0]["question_count"] == 5
    second = api.get(f"/api/v1/quiz-papers?kind=weekly&limit=1&cursor={first['next_cursor']}")
    row = second.json()["items"][0]
    assert (row["title"], row["status"], row["score"]) == ("第九周", "done", 80)
    assert second.json()["next_cursor"] is None
    assert api.get("/api/v1/quiz-papers?kind=special").json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?kind=daily",
        "?kind=weekly&limit=0",
        "?kind=weekly&limit=101",
        "?kind=weekly&cursor=%%%",
    ],
)
def test_a_bad_paper_query_is_422(api, query):
    assert_error(api.get(f"/api/v1/quiz-papers{query}"), 422, "validation_error")


# --- the wrong-answer book, practice and statistics ------------------------------------------


def _miss_all(api: Client) -> dict[str, Any]:
    body = start(api)
    for question in body["questions"]:
        answer(api, body["id"], question["id"], wrong(question["id"]))
    post(api, f"{BASE}/{body['id']}/finish")
    return body


def test_the_wrong_answer_book_lists_each_missed_question_with_its_answer(api, member, clock):
    bank(8)
    body = _miss_all(api)
    response = api.get("/api/v1/me/wrong-answers?limit=3")
    assert response.status_code == 200
    page = response.json()
    assert len(page["items"]) == 3
    entry = page["items"][0]
    question = Question.objects.select_related("current").get(pk=entry["question_id"])
    assert question.current is not None
    assert entry["correct_answer"] == question.current.answer
    assert entry["explanation"] == question.current.explanation
    assert entry["times_wrong"] == 1
    assert entry["last_answer"] == wrong_answer(question.current, question.type)
    assert entry["mastered_at"] is None
    rest = api.get(f"/api/v1/me/wrong-answers?limit=3&cursor={page['next_cursor']}").json()
    seen = [e["question_id"] for e in page["items"] + rest["items"]]
    assert sorted(seen) == sorted(row_of(q["id"]).question_id for q in body["questions"])
    assert rest["next_cursor"] is None

    category = Category.objects.get(name="党史")
    only = api.get(f"/api/v1/me/wrong-answers?category={category.pk}").json()["items"]
    assert only
    assert {e["category"]["name"] for e in only} == {"党史"}

    # Another member's book is not this member's.
    client = Client()
    client.force_login(UserFactory.create())
    assert client.get("/api/v1/me/wrong-answers").json() == {"items": [], "next_cursor": None}


def test_the_book_shows_the_question_as_it_reads_now(api):
    edited = bank(5)[0]
    assert edited.type == "single"
    _miss_all(api)
    question_update(
        actor=None,
        question=edited,
        data={**SINGLE, "stem": "新的题干？", "category": edited.category},
    )
    assert QuestionVersion.objects.filter(question=edited).count() == 2
    entries = {e["question_id"]: e for e in api.get("/api/v1/me/wrong-answers").json()["items"]}
    assert entries[edited.pk]["stem"] == "新的题干？"


def test_practice_from_the_book_never_pays_and_masters_what_is_answered_right(api, member):
    bank(8)
    _miss_all(api)
    history = Category.objects.get(name="党史")
    in_history = WrongAnswer.objects.filter(member=member, question__category=history).count()
    practice = start(api, "practice", category_id=history.pk)
    assert practice["kind"] == "practice"
    assert practice["title"] == "错题练习"
    assert (practice["scoring"], practice["question_count"]) == (False, in_history)
    assert all(q["category"] == "党史" for q in practice["questions"])
    assert all(q["has_hint"] == (q["type"] == "single") for q in practice["questions"])
    assert_nothing_revealed(practice)
    first, *rest = [q["id"] for q in practice["questions"]]
    assert answer(api, practice["id"], first, right(first)).json()["correct"] is True
    for question_id in rest:
        answer(api, practice["id"], question_id, wrong(question_id))
    result = post(api, f"{BASE}/{practice['id']}/finish").json()
    assert (result["scoring"], result["points_awarded"]) == (False, 0)
    assert not LedgerEntry.objects.filter(member=member, source_id=str(practice["id"])).exists()

    mastered = row_of(first).question_id
    to_review = [e["question_id"] for e in api.get("/api/v1/me/wrong-answers").json()["items"]]
    assert mastered not in to_review
    done = api.get("/api/v1/me/wrong-answers?mastered=true").json()["items"]
    assert [e["question_id"] for e in done] == [mastered]
    assert done[0]["mastered_at"]


def test_practice_with_an_empty_book_is_refused(api):
    bank(8)
    assert_error(post(api, BASE, {"kind": "practice"}), 409, "book_empty")
    _miss_all(api)
    assert_error(post(api, BASE, {"kind": "practice", "category_id": 10**9}), 409, "book_empty")
    assert not Attempt.objects.filter(kind="practice").exists()


def test_stats_give_accuracy_by_category_without_practice(api, member):
    bank(12)
    body = start(api)
    ids = [q["id"] for q in body["questions"]]
    for question_id in ids[:3]:
        answer(api, body["id"], question_id, right(question_id))
    for question_id in ids[3:]:
        answer(api, body["id"], question_id, wrong(question_id))
    practice = start(api, "practice")
    for question in practice["questions"]:
        answer(api, practice["id"], question["id"], right(question["id"]))

    stats = api.get("/api/v1/me/quiz-stats").json()

    assert (stats["answered"], stats["correct"], stats["accuracy"]) == (5, 3, 0.6)
    assert stats["wrong_to_review"] == 0  # both practised right
    by_name = {row["name"]: row for row in stats["categories"]}
    expected: dict[str, list[int]] = {}
    for question_id in ids:
        row = row_of(question_id)
        counts = expected.setdefault(row.question.category.name, [0, 0])
        counts[0] += 1
        counts[1] += int(bool(row.correct))
    assert {name: [r["answered"], r["correct"]] for name, r in by_name.items()} == expected
