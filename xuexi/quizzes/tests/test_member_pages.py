"""The members' quiz pages without JavaScript (the forms quiz.js enhances): the quiz home, the
answering page, the verdict, the result, hints, the paper lists and the wrong-answer book."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xuexi.accounts.models import User
from xuexi.accounts.tests.factories import UserFactory
from xuexi.content.tests.factories import make_item, make_site
from xuexi.points.models import RuleSet
from xuexi.points.services import rulesets_install_default
from xuexi.quizzes.bank import question_create
from xuexi.quizzes.models import Attempt, AttemptQuestion, AttemptState, Category, WrongAnswer
from xuexi.quizzes.services import attempt_answer, attempt_finish, attempt_start
from xuexi.quizzes.tests.factories import SINGLE, bank, paper, right_answer, wrong_answer

pytestmark = pytest.mark.django_db

SH = dt.timezone(dt.timedelta(hours=8))
TUESDAY = dt.datetime(2026, 3, 3, 10, 0, tzinfo=SH)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def member(clock: Any, monkeypatch: pytest.MonkeyPatch) -> User:
    if not RuleSet.objects.exists():
        rulesets_install_default()
    monkeypatch.setattr("xuexi.points.middleware.points_award_daily_login", lambda user: None)
    return UserFactory.create(phone="13812345601", real_name="王学习")


@pytest.fixture
def signed_in(client: Client, member: User) -> Client:
    client.force_login(member)
    return client


def text_of(html: str) -> str:
    """The page's visible text, tags dropped and whitespace folded."""
    body = re.sub(r"<(script|style|dialog)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def rows(attempt: Attempt) -> list[AttemptQuestion]:
    return list(
        AttemptQuestion.objects.filter(attempt=attempt).select_related("version", "question")
    )


def start(client: Client, kind: str, **fields: Any) -> Attempt:
    response = client.post(reverse("quizzes:start"), {"kind": kind, **fields})
    assert response.status_code == 302, response.content
    attempt = Attempt.objects.order_by("-pk").first()
    assert attempt is not None
    assert response["Location"] == reverse("quizzes:attempt", args=[attempt.pk])
    return attempt


# --- who may look ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/quizzes/",
        "/quizzes/weekly/",
        "/quizzes/special/",
        "/quizzes/wrong/",
        "/quizzes/attempts/1/",
        "/quizzes/attempts/1/result/",
        "/quizzes/attempts/1/questions/1/hint/",
    ],
)
def test_every_quiz_page_asks_a_visitor_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_another_member_s_attempt_is_a_chinese_404(signed_in, member):
    bank(8)
    theirs = attempt_start(member=UserFactory.create(), kind="daily")
    question = rows(theirs)[0]
    for response in (
        signed_in.get(reverse("quizzes:attempt", args=[theirs.pk])),
        signed_in.get(reverse("quizzes:result", args=[theirs.pk])),
        signed_in.get(reverse("quizzes:hint", args=[theirs.pk, question.pk])),
        signed_in.post(
            reverse("quizzes:answer", args=[theirs.pk]),
            {"question_id": question.pk, "answer": right_answer(question.version, "single")},
        ),
        signed_in.post(reverse("quizzes:finish", args=[theirs.pk])),
    ):
        assert response.status_code == 404
        assert "找不到该答题记录" in response.content.decode()
    assert not AttemptQuestion.objects.filter(answered_at__isnull=False).exists()
    theirs.refresh_from_db()
    assert theirs.state == AttemptState.OPEN


# --- the quiz home ---------------------------------------------------------------------------


def test_the_home_shows_the_four_kinds_with_today_s_points_the_papers_and_the_book(
    signed_in, member
):
    questions = bank(12)
    paper("weekly", questions[:5], title="第十周学习测试")
    paper(
        "special",
        questions[5:10],
        title="党史知识专项",
        time_limit=600,
        closes_at=TUESDAY + dt.timedelta(days=2),
    )
    paper(
        "special",
        questions[:5],
        title="已经截止的专项",
        opens_at=TUESDAY - dt.timedelta(days=5),
        closes_at=TUESDAY - dt.timedelta(days=1),
    )
    done = attempt_start(member=member, kind="daily")
    for row in rows(done)[:3]:
        attempt_answer(member=member, attempt_id=done.pk, question_id=row.pk,
                       answer=right_answer(row.version, row.question.type))  # fmt: skip
    for row in rows(done)[3:]:
        attempt_answer(member=member, attempt_id=done.pk, question_id=row.pk,
                       answer=wrong_answer(row.version, row.question.type))  # fmt: skip
    attempt_finish(member=member, attempt_id=done.pk)

    html = page(signed_in, reverse("web:quizzes"))
    text = text_of(html)

    for title in ("每日答题", "每周答题", "专项答题", "挑战答题"):
        assert title in text
    assert "今日 3 /5 分" in text  # 2021: one point a right answer, five a day
    assert "今日 0 /6 分" in text  # the challenge
    assert "第十周学习测试" in text
    assert "党史知识专项" in text
    assert "限时 10 分钟" in text
    assert "03-05 10:00 截止" in text  # Beijing time
    assert "已经截止的专项" not in text  # the home lists papers one can still take
    assert "60%" in text  # accuracy over all
    assert re.search(r"共答 5 题，答对 3 题", text)
    assert "2 道题待复习" in text
    assert 'href="/quizzes/wrong/"' in html
    assert 'aria-current="page"' in html.split("答题</span>")[0][-400:]  # the 答题 tab


