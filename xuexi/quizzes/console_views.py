"""Console pages for quizzes: 题库 (questions), 题目分类, 题库导入 (upload → preview →
confirm, template, error workbook, export of a category), 专项答题 and 每周答题 (papers).

Thin, like the other console pages: every view asks ``xuexi/quizzes/access.py`` first (platform
operators only: anyone else gets 403, an unknown object 404, both as Chinese pages through
``DomainErrorPageMiddleware``), then calls a selector or a service and renders. Every write is
a service call that checks the operator again and leaves its audit entry.

A paper's questions are picked without JavaScript: searching the bank, adding the ticked
results, drawing at random, moving and removing are submit buttons of the paper's own form
(``go``), so what was typed survives them; only ``go=save`` and ``go=publish`` write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xuexi.accounts.models import User
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import Conflict, DomainError, ValidationFailed
from xuexi.core.time import BUSINESS_TZ, business_day, now
from xuexi.organizations.console import (
    console_actor,
    console_back,
    console_page,
    console_render,
    query_int,
)
from xuexi.organizations.roster_views import xlsx_attachment
from xuexi.quizzes import access, bank, excel, papers, selectors
from xuexi.quizzes.forms import (
    CategoryForm,
    ImportForm,
    PaperForm,
    QuestionForm,
    parse_ids,
)
from xuexi.quizzes.models import (
    Category,
    Paper,
    PaperKind,
    Question,
    QuestionStatus,
    QuestionType,
)

PAGE_SIZE = 20
ERRORS_PER_PAGE = 100
PICKER_SIZE = 20
PAPER_SECTIONS = {PaperKind.SPECIAL: "quizzes_specials", PaperKind.WEEKLY: "quizzes_weeklies"}
PAPER_LISTS = {
    PaperKind.SPECIAL: "console:quizzes_specials",
    PaperKind.WEEKLY: "console:quizzes_weeklies",
}
PAPER_TARGET = {PaperKind.SPECIAL: 10, PaperKind.WEEKLY: 5}  # the size a new paper aims at
STATUS_ACTIONS: dict[str, tuple[str, Any]] = {
    "activate": (
        QuestionStatus.ACTIVE,
        gettext_lazy("已启用题目 %(id)d，它会出现在每日答题和挑战答题中。"),
    ),
    "retire": (
        QuestionStatus.RETIRED,
        gettext_lazy("已停用题目 %(id)d，它不再被抽到；已发布的套题不受影响。"),
    ),
    "draft": (QuestionStatus.DRAFT, gettext_lazy("已将题目 %(id)d 退回草稿。")),
}


# --- helpers ------------------------------------------------------------------------------------


def _ip(request: HttpRequest) -> str:
    return client_ip_from_request(request)


def _operator(request: HttpRequest) -> User:
    """The signed-in operator; ``Forbidden`` (403) for anyone else."""
    actor = console_actor(request)
    access.require_bank_operator(actor)
    return actor


def _categories() -> list[Category]:
    return list(Category.objects.order_by("position", "id"))


# --- 题库：列表 ----------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> selectors.BankFilters:
    data = request.GET
    question_type = data.get("type", "")
    status = data.get("status", "")
    difficulty = query_int(data.get("difficulty"))
    return selectors.BankFilters(
        q=" ".join(data.get("q", "").split())[: selectors.CONSOLE_SEARCH_LIMIT],
        category=query_int(data.get("category")),
        type=question_type if question_type in QuestionType.values else "",
        status=status if status in QuestionStatus.values else "",
        difficulty=difficulty if difficulty in range(1, 6) else None,
    )


@login_required
@require_GET
def question_list(request: HttpRequest) -> HttpResponse:
    """题库: every question, newest first, searched by stem and filtered, 20 a page."""
    _operator(request)
    filters = _filters(request)
    page = console_page(request, selectors.bank_questions(filters), PAGE_SIZE)
    return console_render(
        request,
        "quizzes/console_questions.html",
        {
            "page": page,
            "filters": filters,
            "categories": _categories(),
            "types": QuestionType.choices,
            "statuses": QuestionStatus.choices,
            "difficulties": range(1, 6),
            "here": request.get_full_path(),
        },
        section="quizzes_questions",
    )


@login_required
@require_POST
def question_status(request: HttpRequest, question_id: int) -> HttpResponse:
    """启用 · 停用 · 退回草稿 from the list or the question's page (``action``)."""
    actor = console_actor(request)
    question = access.access_question_as_operator(actor, question_id)
    back = console_back(request, reverse("console:quizzes_questions"), prefix="/console/quizzes/")
    action = request.POST.get("action", "")
    if action not in STATUS_ACTIONS:
        messages.error(request, _("操作无效。"))
        return redirect(back)
    status, done = STATUS_ACTIONS[action]
    if status == QuestionStatus.ACTIVE and question.current is None:
        messages.error(request, _("题目 %(id)d 还没有内容，不能启用。") % {"id": question.pk})
        return redirect(back)
    bank.question_set_status(actor=actor, question=question, status=status, ip=_ip(request))
    messages.success(request, str(done) % {"id": question.pk})
    return redirect(back)


