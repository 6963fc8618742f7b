"""A member's quiz journey in the browser, at phone (375×812) and PC (1440×900) size.

Signs in and opens 答题: the four kinds with today's points. Does a daily quiz — opens the hint
once, answers right and wrong, sees each verdict with the correct answer and the explanation
without a page load, hands in and sees the result with the points — then a challenge round:
right, wrong, the one revive, wrong again, the end. Glances at a special paper's countdown,
and opens the 错题本 with its answers behind a tap. Screenshots:
``test-artifacts/screenshots/quiz-<width>-<NN>-<step>.png``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from xuexi.accounts.models import User
from xuexi.content.models import Channel, ChannelKind, Column, Item, ItemStatus
from xuexi.organizations.models import Organization
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.services import rulesets_install_default
from xuexi.quizzes.bank import question_create
from xuexi.quizzes.models import Attempt, AttemptQuestion, Category, Paper, PaperQuestion, Question
from xuexi.web.tests.test_browser_journeys import (  # the journeys' browser and visit fixtures
    PASSWORD,
    SCREENSHOTS,
    _allow_database_calls_beside_playwright,
    browser,
    visit,
)

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["_allow_database_calls_beside_playwright", "browser", "visit"]

BOTH_SIZES = pytest.mark.parametrize("size", ["phone", "pc"])
WIDTHS = {"phone": 375, "pc": 1440}
PHONES = {"phone": "13500135201", "pc": "13500135202"}

# An original little bank: every question has its source passage (the hint) and explanation.
QUESTIONS: list[dict[str, Any]] = [
    {
        "type": "single",
        "category": "理论学习",
        "stem": "新时代党的建设总要求中，把哪一项建设摆在首位？",
        "options": ["政治建设", "思想建设", "组织建设", "作风建设"],
        "answer": "A",
        "explanation": "新时代党的建设总要求明确，以党的政治建设为统领，把政治建设摆在首位。",
        "hint": "以党的政治建设为统领……把党的政治建设摆在首位。",
    },
    {
        "type": "multiple",
        "category": "理论学习",
        "stem": "下列属于新发展理念的有哪些？",
        "options": ["创新", "协调", "保守", "共享"],
        "answer": "ABD",
        "explanation": "新发展理念是创新、协调、绿色、开放、共享。",
        "hint": "坚持创新、协调、绿色、开放、共享的新发展理念。",
    },
    {
        "type": "true_false",
        "category": "生态文明",
        "stem": "“绿水青山就是金山银山”的理念最早在浙江安吉提出。",
        "answer": "正确",
        "explanation": "2005 年 8 月，这一理念在浙江安吉余村首次提出。",
        "hint": "2005 年 8 月 15 日，在浙江安吉余村考察时首次提出这一理念。",
    },
    {
        "type": "fill",
        "category": "乡村振兴",
        "stem": "实施____振兴战略，是新时代“三农”工作的总抓手。",
        "answer": [["乡村"]],
        "explanation": "乡村振兴战略是新时代做好“三农”工作的总抓手。",
        "hint": "实施乡村振兴战略，是新时代做好“三农”工作的总抓手。",
    },
    {
        "type": "single",
        "category": "党史",
        "stem": "中国共产党第一次全国代表大会最后一天的会议在哪里举行？",
        "options": ["上海", "嘉兴南湖", "北京", "广州"],
        "answer": "B",
        "explanation": "中共一大最后一天的会议转移到浙江嘉兴南湖的一条游船上举行。",
        "hint": "会议最后一天转移到浙江嘉兴南湖的一条游船上举行。",
    },
    {
        "type": "true_false",
        "category": "党史",
        "stem": "遵义会议是在 1935 年 1 月召开的。",
        "answer": "正确",
        "explanation": "遵义会议于 1935 年 1 月在贵州遵义召开。",
        "hint": "1935 年 1 月，中共中央政治局在遵义召开扩大会议。",
    },
    {
        "type": "single",
        "category": "生态文明",
        "stem": "我国力争在哪一年前实现碳达峰？",
        "options": ["2025 年", "2030 年", "2035 年", "2060 年"],
        "answer": "B",
        "explanation": "我国力争 2030 年前实现碳达峰，2060 年前实现碳中和。",
        "hint": "二氧化碳排放力争于 2030 年前达到峰值，努力争取 2060 年前实现碳中和。",
    },
    {
        "type": "multiple",
        "category": "乡村振兴",
        "stem": "乡村振兴的总要求包括哪些？",
        "options": ["产业兴旺", "生态宜居", "乡风文明", "大拆大建"],
        "answer": "ABC",
        "explanation": "总要求是产业兴旺、生态宜居、乡风文明、治理有效、生活富裕。",
        "hint": "按照产业兴旺、生态宜居、乡风文明、治理有效、生活富裕的总要求。",
    },
]


def _bank() -> None:
    """Categories, a published source article for the hints, the questions, one special
    paper of five with a time limit of ten minutes."""
    root = Organization.objects.add_root({"name": "全国学习平台", "kind": "platform", "code": "QZ"})
    channel = Channel.objects.create(kind=ChannelKind.NATIONAL, name="全国", platform=root)
    column = Column.objects.create(channel=channel, name="学习理论", slug="theory")
    source = Item.objects.create(
        kind="article",
        column=column,
        title="以党的政治建设为统领",
        body="<p>以党的政治建设为统领，全面推进党的建设新的伟大工程。</p>",
        summary="以党的政治建设为统领。",
        status=ItemStatus.PUBLISHED,
        published_at=timezone.now() - dt.timedelta(hours=3),
    )
    for position, name in enumerate(["理论学习", "党史", "生态文明", "乡村振兴"]):
        Category.objects.create(name=name, position=position)
    made = [
        question_create(
            actor=None,
            data={
                **data,
                "category": Category.objects.get(name=data["category"]),
                "hint_item_id": source.pk,
            },
        )
        for data in QUESTIONS
    ]
    special = Paper.objects.create(
        kind="special",
        title="学习党的二十大精神专项答题",
        opens_at=timezone.now() - dt.timedelta(days=1),
        closes_at=timezone.now() + dt.timedelta(days=6),
        time_limit=600,
        is_published=True,
    )
    for position, question in enumerate(made[:5], start=1):
        PaperQuestion.objects.create(paper=special, question=question, position=position)


# --- helpers -------------------------------------------------------------------------------------


def _shot(v: Any, step: str) -> None:
    """A full-page screenshot and no sideways scrolling."""
    page = v.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"quiz-{WIDTHS[v.size]}-{step}.png"), full_page=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{step}: the page scrolls sideways by {overflow}px"


def _tall_enough(locator: Any) -> None:
    """Every element of ``locator`` is at least 44 px tall (a thumb's tap target)."""
    for index in range(locator.count()):
        box = locator.nth(index).bounding_box()
        assert box is not None
        assert box["height"] >= 44, (locator, index, box)


def _shown_question(page: Any) -> AttemptQuestion:
    question_id = int(page.locator("[data-quiz-question-id]").input_value())
    return AttemptQuestion.objects.select_related("version", "question").get(pk=question_id)


def _answer(page: Any, *, right: bool) -> AttemptQuestion:
    """Choose (or type) the right or a wrong answer to the question on the page and submit."""
    row = _shown_question(page)
    version, kind = row.version, row.question.type
    if kind == "fill":
        values = [variants[0] for variants in version.answer] if right else ["不知道"]
        for box, value in zip(page.locator(".qz-blank input").all(), values, strict=True):
            box.fill(value)
    else:
        keys = [o["key"] for o in (version.options or [{"key": "T"}, {"key": "F"}])]
        chosen = list(version.answer) if right else [k for k in keys if k not in version.answer][:1]
        for key in chosen:
            page.locator(f".qz-option:has(input[value='{key}'])").click()
    page.get_by_role("button", name="提交答案").click()
    expect(page.locator("[data-quiz-verdict]")).to_have_text(
        "回答正确" if right else re.compile("回答错误|超时")
    )
    return row


def _chip(page: Any) -> Any:
    return page.locator(".points-chip-value")


# --- the journey ---------------------------------------------------------------------------------


@BOTH_SIZES
def test_a_member_does_a_daily_quiz_a_challenge_round_and_opens_the_wrong_answer_book(
    visit: Any, size: str
) -> None:
    if not RuleSet.objects.exists():
        rulesets_install_default()
    assert RuleSet.objects.get().code == "2021"  # daily: 1 a right answer, 5 a day; challenge 6
    _bank()
    User.objects.create_user(phone=PHONES[size], real_name="赵答题", password=PASSWORD)
    v = visit("quiz", size)
    page = v.page

    # Signing in, then 答题: the four kinds with today's points, the special paper, the book.
    v.goto(reverse("accounts:login") + "?next=/quizzes/")
    page.get_by_label("手机号").fill(PHONES[size])
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(re.compile(r"/quizzes/$"))
    kinds = page.locator(".qz-kind")
    expect(kinds).to_have_count(4)
    expect(kinds.nth(0)).to_contain_text("每日答题")
    expect(kinds.nth(0)).to_contain_text("今日 0/5 分")
    expect(kinds.nth(3)).to_contain_text("今日 0/6 分")
    expect(page.get_by_text("学习党的二十大精神专项答题")).to_be_visible()
    expect(page.get_by_text("限时 10 分钟")).to_be_visible()
    _tall_enough(page.locator(".qz-kind .btn"))
    _shot(v, "01-home")

    # 每日答题: one question at a time, the progress, the hint in a dialog.
    kinds.nth(0).get_by_role("button", name="开始答题").click()
    expect(page.get_by_text("第 1 题 / 共 5 题")).to_be_visible()
    url = page.url
    _tall_enough(page.locator(".qz-option, .qz-blank input, .qz-q-actions .btn"))
    _shot(v, "02-daily-question")
    page.get_by_role("link", name="查看提示").click()
    dialog = page.locator("[data-quiz-hint-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-quiz-hint-text]")).to_have_text(_shown_question(page).version.hint)
    expect(dialog.get_by_role("link", name="以党的政治建设为统领")).to_be_visible()
    _shot(v, "03-hint")
    dialog.get_by_role("button", name="知道了").click()
    expect(dialog).to_be_hidden()

    # Right, then wrong: each verdict under the question, no page load between them.
    first = _answer(page, right=True)
    feedback = page.locator("[data-quiz-feedback]")
    expect(feedback).to_contain_text(first.version.explanation)
    if first.question.type != "fill":
        expect(page.locator(".qz-option.is-correct").first).to_be_visible()
    _shot(v, "04-daily-right")
    page.get_by_role("button", name="下一题").click()
    expect(page.get_by_text("第 2 题 / 共 5 题")).to_be_visible()
    second = _answer(page, right=False)
    expect(feedback).to_contain_text("正确答案：")
    expect(feedback).to_contain_text("你的答案：")
    expect(feedback).to_contain_text(second.version.explanation)
    _shot(v, "05-daily-wrong")
    assert page.url == url  # all of it on one page
    for number in (3, 4, 5):
        page.get_by_role("button", name="下一题").click()
        expect(page.get_by_text(f"第 {number} 题 / 共 5 题")).to_be_visible()
        _answer(page, right=True)

    # The result: score, the points, every question explained; the top bar counts them.
    page.get_by_role("button", name="交卷查看成绩").click()
    expect(page).to_have_url(re.compile(r"/result/$"))
    expect(page.locator("[data-quiz-score]")).to_have_text("80")
    expect(page.locator("[data-quiz-points]")).to_have_text("积分 +4")
    expect(page.locator(".qz-review-item")).to_have_count(5)
    expect(page.locator(".qz-review-item.is-wrong")).to_have_count(1)
    expect(_chip(page)).to_have_text(re.compile(r"^5/"))  # the day's login and the quiz
    _shot(v, "06-daily-result")
    assert LedgerEntry.objects.get(rule="daily_quiz").points == 4

    # 挑战答题: right, wrong, the one revive, wrong again — the round ends.
    v.main_nav_link("答题").click()
    page.locator(".qz-kind").nth(3).get_by_role("button", name="开始挑战").click()
    clock = page.locator("[data-quiz-clock]")
    expect(clock).to_be_visible()
    expect(page.get_by_text("第 1 题 · 已答对 0 题")).to_be_visible()
    seconds = int(page.locator("[data-quiz-clock-text]").inner_text())
    assert 40 <= seconds <= 45, seconds
    _shot(v, "07-challenge")
    _answer(page, right=True)
    expect(page.get_by_text("第 2 题 · 已答对 1 题")).to_be_visible()  # moves on by itself
    expect(clock).to_be_visible()
    _answer(page, right=False)
    revive = page.locator("[data-quiz-revive-dialog]")
    expect(revive).to_be_visible()
    _shot(v, "08-challenge-revive")
    revive.get_by_role("button", name="复活，继续挑战").click()
    expect(revive).to_be_hidden()
    expect(page.get_by_text("第 3 题 · 已答对 1 题")).to_be_visible()
    _shot(v, "09-challenge-revived")
    _answer(page, right=False)
    expect(revive).to_be_hidden()  # no second revive
    page.get_by_role("button", name="交卷查看成绩").click()
    expect(page.locator("[data-quiz-score]")).to_have_text("1")
    expect(page.get_by_text("本轮连续答对 1 题")).to_be_visible()
    _shot(v, "10-challenge-result")
    challenge = Attempt.objects.get(kind="challenge")
    assert (challenge.revive_used, challenge.correct_count) == (True, 1)

    # A special paper: the countdown the server set, in the page's head.
    v.main_nav_link("答题").click()
    page.locator("#special").get_by_role("button", name="开始答题").click()
    timer = page.locator("[data-quiz-timer-text]")
    expect(timer).to_have_text(re.compile(r"^(10:00|09:5\d)$"))
    _shot(v, "11-special-timer")
    page.once("dialog", lambda prompt: prompt.accept())  # 还有 5 道题没有作答，确定交卷吗？
    page.get_by_role("button", name="提前交卷").click()
    expect(page).to_have_url(re.compile(r"/result/$"))

    # Back on 答题: today's points on the cards, accuracy by category, the book's count.
    v.main_nav_link("答题").click()
    expect(page.locator(".qz-kind").nth(0)).to_contain_text("今日 4/5 分")
    expect(page.locator(".qz-stats-total")).to_contain_text("共答 8 题，答对 5 题")
    expect(page.locator(".qz-bar")).not_to_have_count(0)
    _shot(v, "12-home-after")

    # 错题本: the questions missed, by category, the answer behind a tap.
    page.get_by_role("link", name=re.compile("错题本")).click()
    expect(page.get_by_role("heading", name="错题本")).to_have_count(1)
    missed = page.locator(".qz-book-item")
    expect(missed.first).to_be_visible()
    assert missed.count() == Question.objects.filter(pk__in=_missed_ids()).count()
    _shot(v, "13-wrong-book")
    missed.first.locator("summary").click()
    expect(missed.first.locator(".qz-correct-text")).to_be_visible()
    _tall_enough(page.locator(".qz-book-summary"))
    _shot(v, "14-wrong-answer-open")


def _missed_ids() -> set[int]:
    return set(
        AttemptQuestion.objects.filter(correct=False)
        .exclude(answered_at__isnull=True)
        .values_list("question_id", flat=True)
    )