def test_the_home_is_helpful_when_nothing_is_published(signed_in):
    text = text_of(page(signed_in, reverse("web:quizzes")))
    assert "本周的题目还没有发布" in text
    assert "目前没有开放的专项答题" in text
    assert "答题之后，这里按分类显示你的正确率" in text
    assert "暂无待复习的错题" in text


def test_the_home_costs_the_same_queries_however_many_papers_and_attempts(signed_in, member):
    questions = bank(12)
    paper("weekly", questions[:5], title="第一周")
    paper("special", questions[5:10], title="专项一", time_limit=300)
    signed_in.get(reverse("web:quizzes"))  # warm: the rule set in force, the day's maximum
    with CaptureQueriesContext(connection) as few:
        signed_in.get(reverse("web:quizzes"))
    for number in range(8):
        weekly = paper("weekly", questions[:5], title=f"第{number}周")
        special = paper("special", questions[5:10], title=f"专项{number}", time_limit=300)
        attempt_start(member=member, kind="weekly", paper_id=weekly.pk)
        attempt_start(member=member, kind="special", paper_id=special.pk)
    with CaptureQueriesContext(connection) as many:
        html = signed_in.get(reverse("web:quizzes")).content.decode()
    assert html.count("继续作答") >= 8
    assert len(many) == len(few), [query["sql"][:80] for query in many.captured_queries]


# --- answering without JavaScript ------------------------------------------------------------


def test_a_daily_quiz_through_the_forms_shows_each_verdict_and_the_result(signed_in, member):
    bank(8)
    attempt = start(signed_in, "daily")
    questions = rows(attempt)
    first = questions[0]

    html = page(signed_in, reverse("quizzes:attempt", args=[attempt.pk]))
    text = text_of(html)
    assert first.version.stem in text
    assert "第 1 题 / 共 5 题" in text
    assert 'src="/static/web/quiz.js"' in html
    for row in questions:  # nothing of any answer before it is answered
        if row.version.explanation:
            assert row.version.explanation not in html
        if row.version.hint:
            assert row.version.hint not in html

    response = signed_in.post(
        reverse("quizzes:answer", args=[attempt.pk]),
        {"question_id": first.pk, "answer": wrong_answer(first.version, first.question.type)},
    )
    assert response["Location"] == reverse("quizzes:attempt", args=[attempt.pk]) + (
        f"?after={first.pk}"
    )
    verdict = text_of(page(signed_in, response["Location"]))
    assert "回答错误" in verdict
    assert "正确答案：" in verdict
    assert first.version.explanation in verdict
    assert "下一题" in verdict

    for row in questions[1:]:
        signed_in.post(
            reverse("quizzes:answer", args=[attempt.pk]),
            {"question_id": row.pk, "answer": right_answer(row.version, row.question.type)},
        )
    last = text_of(page(signed_in, reverse("quizzes:attempt", args=[attempt.pk])))
    assert "题目已全部作答" in last
    response = signed_in.post(reverse("quizzes:finish", args=[attempt.pk]))
    assert response["Location"] == reverse("quizzes:result", args=[attempt.pk])
    result = text_of(page(signed_in, response["Location"]))
    assert "80 分" in result
    assert "答对 4 / 5 题" in result
    assert "积分 +4" in result
    for row in questions:
        assert row.version.stem in result
        assert row.version.explanation in result
    # A finished attempt's page is its result.
    again = signed_in.get(reverse("quizzes:attempt", args=[attempt.pk]))
    assert again["Location"] == reverse("quizzes:result", args=[attempt.pk])