# --- 题库：新建与编辑 ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def question_create(request: HttpRequest) -> HttpResponse:
    return _question_form(request, _operator(request), None)


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, question_id: int) -> HttpResponse:
    actor = console_actor(request)
    return _question_form(request, actor, access.access_question_as_operator(actor, question_id))


def _question_form(request: HttpRequest, actor: User, question: Question | None) -> HttpResponse:
    categories = _categories()
    initial = None
    if question is None:
        initial = {"category": query_int(request.GET.get("category")) or "", "difficulty": 2}
    form = QuestionForm(
        request.POST if request.method == "POST" else None,
        categories=categories,
        question=question,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        saved = _save_question(request, actor, question, form)
        if saved is not None:
            if request.POST.get("go") == "next":
                return redirect(
                    f"{reverse('console:quizzes_question_create')}?category={saved.category_id}"
                )
            return redirect("console:quizzes_question_edit", saved.pk)
    context: dict[str, Any] = {
        "form": form,
        "question": question,
        "question_type": form.question_type,
        "has_categories": bool(categories),
    }
    if question is not None:
        context["versions"] = list(selectors.question_versions(question)[:20])
        context["papers"] = list(selectors.question_papers(question)[:20])
    return console_render(
        request,
        "quizzes/console_question_form.html",
        context,
        section="quizzes_questions",
        status=422 if request.method == "POST" else 200,
    )


def _save_question(
    request: HttpRequest, actor: User, question: Question | None, form: QuestionForm
) -> Question | None:
    """Create or update through the bank; its refusal goes back onto the form (None)."""
    data = form.bank_data()
    try:
        if question is None:
            status = (
                QuestionStatus.DRAFT if request.POST.get("go") == "draft" else QuestionStatus.ACTIVE
            )
            saved = bank.question_create(actor=actor, data=data, status=status, ip=_ip(request))
            done = (
                _("已新建题目 %(id)d 并启用。")
                if status == QuestionStatus.ACTIVE
                else _("已新建题目 %(id)d（草稿），检查无误后可启用。")
            )
            messages.success(request, done % {"id": saved.pk})
            return saved
        before = question.current_id
        saved = bank.question_update(actor=actor, question=question, data=data, ip=_ip(request))
    except DomainError as error:
        form.add_domain_error(error)
        return None
    if saved.current_id != before and saved.current is not None:
        messages.success(
            request,
            _("已保存，生成第 %(number)d 版；已作答的记录仍按原来的版本判分。")
            % {"number": saved.current.number},
        )
    else:
        messages.success(request, _("已保存（题目内容没有变化，未生成新版本）。"))
    return saved


# --- 题目分类 -----------------------------------------------------------------------------------


@login_required
@require_GET
def category_list(request: HttpRequest) -> HttpResponse:
    _operator(request)
    return console_render(
        request,
        "quizzes/console_categories.html",
        {"categories": list(selectors.bank_categories())},
        section="quizzes_categories",
    )


@login_required
@require_http_methods(["GET", "POST"])
def category_create(request: HttpRequest) -> HttpResponse:
    actor = _operator(request)
    return _category_form(request, actor, None)


@login_required
@require_http_methods(["GET", "POST"])
def category_edit(request: HttpRequest, category_id: int) -> HttpResponse:
    actor = console_actor(request)
    return _category_form(request, actor, access.access_category_as_operator(actor, category_id))


def _category_form(request: HttpRequest, actor: User, category: Category | None) -> HttpResponse:
    form = CategoryForm(
        request.POST if request.method == "POST" else None,
        initial={"name": category.name} if category is not None else None,
    )
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        try:
            if category is None:
                saved = bank.category_create(actor=actor, name=name, ip=_ip(request))
                done = _("已新建分类「%(name)s」。")
            else:
                saved = bank.category_rename(
                    actor=actor, category=category, name=name, ip=_ip(request)
                )
                done = _("已将分类改名为「%(name)s」。")
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, done % {"name": saved.name})
            return redirect("console:quizzes_categories")
    return console_render(
        request,
        "quizzes/console_category_form.html",
        {"form": form, "category": category},
        section="quizzes_categories",
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def category_export(request: HttpRequest, category_id: int) -> HttpResponse:
    """A category's questions as .xlsx, in the import's format (audited: it holds answers)."""
    actor = console_actor(request)
    category = access.access_category_as_operator(actor, category_id)
    try:
        content = excel.bank_export(actor=actor, category=category, ip=_ip(request))
    except Conflict as refusal:
        messages.error(request, str(refusal.message))
        return redirect("console:quizzes_categories")
    filename = _("题库-%(name)s-%(day)s.xlsx") % {
        "name": category.name,
        "day": f"{business_day():%Y%m%d}",
    }
    return xlsx_attachment(content, filename)


# --- 题库导入 -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """题库导入: the template, an upload checked into a preview, the exports by category."""
    actor = _operator(request)
    posted = request.method == "POST"
    form = ImportForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            preview = excel.import_preview_create(actor=actor, upload=form.cleaned_data["file"])
        except ValidationFailed as refusal:
            form.add_error("file", str(refusal.message))
        else:
            return redirect("console:quizzes_import_preview", preview.token)
    return console_render(
        request,
        "quizzes/console_import.html",
        {
            "form": form,
            "categories": list(selectors.bank_categories()),
            "max_rows": excel.MAX_ROWS,
        },
        section="quizzes_import",
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    actor = _operator(request)
    return xlsx_attachment(excel.bank_template(actor=actor), _("题库导入模板.xlsx"))


PREVIEW_COLUMNS = ("id", "type", "category", "stem", "answer", "status")


@login_required
@require_GET
def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    """The preview of an upload (counts, first rows, every error) or what its import did."""
    actor = console_actor(request)
    preview = excel.import_preview_get(actor=actor, token=token)
    errors = [
        {"row": e.row, "column": excel.column_label(e.column), "message": e.message}
        for e in preview.errors
    ]
    return console_render(
        request,
        "quizzes/console_import_preview.html",
        {
            "preview": preview,
            "error_page": console_page(request, errors, ERRORS_PER_PAGE),
            "error_count": len(errors),
            "labels": [excel.HEADERS[name] for name in PREVIEW_COLUMNS],
            "lines": [
                {**line, "cells": [(excel.HEADERS[n], line.get(n, "")) for n in PREVIEW_COLUMNS]}
                for line in preview.lines
            ],
        },
        section="quizzes_import",
    )


@login_required
@require_POST
def import_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """确认导入: everything or nothing; the preview page then shows the result or the errors."""
    actor = console_actor(request)
    try:
        done = excel.import_preview_confirm(actor=actor, token=token, ip=_ip(request))
    except (Conflict, ValidationFailed) as refusal:
        messages.error(request, str(refusal.message))
    else:
        messages.success(
            request,
            _("导入完成：新增 %(created)d 道，修改 %(updated)d 道，未变 %(unchanged)d 道。")
            % {"created": done.created, "updated": done.updated, "unchanged": done.unchanged},
        )
    return redirect("console:quizzes_import_preview", token)


@login_required
@require_GET
def import_errors(request: HttpRequest, token: str) -> HttpResponse:
    actor = console_actor(request)
    preview = excel.import_preview_get(actor=actor, token=token)
    stem = preview.file_name.rsplit(".", 1)[0] or "questions"
    return xlsx_attachment(
        excel.import_preview_errors(actor=actor, token=token),
        _("错误报告-%(name)s.xlsx") % {"name": stem},
    )


# --- 专项答题 · 每周答题 -------------------------------------------------------------------------


def paper_state(paper: Paper, moment: dt.datetime) -> tuple[str, Any]:
    """What a paper is to members now: 未发布, or (published) 未开始, 进行中, 已截止."""
    if not paper.is_published:
        return "draft", gettext_lazy("未发布")
    if paper.opens_at > moment:
        return "scheduled", gettext_lazy("未开始")
    if paper.closes_at is not None and paper.closes_at <= moment:
        return "closed", gettext_lazy("已截止")
    return "open", gettext_lazy("进行中")


@login_required
@require_GET
def special_list(request: HttpRequest) -> HttpResponse:
    return _paper_list(request, PaperKind.SPECIAL)


@login_required
@require_GET
def weekly_list(request: HttpRequest) -> HttpResponse:
    return _paper_list(request, PaperKind.WEEKLY)


def _paper_list(request: HttpRequest, kind: str) -> HttpResponse:
    _operator(request)
    page = console_page(request, selectors.bank_papers(kind), PAGE_SIZE)
    moment = now()
    for paper in page.object_list:
        paper.console_state, paper.console_state_label = paper_state(paper, moment)
        paper.console_minutes = paper.time_limit // 60
    return console_render(
        request,
        "quizzes/console_papers.html",
        {
            "page": page,
            "kind": kind,
            "kind_label": PaperKind(kind).label,
            "this_week": papers.week_start(moment),
            "here": request.get_full_path(),
        },
        section=PAPER_SECTIONS[PaperKind(kind)],
    )


@login_required
@require_http_methods(["GET", "POST"])
def special_create(request: HttpRequest) -> HttpResponse:
    return _paper_form(request, _operator(request), PaperKind.SPECIAL, None)


@login_required
@require_http_methods(["GET", "POST"])
def weekly_create(request: HttpRequest) -> HttpResponse:
    return _paper_form(request, _operator(request), PaperKind.WEEKLY, None)


@login_required
@require_http_methods(["GET", "POST"])
def paper_edit(request: HttpRequest, paper_id: int) -> HttpResponse:
    actor = console_actor(request)
    paper = access.access_paper_as_operator(actor, paper_id)
    return _paper_form(request, actor, paper.kind, paper)


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(BUSINESS_TZ)


def _paper_initial(kind: str, paper: Paper | None) -> dict[str, Any]:
    if paper is not None:
        return {
            "title": paper.title,
            "description": paper.description,
            "opens_at": _local(paper.opens_at),
            "closes_at": _local(paper.closes_at) if paper.closes_at else None,
            "time_limit": paper.time_limit // 60 or 10,
            "week": _local(paper.opens_at).date(),
            "questions": ",".join(str(pk) for pk in papers.paper_question_ids(paper)),
        }
    if kind == PaperKind.WEEKLY:
        monday = _next_free_week()
        year, week, _day = monday.isocalendar()
        return {
            "week": monday.date(),
            "title": _("%(year)d年第%(week)d周每周答题") % {"year": year, "week": week},
        }
    return {"time_limit": 10, "opens_at": _local(now()).replace(second=0, microsecond=0)}


def _next_free_week() -> dt.datetime:
    """The first week from this one without a weekly set."""
    monday = papers.week_start(now())
    taken = set(
        Paper.objects.filter(kind=PaperKind.WEEKLY, opens_at__gte=monday).values_list(
            "opens_at", flat=True
        )
    )
    taken_weeks = {papers.week_start(moment) for moment in taken}
    while monday in taken_weeks:
        monday += dt.timedelta(days=7)
    return monday


@dataclass(frozen=True)
class Picker:
    """The question picker's search, as posted with the paper's form."""

    q: str = ""
    category: int | None = None
    type: str = ""

    @classmethod
    def of(cls, data: QueryDict) -> Picker:
        question_type = data.get("pick_type", "")
        return cls(
            q=" ".join(data.get("pick_q", "").split())[: selectors.CONSOLE_SEARCH_LIMIT],
            category=query_int(data.get("pick_category")),
            type=question_type if question_type in QuestionType.values else "",
        )


def _picked(request: HttpRequest, go: str, chosen: list[int], picker: Picker) -> list[int]:
    """The chosen ids after one of the picker's buttons."""
    chosen = list(chosen)
    action, _sep, argument = go.partition(":")
    target = query_int(argument)
    if action == "add":
        for pk in parse_ids(",".join(request.POST.getlist("pick"))):
            if pk not in chosen:
                chosen.append(pk)
    elif action == "draw":
        count = query_int(request.POST.get("draw_count")) or 0
        drawn = selectors.bank_questions_drawn(
            count=min(count, 10),
            category=picker.category,
            question_type=picker.type,
            exclude=chosen,
        )
        chosen += [question.pk for question in drawn]
        if len(drawn) < count:
            messages.warning(
                request,
                _("符合条件的已启用题目不够，只抽到 %(n)d 道。") % {"n": len(drawn)},
            )
    elif action == "remove" and target in chosen:
        chosen.remove(target)
    elif action in ("up", "down") and target in chosen:
        index = chosen.index(target)
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(chosen):
            chosen[index], chosen[other] = chosen[other], chosen[index]
    elif action == "clear":
        chosen = []
    return chosen


def _paper_data(form: PaperForm, chosen: list[int], frozen: Paper | None) -> papers.PaperData:
    """What the form says; for a started paper (``frozen``) its opening time and time limit
    stay what they are (the form shows them, but they are not sent)."""
    fields = form.cleaned_data
    return papers.PaperData(
        title=fields["title"],
        description=fields.get("description", ""),
        opens_at=frozen.opens_at if frozen is not None else form.opens_at(),
        closes_at=fields.get("closes_at"),
        time_limit=(
            frozen.time_limit if frozen is not None else int(fields.get("time_limit") or 0) * 60
        ),
        question_ids=chosen,
    )


def _paper_form(request: HttpRequest, actor: User, kind: str, paper: Paper | None) -> HttpResponse:
    frozen = paper is not None and papers.paper_has_attempts(paper)
    initial = _paper_initial(kind, paper)
    go = request.POST.get("go", "save") if request.method == "POST" else ""
    picker = Picker.of(request.POST) if request.method == "POST" else Picker()
    status = 200
    if go in ("save", "publish"):
        chosen = (
            papers.paper_question_ids(paper)
            if frozen and paper is not None
            else parse_ids(request.POST.get("questions", ""))
        )
        form = PaperForm(request.POST, kind=kind, frozen=frozen, initial=initial)
        if form.is_valid():
            saved = _save_paper(request, actor, kind, paper, form, chosen, publish=go == "publish")
            if saved is not None:
                return redirect(PAPER_LISTS[PaperKind(kind)])
        status = 422
    elif go:
        # A picker button: nothing is saved and nothing is judged yet; the form comes back
        # with what was typed and the new choice of questions.
        chosen = _picked(request, go, parse_ids(request.POST.get("questions", "")), picker)
        values = request.POST.copy()
        values["questions"] = ",".join(str(pk) for pk in chosen)
        form = PaperForm(
            initial={**initial, **{k: values.get(k) for k in values if k != "csrfmiddlewaretoken"}},
            kind=kind,
            frozen=frozen,
        )
    else:
        chosen = parse_ids(str(initial.get("questions", "")))
        form = PaperForm(initial=initial, kind=kind, frozen=frozen)
    results = (
        []
        if frozen
        else selectors.bank_questions_for_paper(
            q=picker.q,
            category=picker.category,
            question_type=picker.type,
            exclude=chosen,
            limit=PICKER_SIZE,
        )
    )
    target = PAPER_TARGET[PaperKind(kind)]
    return console_render(
        request,
        "quizzes/console_paper_form.html",
        {
            "form": form,
            "paper": paper,
            "kind": kind,
            "kind_label": PaperKind(kind).label,
            "frozen": frozen,
            "chosen": selectors.bank_questions_by_ids(chosen),
            "chosen_ids": ",".join(str(pk) for pk in chosen),
            "picker": picker,
            "results": results,
            "categories": _categories(),
            "types": QuestionType.choices,
            "draw_default": max(1, target - len(chosen)) if len(chosen) < target else 1,
            "draw_counts": range(1, 11),
            "list_url": reverse(PAPER_LISTS[PaperKind(kind)]),
        },
        section=PAPER_SECTIONS[PaperKind(kind)],
        status=status,
    )


def _save_paper(
    request: HttpRequest,
    actor: User,
    kind: str,
    paper: Paper | None,
    form: PaperForm,
    chosen: list[int],
    *,
    publish: bool,
) -> Paper | None:
    frozen = paper if paper is not None and form.frozen else None
    data = _paper_data(form, chosen, frozen)
    try:
        if paper is None:
            saved = papers.paper_create(actor=actor, kind=kind, data=data, ip=_ip(request))
        else:
            saved = papers.paper_update(actor=actor, paper=paper, data=data, ip=_ip(request))
    except DomainError as error:
        form.add_domain_error(error)
        return None
    if publish and not saved.is_published:
        try:
            saved = papers.paper_publish(actor=actor, paper=saved, ip=_ip(request))
        except DomainError as error:
            messages.warning(
                request,
                _("「%(title)s」已保存，但未能发布：%(reason)s")
                % {"title": saved.title, "reason": error.message},
            )
            return saved
        messages.success(request, _("已保存并发布「%(title)s」。") % {"title": saved.title})
        return saved
    messages.success(request, _("已保存「%(title)s」。") % {"title": saved.title})
    return saved


PAPER_ACTIONS: dict[str, Any] = {
    "publish": (
        papers.paper_publish,
        gettext_lazy("已发布「%(title)s」，学员在开始时间后可以作答。"),
    ),
    "withdraw": (
        papers.paper_withdraw,
        gettext_lazy("已撤回「%(title)s」，学员不能再开始新的作答。"),
    ),
    "delete": (papers.paper_delete, gettext_lazy("已删除「%(title)s」。")),
}


@login_required
@require_POST
def paper_action(request: HttpRequest, paper_id: int) -> HttpResponse:
    """发布 · 撤回 · 删除 from the list (``action``)."""
    actor = console_actor(request)
    paper = access.access_paper_as_operator(actor, paper_id)
    back = console_back(
        request, reverse(PAPER_LISTS[PaperKind(paper.kind)]), prefix="/console/quizzes/"
    )
    action = request.POST.get("action", "")
    if action not in PAPER_ACTIONS:
        messages.error(request, _("操作无效。"))
        return redirect(back)
    service, done = PAPER_ACTIONS[action]
    try:
        service(actor=actor, paper=paper, ip=_ip(request))
    except DomainError as error:
        messages.error(
            request,
            _("「%(title)s」未能完成操作：%(reason)s")
            % {"title": paper.title, "reason": error.message},
        )
    else:
        messages.success(request, str(done) % {"title": paper.title})
    return redirect(back)
