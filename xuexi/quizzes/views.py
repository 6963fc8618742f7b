"""The members' quiz pages (C5): the quiz home (the 答题 tab), the answering page, the result
with every answer explained, a question's hint, the weekly sets and special papers, and the
wrong-answer book (错题本) with its practice.

Thin: reads through ``xuexi.quizzes.selectors``, writes through ``xuexi.quizzes.services``;
what a member may see of an attempt (never an answer before he has answered) is decided once,
in ``selectors.attempt_view``, for these pages and the API alike.

Every page works without JavaScript: the answering page is one form per question; the server
grades it and shows the page again with the correct answer and the explanation (``?after=``),
then the next question. ``quiz.js`` turns the same page into one that talks to ``/api/v1``
(no reload between questions), counts down the deadlines the server set, and opens the hint
and the challenge's revive in dialogs. The home (``/quizzes/``) is routed by
``xuexi/web/urls.py`` (``web:quizzes``, the tab bar's entry) and drawn here (``home_page``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from xuexi.accounts.models import User
from xuexi.core.errors import DomainError
from xuexi.core.pagination import paginate
from xuexi.core.time import business_day, now
from xuexi.quizzes import selectors, services
from xuexi.quizzes.models import AttemptKind, AttemptState, PaperKind

FRAGMENT_HEADER = "X-Reader-Fragment"  # reader.js's 加载更多 asks for the next entries only
BOOK_PAGE_SIZE = 10
PAPERS_PAGE_SIZE = 20
ANSWER_PARTS = 20  # a form never has more options or blanks than this


def _member(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # login_required


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _with_query(path: str, **params: Any) -> str:
    query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
    return f"{path}?{query}" if query else path


def clock_text(seconds: int) -> str:
    """A countdown as the timer shows it: 09:58, 1:02:03 past an hour."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def attempt_url(attempt_id: int, **params: Any) -> str:
    return _with_query(reverse("quizzes:attempt", args=[attempt_id]), **params)


# --- the quiz home -------------------------------------------------------------------------------


def home_page(request: HttpRequest) -> HttpResponse:
    """答题: the four kinds as cards (today's points against each cap), the weekly sets and the
    special papers open now with the member's status in each, his accuracy by category and
    the wrong-answer book's entry."""
    member = _member(request)
    rules = selectors.quiz_rules_today(member, business_day())
    weekly = list(
        selectors.papers_visible(PaperKind.WEEKLY).order_by("-opens_at", "-id")[
            : selectors.HOME_WEEKLY_SETS
        ]
    )
    special = [
        paper
        for paper in selectors.papers_visible(PaperKind.SPECIAL).order_by("-opens_at", "-id")
        if paper.closes_at is None or paper.closes_at > now()
    ]
    total, categories = selectors.accuracy_by_category(member)
    book = selectors.wrong_answer_counts(member)
    return render(
        request,
        "quizzes/home.html",
        {
            "rules": {code.removesuffix("_quiz"): rule for code, rule in rules.items()},
            "weekly": selectors.paper_rows(member, weekly),
            "special": selectors.paper_rows(member, special),
            "running": selectors.open_attempts_today(member),
            "total": total,
            "categories": categories,
            "book_count": sum(row.count for row in book),
            "shell_current_tab": "quizzes",
        },
    )


@login_required
@require_GET
def papers(request: HttpRequest, kind: str) -> HttpResponse:
    """每周答题 / 专项答题: every set or paper that has opened, the latest first, closed special
    papers included with their results (``?cursor=`` pages)."""
    member = _member(request)
    page = paginate(
        selectors.papers_visible(kind),
        cursor=request.GET.get("cursor"),
        limit=PAPERS_PAGE_SIZE,
        field="opens_at",
    )
    return render(
        request,
        "quizzes/papers.html",
        {
            "kind": kind,
            "title": PaperKind(kind).label,
            "rows": selectors.paper_rows(member, page.items),
            "next_url": _with_query(request.path, cursor=page.next_cursor)
            if page.next_cursor
            else "",
            "shell_current_tab": "quizzes",
        },
    )


