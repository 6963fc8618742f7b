"""Operators' writes for fixed papers: special papers (专项答题) and weekly sets (每周答题).

- A special paper holds 10 or 5 questions, has a time limit and opens (and may close) at set
  times; members answer it once for points while it is open.
- A weekly set holds 5 to 10 questions and belongs to one week (Monday 00:00 to Sunday
  24:00, Asia/Shanghai): one set a week, opened on its Monday; older sets stay answerable.

A paper is saved as a draft, then published (members see it from its opening time) and may be
withdrawn. Papers use active questions only. Once a member has started a paper, what he was
asked must stay what the paper is: its questions, opening time and time limit are frozen, and
only the title, description and closing time may change. Every write is the operator's
(``xuexi.quizzes.access``), in one transaction, with one audit entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.core.audit import audit_record
from xuexi.core.errors import Conflict, ValidationFailed
from xuexi.core.text import enumeration
from xuexi.core.time import BUSINESS_TZ, now
from xuexi.quizzes.access import require_bank_operator
from xuexi.quizzes.models import Attempt, Paper, PaperKind, PaperQuestion, Question, QuestionStatus

SPECIAL_SIZES = (10, 5)
WEEKLY_SIZES = range(5, 11)
TIME_LIMIT_SECONDS = range(60, 2 * 3600 + 1)  # a special paper: one minute to two hours
TITLE_LIMIT = 80
DESCRIPTION_LIMIT = 200


@dataclass(frozen=True)
class PaperData:
    """What an operator sets on a paper. A weekly set's ``opens_at`` may be any moment of its
    week: the service moves it to the week's Monday 00:00."""

    title: str
    opens_at: dt.datetime | None
    question_ids: list[int] = field(default_factory=list)
    description: str = ""
    closes_at: dt.datetime | None = None
    time_limit: int = 0  # seconds; special papers only


@dataclass(frozen=True)
class CleanPaper:
    title: str
    description: str
    opens_at: dt.datetime
    closes_at: dt.datetime | None
    time_limit: int
    question_ids: list[int]


def week_start(moment: dt.datetime) -> dt.datetime:
    """Monday 00:00 (Asia/Shanghai) of the week holding ``moment``."""
    day = moment.astimezone(BUSINESS_TZ).date()
    monday = day - dt.timedelta(days=day.weekday())
    return dt.datetime.combine(monday, dt.time.min, tzinfo=BUSINESS_TZ)


def paper_has_attempts(paper: Paper) -> bool:
    return paper.pk is not None and Attempt.objects.filter(paper=paper).exists()


def paper_question_ids(paper: Paper) -> list[int]:
    return list(paper.slots.order_by("position").values_list("question_id", flat=True))


def _size_error(kind: str, count: int) -> str | None:
    if kind == PaperKind.SPECIAL and count not in SPECIAL_SIZES:
        return _("专项答题须为 10 道或 5 道题，现在选了 %(n)d 道。") % {"n": count}
    if kind == PaperKind.WEEKLY and count not in WEEKLY_SIZES:
        return _("每周答题须有 5 到 10 道题，现在选了 %(n)d 道。") % {"n": count}
    return None


def _inactive_error(question_ids: list[int]) -> str | None:
    """Which of the chosen questions do not exist or are not active, said by their numbers."""
    active = set(
        Question.objects.filter(
            pk__in=question_ids, status=QuestionStatus.ACTIVE, current__isnull=False
        ).values_list("pk", flat=True)
    )
    missing = [str(pk) for pk in question_ids if pk not in active]
    if not missing:
        return None
    return _("试卷只能选用已启用的题目；题目 %(ids)s 不存在或未启用。") % {
        "ids": enumeration(missing)
    }