def test_a_fill_in_question_takes_one_field_per_blank(signed_in, member):
    category = Category.objects.create(name="理论")
    for number in range(5):
        question_create(
            actor=None,
            data={
                "type": "fill",
                "stem": f"实施____振兴战略，建设____中国。（{number}）",
                "answer": [["乡村"], ["美丽", "美丽的"]],
                "explanation": "乡村振兴、美丽中国。",
                "category": category,
            },
        )
    attempt = start(signed_in, "daily")
    html = page(signed_in, reverse("quizzes:attempt", args=[attempt.pk]))
    assert len(re.findall(r'<input type="text" name="answer"', html)) == 2
    assert "第 2 空" in text_of(html)
    row = rows(attempt)[0]
    signed_in.post(
        reverse("quizzes:answer", args=[attempt.pk]),
        {"question_id": row.pk, "answer": ["乡村", "美丽的"]},
    )
    row.refresh_from_db()
    assert (row.correct, row.answer) == (True, ["乡村", "美丽的"])
    verdict = text_of(
        page(signed_in, reverse("quizzes:attempt", args=[attempt.pk]) + f"?after={row.pk}")
    )
    assert "乡村 ｜ 美丽 / 美丽的" in verdict


def test_a_bad_form_answer_is_explained_and_records_nothing(signed_in, member):
    bank(8)
    attempt = start(signed_in, "daily")
    row = rows(attempt)[0]
    response = signed_in.post(
        reverse("quizzes:answer", args=[attempt.pk]), {"question_id": row.pk}, follow=True
    )
    assert response.status_code == 200
    text = text_of(response.content.decode())
    assert "请" in text
    assert re.search(r"请(选择题目中的选项|填写全部)", text)
    row.refresh_from_db()
    assert row.answered_at is None
    assert not WrongAnswer.objects.exists()


def test_a_challenge_without_javascript_offers_the_revive_after_a_wrong_answer(signed_in, member):
    bank(12)
    attempt = start(signed_in, "challenge")
    html = page(signed_in, reverse("quizzes:attempt", args=[attempt.pk]))
    assert "秒内作答" in text_of(html)
    assert re.search(r"data-quiz-clock-text>45<", html)
    assert "查看提示" not in text_of(html)  # a contest offers no hint
    row = rows(attempt)[0]
    signed_in.post(
        reverse("quizzes:answer", args=[attempt.pk]),
        {"question_id": row.pk, "answer": wrong_answer(row.version, row.question.type)},
    )
    text = text_of(
        page(signed_in, reverse("quizzes:attempt", args=[attempt.pk]) + f"?after={row.pk}")
    )
    assert "复活，继续挑战" in text
    assert "结束挑战" in text
    response = signed_in.post(reverse("quizzes:revive", args=[attempt.pk]))
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert (attempt.revive_used, attempt.question_count) == (True, 2)
    text = text_of(page(signed_in, reverse("quizzes:attempt", args=[attempt.pk])))
    assert rows(attempt)[1].version.stem in text
    assert "第 2 题 · 已答对 0 题" in text


def test_a_special_paper_shows_its_clock_and_after_its_time_asks_to_hand_in(
    signed_in, member, clock
):
    special = paper("special", bank(5), time_limit=600, title="专项")
    attempt = start(signed_in, "special", paper_id=special.pk)
    html = page(signed_in, reverse("quizzes:attempt", args=[attempt.pk]))
    assert re.search(r"data-quiz-timer-text>10:00<", html)
    assert "提前交卷" in text_of(html)
    clock.shift(601)
    text = text_of(page(signed_in, reverse("quizzes:attempt", args=[attempt.pk])))
    assert "答题时间已到" in text
    clock.shift(4)  # past the grace the server allows for the network too
    row = rows(attempt)[0]
    response = signed_in.post(
        reverse("quizzes:answer", args=[attempt.pk]),
        {"question_id": row.pk, "answer": right_answer(row.version, row.question.type)},
        follow=True,
    )
    assert "答题时间已到，请交卷。" in text_of(response.content.decode())
    row.refresh_from_db()
    assert row.answered_at is None


def test_a_start_that_cannot_happen_says_why_on_the_home(signed_in):
    response = signed_in.post(reverse("quizzes:start"), {"kind": "daily"}, follow=True)
    assert "题库中暂无可用的题目。" in text_of(response.content.decode())
    response = signed_in.post(reverse("quizzes:start"), {"kind": "weekly"}, follow=True)
    assert "找不到这套题" in text_of(response.content.decode())
    assert not Attempt.objects.exists()


def test_the_hint_page_shows_the_source_passage_and_the_article(signed_in, member):
    site = make_site()
    article = make_item(site.column, title="党的二十大胜利召开")
    category = Category.objects.create(name="时事")
    for number in range(5):
        data = {**SINGLE, "stem": f"第{number}问", "category": category}
        question_create(actor=None, data={**data, "hint_item_id": article.pk})
    attempt = start(signed_in, "daily")
    row = rows(attempt)[0]
    html = page(signed_in, reverse("quizzes:attempt", args=[attempt.pk]))
    assert reverse("quizzes:hint", args=[attempt.pk, row.pk]) in html
    text = text_of(page(signed_in, reverse("quizzes:hint", args=[attempt.pk, row.pk])))
    assert str(SINGLE["hint"]) in text
    assert "党的二十大胜利召开" in text
    challenge = attempt_start(member=member, kind="challenge")
    refused = signed_in.get(reverse("quizzes:hint", args=[challenge.pk, rows(challenge)[0].pk]))
    assert refused.status_code == 409
    assert "本类答题不提供提示。" in refused.content.decode()


