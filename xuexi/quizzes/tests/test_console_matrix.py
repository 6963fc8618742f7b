"""The persona matrix for every quiz console route (SECURITY S8): 题库, 题目分类, 导入导出,
专项答题 and 每周答题.

Cast, on the shared ``personas`` tree (全国学习平台 › 示范省 › …):

* ``operator`` (运营人员 on the root) manages the bank: every route answers;
* ``province_operator`` (运营人员 on the province only), ``province_admin``, ``county_admin``,
  ``branch_admin``, ``editor`` (编辑 on the root) and ``member`` get 403 — the bank serves the
  whole platform, so nothing narrower than the root manages it;
* ``anonymous`` is sent to sign in (302).

An object that does not exist answers the operator 404 (and everyone else still 403). Every
accepted write leaves exactly its audit entries; every refusal leaves none and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.models import AuditEntry
from xuexi.core.testing import ask
from xuexi.core.time import BUSINESS_TZ, now
from xuexi.organizations.services import membership_place, role_grant
from xuexi.quizzes import excel
from xuexi.quizzes.models import Category, Paper, PaperQuestion, Question
from xuexi.quizzes.tests.factories import bank, paper
from xuexi.quizzes.tests.test_excel import row, xlsx

pytestmark = pytest.mark.django_db

PERSONAS = [
    "operator",
    "province_operator",
    "province_admin",
    "county_admin",
    "branch_admin",
    "editor",
    "member",
    "anonymous",
]
MISSING = 999_999


@pytest.fixture
def cast(personas: dict[str, Any]) -> dict[str, Any]:
    """The shared cast plus a provincial operator and a national editor, a small bank, a
    special paper, a draft weekly set and an import waiting for the operator's confirmation."""
    orgs = personas["orgs"]
    people = dict(personas)
    for name, node, role, phone in [
        ("province_operator", "province", "operator", "13800000020"),
        ("editor", "root", "editor", "13800000021"),
    ]:
        user = UserFactory.create(phone=phone)
        membership_place(user=user, organization=orgs["branch_a"])
        role_grant(user=user, organization=orgs[node], role=role, granted_by=None)
        user.refresh_from_db()
        people[name] = user
    questions = bank(16)
    people["question"] = questions[0]
    people["category"] = Category.objects.get(name="理论学习")
    people["special"] = paper("special", questions[:10], time_limit=600, title="专项")
    people["weekly"] = paper(
        "weekly", questions[:5], title="周", opens_at=now() + dt.timedelta(days=14)
    )
    people["ids"] = [q.pk for q in questions]
    preview = excel.import_preview_create(
        actor=personas["operator"],
        upload=SimpleUploadedFile("a.xlsx", xlsx([row(stem="矩阵导入的新题？")])),
    )
    people["token"] = preview.token
    return people


def everyone(allowed: int) -> dict[str, int]:
    """The operator gets ``allowed`` (404 for a missing object); everyone else 403 whatever
    the object; anonymous visitors are sent to sign in first."""
    table = dict.fromkeys(PERSONAS, 403)
    table["operator"] = allowed
    table["anonymous"] = 302
    return table


@dataclass(frozen=True)
class Page:
    method: str
    route: str  # the URL name, without "console:quizzes_"
    target: str | None  # the cast's object in the URL: a key of the cast, MISSING or None
    expect: dict[str, int]
    body: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    audits: list[str] = field(default_factory=list)  # what the operator's request records

    def path(self, p: dict[str, Any]) -> str:
        if self.target is None:
            args: list[Any] = []
        elif self.target == "missing":
            args = [MISSING]
        elif self.target == "token":
            args = [p["token"]]
        else:
            args = [p[self.target].pk]
        return reverse(f"console:quizzes_{self.route}", args=args)


def question_body(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "single",
        "category": str(p["category"].pk),
        "difficulty": "3",
        "stem": "矩阵测试题？",
        "option_a": "甲",
        "option_b": "乙",
        "correct": ["A"],
        "go": "save",
    }


def local(moment: dt.datetime) -> str:
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m-%dT%H:%M")


def special_body(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "矩阵专项",
        "opens_at": local(now()),
        "time_limit": "10",
        "questions": ",".join(str(pk) for pk in p["ids"][:5]),
        "go": "save",
    }


def weekly_body(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "矩阵每周",
        "week": (now() + dt.timedelta(days=35)).astimezone(BUSINESS_TZ).date().isoformat(),
        "questions": ",".join(str(pk) for pk in p["ids"][5:10]),
        "go": "save",
    }