def _clean(kind: str, data: PaperData, *, paper: Paper | None, frozen: bool) -> CleanPaper:
    """``data`` checked for a paper of ``kind``; ``ValidationFailed`` names each wrong field.
    ``frozen``: the paper has attempts — only title, description and closing time are read."""
    errors: dict[str, str] = {}
    title = " ".join(data.title.split())
    if not title:
        errors["title"] = _("请填写名称。")
    elif len(title) > TITLE_LIMIT:
        errors["title"] = _("名称不能超过 %(n)d 个字。") % {"n": TITLE_LIMIT}
    description = data.description.strip()
    if len(description) > DESCRIPTION_LIMIT:
        errors["description"] = _("说明不能超过 %(n)d 个字。") % {"n": DESCRIPTION_LIMIT}
    opens_at: dt.datetime | None
    if frozen and paper is not None:
        opens_at, time_limit = paper.opens_at, paper.time_limit
        question_ids = paper_question_ids(paper)
    else:
        opens_at, time_limit = data.opens_at, data.time_limit
        question_ids = list(data.question_ids)
        if opens_at is None:
            errors["opens_at"] = (
                _("请选择所属的周。") if kind == PaperKind.WEEKLY else _("请填写开始时间。")
            )
        elif kind == PaperKind.WEEKLY:
            opens_at = week_start(opens_at)
            clash = Paper.objects.filter(
                kind=PaperKind.WEEKLY,
                opens_at__gte=opens_at,
                opens_at__lt=opens_at + dt.timedelta(days=7),
            )
            if paper is not None:
                clash = clash.exclude(pk=paper.pk)
            other = clash.first()
            if other is not None:
                errors["opens_at"] = _("这一周已有每周答题「%(title)s」，每周只能有一套。") % {
                    "title": other.title
                }
        if kind == PaperKind.SPECIAL and time_limit not in TIME_LIMIT_SECONDS:
            errors["time_limit"] = _("专项答题的限时应为 1 到 120 分钟。")
        if kind == PaperKind.WEEKLY:
            time_limit = 0
        if len(set(question_ids)) != len(question_ids):
            errors["questions"] = _("同一道题不能在一套题中出现两次。")
        else:
            problem = _size_error(kind, len(question_ids)) or _inactive_error(question_ids)
            if problem:
                errors["questions"] = problem
    closes_at = data.closes_at if kind == PaperKind.SPECIAL else None
    if closes_at is not None and opens_at is not None and closes_at <= opens_at:
        errors["closes_at"] = _("截止时间应晚于开始时间。")
    if errors or opens_at is None:
        raise ValidationFailed(errors)
    return CleanPaper(
        title=title,
        description=description,
        opens_at=opens_at,
        closes_at=closes_at,
        time_limit=time_limit,
        question_ids=question_ids,
    )


def _set_questions(paper: Paper, question_ids: list[int]) -> None:
    PaperQuestion.objects.filter(paper=paper).delete()
    PaperQuestion.objects.bulk_create(
        [
            PaperQuestion(paper=paper, question_id=question_id, position=position)
            for position, question_id in enumerate(question_ids, start=1)
        ]
    )


def _summary(paper: Paper, question_ids: list[int]) -> dict[str, object]:
    return {
        "title": paper.title,
        "opens_at": paper.opens_at,
        "closes_at": paper.closes_at,
        "time_limit": paper.time_limit,
        "questions": question_ids,
    }


@transaction.atomic
def paper_create(*, actor: User, kind: str, data: PaperData, ip: str | None = None) -> Paper:
    """A new paper of ``kind``, as a draft."""
    root = require_bank_operator(actor)
    if kind not in PaperKind.values:
        raise ValidationFailed({"kind": _("试卷类型无效。")})
    clean = _clean(kind, data, paper=None, frozen=False)
    paper = Paper.objects.create(
        kind=kind,
        title=clean.title,
        description=clean.description,
        opens_at=clean.opens_at,
        closes_at=clean.closes_at,
        time_limit=clean.time_limit,
        is_published=False,
        created_by=actor,
    )
    _set_questions(paper, clean.question_ids)
    audit_record(
        actor=actor,
        action="paper.create",
        target=paper,
        organization=root,
        after={"kind": kind, **_summary(paper, clean.question_ids)},
        ip=ip,
    )
    return paper