# --- starting ------------------------------------------------------------------------------------


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """Start a daily quiz, a challenge, a weekly set or a special paper (``kind``,
    ``paper_id``): the answering page, or the quiz home with the reason it did not start."""
    member = _member(request)
    kind = request.POST.get("kind", "")
    paper_id = _int(request.POST.get("paper_id"))
    if kind not in (PaperKind.WEEKLY, PaperKind.SPECIAL):
        paper_id = None
    try:
        attempt = services.attempt_start(member=member, kind=kind, paper_id=paper_id)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("web:quizzes")
    return redirect(attempt_url(attempt.pk))


@login_required
@require_POST
def practice_start(request: HttpRequest) -> HttpResponse:
    """重新练习: a practice set from the wrong-answer book (of one ``category``, if given)."""
    member = _member(request)
    category = _int(request.POST.get("category"))
    try:
        attempt = services.practice_start(member=member, category_id=category)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(_with_query(reverse("quizzes:wrong"), category=category))
    return redirect(attempt_url(attempt.pk))


# --- answering -----------------------------------------------------------------------------------


def _texts() -> dict[str, str]:
    """What quiz.js says, in the page's language (its data-text-* attributes)."""
    return {
        "right": _("回答正确"),
        "wrong": _("回答错误"),
        "timeout": _("时间到，本题按答错计"),
        "late": _("超时作答，按答错计"),
        "correct-answer": _("正确答案："),
        "your-answer": _("你的答案："),
        "no-answer": _("未作答"),
        "explanation": _("解析"),
        "next": _("下一题"),
        "finish": _("交卷查看成绩"),
        "finishing": _("正在交卷…"),
        "time-up": _("答题时间已到，正在交卷…"),
        "choose": _("请先选择答案。"),
        "fill": _("请填写每一个空。"),
        "network": _("网络异常，请稍后再试。"),
        "progress": _("第 {n} 题 / 共 {total} 题"),
        "challenge-progress": _("第 {n} 题 · 已答对 {right} 题"),
        "blank": _("第 {n} 空"),
        "hint-empty": _("本题暂无提示。"),
        "seconds": _("{n} 秒"),
        "loading": _("正在加载…"),
        "confirm-finish": _("还有 {n} 道题没有作答，确定交卷吗？"),
        "separator": selectors.part_separator(""),
    }