PAGES: dict[str, Page] = {
    # 题库
    "question list": Page("get", "questions", None, everyone(200)),
    "question form": Page("get", "question_create", None, everyone(200)),
    "create a question": Page(
        "post", "question_create", None, everyone(302), question_body, ["question.create"]
    ),
    "edit a question": Page("get", "question_edit", "question", everyone(200)),
    "edit a missing question": Page("get", "question_edit", "missing", everyone(404)),
    "save a question": Page(
        "post",
        "question_edit",
        "question",
        everyone(302),
        question_body,
        ["question.update"],
    ),
    "retire a question": Page(
        "post",
        "question_status",
        "question",
        everyone(302),
        lambda p: {"action": "retire"},
        ["question.status"],
    ),
    "retire a missing question": Page(
        "post",
        "question_status",
        "missing",
        everyone(404),
        lambda p: {"action": "retire"},
    ),
    # 题目分类
    "categories": Page("get", "categories", None, everyone(200)),
    "category form": Page("get", "category_create", None, everyone(200)),
    "create a category": Page(
        "post",
        "category_create",
        None,
        everyone(302),
        lambda p: {"name": "法律法规"},
        ["question_category.create"],
    ),
    "rename form": Page("get", "category_edit", "category", everyone(200)),
    "rename a category": Page(
        "post",
        "category_edit",
        "category",
        everyone(302),
        lambda p: {"name": "理论"},
        ["question_category.rename"],
    ),
    "rename a missing category": Page(
        "post",
        "category_edit",
        "missing",
        everyone(404),
        lambda p: {"name": "理论"},
    ),
    # The export is a read that is audited: it carries every answer of the category.
    "export a category": Page(
        "get", "category_export", "category", everyone(200), audits=["question.export"]
    ),
    "export a missing category": Page("get", "category_export", "missing", everyone(404)),
    # 导入导出
    "import page": Page("get", "import", None, everyone(200)),
    "template": Page("get", "import_template", None, everyone(200)),
    # An upload is checked and kept for an hour in the cache; nothing is written yet.
    "upload a file": Page(
        "post",
        "import",
        None,
        everyone(302),
        lambda p: {"file": SimpleUploadedFile("b.xlsx", xlsx([row(stem="另一道新题？")]))},
    ),
    "preview": Page("get", "import_preview", "token", everyone(200)),
    "error workbook": Page("get", "import_errors", "token", everyone(200)),
    "confirm an import": Page(
        "post", "import_confirm", "token", everyone(302), audits=["question.import"]
    ),
    # 专项答题 · 每周答题
    "special papers": Page("get", "specials", None, everyone(200)),
    "weekly sets": Page("get", "weeklies", None, everyone(200)),
    "special form": Page("get", "special_create", None, everyone(200)),
    "weekly form": Page("get", "weekly_create", None, everyone(200)),
    "create a special paper": Page(
        "post", "special_create", None, everyone(302), special_body, ["paper.create"]
    ),
    "create a weekly set": Page(
        "post", "weekly_create", None, everyone(302), weekly_body, ["paper.create"]
    ),
    "pick questions": Page(
        "post",
        "special_create",
        None,
        everyone(200),
        lambda p: {**special_body(p), "go": "draw", "draw_count": "5"},
    ),
    "edit a paper": Page("get", "paper_edit", "special", everyone(200)),
    "edit a missing paper": Page("get", "paper_edit", "missing", everyone(404)),
    "save a paper": Page(
        "post",
        "paper_edit",
        "weekly",
        everyone(302),
        lambda p: {**weekly_body(p), "title": "改名"},
        ["paper.update"],
    ),
    "withdraw a paper": Page(
        "post",
        "paper_action",
        "special",
        everyone(302),
        lambda p: {"action": "withdraw"},
        ["paper.withdraw"],
    ),
    "publish a paper": Page(
        "post",
        "paper_action",
        "weekly",
        everyone(302),
        lambda p: {"action": "publish"},
        [],  # the weekly set is published already: refused with a message, nothing written
    ),
    "act on a missing paper": Page(
        "post",
        "paper_action",
        "missing",
        everyone(404),
        lambda p: {"action": "withdraw"},
    ),
}


def test_the_matrix_covers_every_quiz_console_route():
    from xuexi.quizzes import console_urls

    routes = {f"quizzes_{page.route}" for page in PAGES.values()}
    assert routes == {pattern.name for pattern in console_urls.urlpatterns}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page_name", PAGES)
def test_every_quiz_console_route_answers_each_persona_exactly(client, cast, page_name, persona):
    page = PAGES[page_name]
    response, (audit_before, snapshot) = ask(client, cast, persona, page_name, page, _before)
    if persona == "anonymous":
        assert "/accounts/" in response["Location"]
    recorded = list(
        AuditEntry.objects.filter(pk__gt=0).order_by("id").values_list("action", flat=True)
    )[audit_before:]
    if persona == "operator" and response.status_code in (200, 302):
        assert recorded == page.audits, (page_name, recorded)
    else:
        assert recorded == [], (page_name, persona, recorded)
        assert _state() == snapshot, (page_name, persona)


def _before() -> tuple[int, tuple[Any, ...]]:
    """The audit log's length, and the state, before the request."""
    return AuditEntry.objects.count(), _state()


def _state() -> tuple[Any, ...]:
    """Everything the routes may change, to prove that a refusal changed nothing."""
    return (
        list(Question.objects.order_by("pk").values_list("pk", "status", "current_id",
                                                         "difficulty")),
        list(Category.objects.order_by("pk").values_list("pk", "name")),
        list(Paper.objects.order_by("pk").values_list("pk", "title", "is_published", "opens_at")),
        list(PaperQuestion.objects.order_by("pk").values_list("paper_id", "question_id",
                                                              "position")),
    )  # fmt: skip