def _changes_what_was_asked(paper: Paper, data: PaperData, question_ids: list[int]) -> bool:
    opens_at = data.opens_at
    if opens_at is not None and paper.kind == PaperKind.WEEKLY:
        opens_at = week_start(opens_at)
    return (
        data.question_ids != question_ids
        or opens_at != paper.opens_at
        or (paper.kind == PaperKind.SPECIAL and data.time_limit != paper.time_limit)
    )


@transaction.atomic
def paper_update(*, actor: User, paper: Paper, data: PaperData, ip: str | None = None) -> Paper:
    """Change a paper; once a member has started it, only its title, description and closing
    time (see the module docstring)."""
    root = require_bank_operator(actor)
    paper = Paper.objects.select_for_update().get(pk=paper.pk)
    frozen = paper_has_attempts(paper)
    before_ids = paper_question_ids(paper)
    if frozen and _changes_what_was_asked(paper, data, before_ids):
        raise Conflict(
            _("已有学员作答这套题，只能修改名称、说明和截止时间。"), code="paper_started"
        )
    clean = _clean(paper.kind, data, paper=paper, frozen=frozen)
    before = _summary(paper, before_ids)
    paper.title, paper.description = clean.title, clean.description
    paper.opens_at, paper.closes_at = clean.opens_at, clean.closes_at
    paper.time_limit = clean.time_limit
    paper.save()
    if clean.question_ids != before_ids:
        _set_questions(paper, clean.question_ids)
    after = _summary(paper, clean.question_ids)
    changed = {key for key in after if after[key] != before[key]}
    if changed:
        audit_record(
            actor=actor,
            action="paper.update",
            target=paper,
            organization=root,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
            ip=ip,
        )
    return paper


@transaction.atomic
def paper_publish(*, actor: User, paper: Paper, ip: str | None = None) -> Paper:
    """Publish a draft or withdrawn paper: members see it from its opening time. Its
    questions are checked again (one may have been retired since it was saved)."""
    root = require_bank_operator(actor)
    paper = Paper.objects.select_for_update().get(pk=paper.pk)
    if paper.is_published:
        raise Conflict(_("这套题已经发布。"), code="paper_published")
    question_ids = paper_question_ids(paper)
    problem = _size_error(paper.kind, len(question_ids))
    if problem is None and not paper_has_attempts(paper):
        problem = _inactive_error(question_ids)
    if problem:
        raise Conflict(problem, code="paper_incomplete")
    if paper.closes_at is not None and paper.closes_at <= now():
        raise Conflict(_("这套题的截止时间已过，请先修改截止时间再发布。"), code="paper_closed")
    paper.is_published = True
    paper.save(update_fields=["is_published"])
    audit_record(
        actor=actor,
        action="paper.publish",
        target=paper,
        organization=root,
        after={"kind": paper.kind, "opens_at": paper.opens_at},
        ip=ip,
    )
    return paper


@transaction.atomic
def paper_withdraw(*, actor: User, paper: Paper, ip: str | None = None) -> Paper:
    """Take a paper back: members no longer start it (an attempt already open may finish)."""
    root = require_bank_operator(actor)
    paper = Paper.objects.select_for_update().get(pk=paper.pk)
    if not paper.is_published:
        raise Conflict(_("这套题尚未发布。"), code="paper_not_published")
    paper.is_published = False
    paper.save(update_fields=["is_published"])
    audit_record(
        actor=actor,
        action="paper.withdraw",
        target=paper,
        organization=root,
        after={"kind": paper.kind},
        ip=ip,
    )
    return paper


@transaction.atomic
def paper_delete(*, actor: User, paper: Paper, ip: str | None = None) -> None:
    """Delete an unpublished paper nobody has started (its record stays in the audit log)."""
    root = require_bank_operator(actor)
    paper = Paper.objects.select_for_update().get(pk=paper.pk)
    if paper.is_published:
        raise Conflict(_("已发布的题不能删除，请先撤回。"), code="paper_published")
    if paper_has_attempts(paper):
        raise Conflict(_("已有学员作答这套题，不能删除。"), code="paper_started")
    audit_record(
        actor=actor,
        action="paper.delete",
        target=paper,
        organization=root,
        before={"kind": paper.kind, **_summary(paper, paper_question_ids(paper))},
        ip=ip,
    )
    paper.delete()