def test_the_paper_lists_show_every_opened_paper_with_the_member_s_status(signed_in, member):
    questions = bank(10)
    closed = paper(
        "special",
        questions[:5],
        title="去年的专项",
        opens_at=TUESDAY - dt.timedelta(days=30),
        closes_at=TUESDAY - dt.timedelta(days=20),
    )
    paper("special", questions[5:], title="本月专项", time_limit=900)
    text = text_of(page(signed_in, reverse("quizzes:special")))
    assert "去年的专项" in text
    assert "已截止" in text
    assert "本月专项" in text
    assert "限时 15 分钟" in text
    assert closed.closes_at is not None
    weekly = text_of(page(signed_in, reverse("quizzes:weekly")))
    assert "还没有发布的试卷" in weekly


# --- the wrong-answer book -------------------------------------------------------------------


def _miss(member: User, count: int = 5) -> Attempt:
    attempt = attempt_start(member=member, kind="daily")
    for row in rows(attempt)[:count]:
        attempt_answer(member=member, attempt_id=attempt.pk, question_id=row.pk,
                       answer=wrong_answer(row.version, row.question.type))  # fmt: skip
    attempt_finish(member=member, attempt_id=attempt.pk)
    return attempt


def test_the_book_lists_by_category_with_the_answer_behind_a_tap(signed_in, member):
    bank(8)
    missed = _miss(member)
    html = page(signed_in, reverse("quizzes:wrong"))
    text = text_of(html)
    assert "5 道题待复习" in text
    assert "查看答案与解析" in text
    assert "<details" in html
    for row in rows(missed):
        assert row.version.stem in text
        assert row.version.explanation in text
    assert "答错 1 次" in text
    history = Category.objects.get(name="党史")
    in_history = WrongAnswer.objects.filter(member=member, question__category=history).count()
    assert f"党史 {in_history}" in text  # the tab with its count
    only = text_of(page(signed_in, reverse("quizzes:wrong") + f"?category={history.pk}"))
    assert "重新练习「党史」" in only
    assert only.count("查看答案与解析") == in_history


def test_the_book_pages_with_reader_js_s_more_link(signed_in, member):
    bank(30)
    for _ in range(3):
        _miss(member)  # 15 missed
    html = page(signed_in, reverse("quizzes:wrong"))
    assert html.count('class="card qz-book-item"') == 10
    more = re.search(r'href="([^"]+)" data-more-link', html)
    assert more is not None
    fragment = signed_in.get(unescape(more.group(1)), HTTP_X_READER_FRAGMENT="1")
    body = fragment.content.decode()
    assert body.count('class="card qz-book-item"') == 5
    assert "<html" not in body
    assert "没有更多了" in body
    assert "X-Reader-Fragment" in fragment["Vary"]


def test_practice_from_the_book_masters_what_is_answered_right(signed_in, member):
    bank(8)
    _miss(member)
    response = signed_in.post(reverse("quizzes:practice"))
    practice = Attempt.objects.get(kind="practice")
    assert response["Location"] == reverse("quizzes:attempt", args=[practice.pk])
    text = text_of(page(signed_in, response["Location"]))
    assert "错题练习" in text
    assert "练习，不计分" in text
    for row in rows(practice):
        signed_in.post(
            reverse("quizzes:answer", args=[practice.pk]),
            {"question_id": row.pk, "answer": right_answer(row.version, row.question.type)},
        )
    signed_in.post(reverse("quizzes:finish", args=[practice.pk]))
    result = text_of(page(signed_in, reverse("quizzes:result", args=[practice.pk])))
    assert "练习，不计积分" in result
    assert "返回错题本" in result
    book = text_of(page(signed_in, reverse("quizzes:wrong")))
    assert "错题本是空的" not in book  # mastered is not gone: it has its own tab
    assert "没有待复习的错题" in book
    assert "错题都已掌握" in book
    mastered = text_of(page(signed_in, reverse("quizzes:wrong") + "?mastered=1"))
    assert mastered.count("查看答案与解析") == 5
    assert "已掌握" in mastered


def test_practice_with_nothing_to_review_says_so(signed_in):
    response = signed_in.post(reverse("quizzes:practice"), follow=True)
    text = text_of(response.content.decode())
    assert "错题本中暂无需要练习的题目。" in text
    assert "错题本是空的" in text