@login_required
@require_GET
def attempt_page(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The answering page: the question to answer now; with ``?after=<question>`` (the page
    the form returns to) that question answered, its correct answer and explanation, and the
    way on (下一题, 交卷, or the challenge's 复活). A finished attempt shows its result."""
    member = _member(request)
    attempt = selectors.attempt_get(member=member, attempt_id=attempt_id)
    if attempt.state == AttemptState.FINISHED:
        return redirect("quizzes:result", attempt_id=attempt.pk)
    view = selectors.attempt_view(attempt)
    after = _int(request.GET.get("after"))
    shown = next((q for q in view.questions if q.id == after and q.answered), None)
    question = shown or view.current
    moment = now()
    attempt_left = question_left = None
    if attempt.deadline is not None:
        attempt_left = max(0, int((attempt.deadline - moment).total_seconds()))
    if view.is_challenge and question is not None and question.deadline is not None:
        question_left = max(0, int((question.deadline - moment).total_seconds()))
    return render(
        request,
        "quizzes/attempt.html",
        {
            "view": view,
            "attempt": attempt,
            "question": question,
            "feedback": shown,
            "attempt_left": attempt_left,
            "attempt_left_text": clock_text(attempt_left) if attempt_left is not None else "",
            "question_left": question_left,
            "unanswered": sum(1 for q in view.questions if not q.answered),
            "server_time": moment,
            "texts": _texts(),
            "shell_current_tab": "quizzes",
        },
    )


@login_required
@require_POST
def answer(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The answering form: graded on the server; back to the page showing the verdict."""
    member = _member(request)
    question_id = _int(request.POST.get("question_id"))
    given = [part.strip() for part in request.POST.getlist("answer")][:ANSWER_PARTS]
    if question_id is None:
        messages.error(request, _("请从答题页面作答。"))
        return redirect(attempt_url(attempt_id))
    try:
        services.attempt_answer(
            member=member, attempt_id=attempt_id, question_id=question_id, answer=given
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, str(exc.message))
        return redirect(attempt_url(attempt_id))
    return redirect(attempt_url(attempt_id, after=question_id))


@login_required
@require_POST
def revive(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """复活: the challenge's one revive, then the new question."""
    try:
        services.attempt_revive(member=_member(request), attempt_id=attempt_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, str(exc.message))
    return redirect(attempt_url(attempt_id))


@login_required
@require_POST
def finish(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """交卷: close the attempt (once) and show the result."""
    services.attempt_finish(member=_member(request), attempt_id=attempt_id)
    return redirect("quizzes:result", attempt_id=attempt_id)


@login_required
@require_GET
def result(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The result: the score, the points it earned (or why none), and every question with the
    member's answer, the correct answer and the explanation."""
    member = _member(request)
    attempt = selectors.attempt_get(member=member, attempt_id=attempt_id)
    if attempt.state != AttemptState.FINISHED:
        return redirect(attempt_url(attempt.pk))
    view = selectors.attempt_view(attempt)
    again_kind = attempt.kind if attempt.kind != AttemptKind.PRACTICE else ""
    return render(
        request,
        "quizzes/result.html",
        {
            "view": view,
            "attempt": attempt,
            "again_kind": again_kind,
            "shell_current_tab": "quizzes",
        },
    )


@login_required
@require_GET
def hint(request: HttpRequest, attempt_id: int, question_id: int) -> HttpResponse:
    """查看提示 without JavaScript: the source passage of a question of a daily quiz or a
    practice set, and the article it comes from."""
    found = selectors.attempt_hint(
        member=_member(request), attempt_id=attempt_id, question_id=question_id
    )
    return render(
        request,
        "quizzes/hint.html",
        {
            "hint": found,
            "back": attempt_url(attempt_id),
            "shell_current_tab": "quizzes",
        },
    )


# --- the wrong-answer book -----------------------------------------------------------------------


@login_required
@require_GET
def wrong_book(request: HttpRequest) -> HttpResponse:
    """错题本: the questions to review by category (``?category=``), or those mastered
    (``?mastered=1``), the most recently missed first, each with its answer and explanation
    behind 查看答案; 重新练习 starts a practice set of the tab's questions."""
    member = _member(request)
    category = _int(request.GET.get("category"))
    mastered = request.GET.get("mastered") == "1"
    cursor = request.GET.get("cursor")
    page = paginate(
        selectors.wrong_answers_of(member, category_id=category, mastered=mastered),
        cursor=cursor,
        limit=BOOK_PAGE_SIZE,
        field="last_wrong_at",
    )
    context: dict[str, Any] = {
        "entries": selectors.book_entries(member, page.items),
        "next_url": _with_query(
            request.path,
            category=category,
            mastered="1" if mastered else "",
            cursor=page.next_cursor,
        )
        if page.next_cursor
        else "",
        "is_first_page": not cursor,
        "category": category,
        "mastered": mastered,
        "shell_current_tab": "quizzes",
    }
    if request.headers.get(FRAGMENT_HEADER) == "1":
        response = render(request, "quizzes/_book_feed.html", context)
    else:
        counts = selectors.wrong_answer_counts(member)
        context["counts"] = counts
        context["to_review"] = sum(row.count for row in counts)
        context["has_mastered"] = (
            not mastered and selectors.wrong_answers_of(member, mastered=True).exists()
        )
        context["category_name"] = next(
            (row.name for row in counts if row.category_id == category), ""
        )
        response = render(request, "quizzes/wrong.html", context)
    patch_vary_headers(response, [FRAGMENT_HEADER])
    return response
