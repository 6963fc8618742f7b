"""The quiz console (题库 · 题目分类 · 导入导出 · 专项答题 · 每周答题): operators write questions of
every type, edit them into new versions, switch them on and off, keep categories, import and
export through the pages, and build, publish and withdraw papers — and nobody else can, not
even by calling the services directly."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from xuexi.core.errors import Conflict, Forbidden, ValidationFailed
from xuexi.core.models import AuditEntry
from xuexi.core.time import BUSINESS_TZ, now
from xuexi.quizzes import bank, excel, papers
from xuexi.quizzes.models import (
    Category,
    Paper,
    PaperKind,
    Question,
    QuestionStatus,
    QuestionVersion,
)
from xuexi.quizzes.services import attempt_start
from xuexi.quizzes.tests.factories import SINGLE
from xuexi.quizzes.tests.factories import bank as make_bank
from xuexi.quizzes.tests.factories import paper as make_paper
from xuexi.quizzes.tests.test_excel import GOOD_ROWS, xlsx

pytestmark = pytest.mark.django_db


def asked(question: Question) -> QuestionVersion:
    """What ``question`` asks now (its current version, which every saved question has)."""
    assert question.current is not None
    return question.current


@pytest.fixture
def operator(personas: dict[str, Any]) -> Any:
    return personas["operator"]


@pytest.fixture
def console(client: Any, operator: Any) -> Any:
    client.force_login(operator)
    return client


@pytest.fixture
def theory() -> Category:
    return Category.objects.create(name="理论学习", position=1)


def url(name: str, *args: Any) -> str:
    return reverse(f"console:quizzes_{name}", args=args)


def question_form(category: Category, /, **changes: Any) -> dict[str, Any]:
    """The form as an operator fills it for a single-choice question."""
    return {
        "type": "single",
        "category": str(category.pk),
        "difficulty": "2",
        "stem": "党的二十大在哪一年召开？",
        "option_a": "2017",
        "option_b": "2022",
        "option_c": "2027",
        "correct": ["B"],
        "explanation": "党的二十大于 2022 年 10 月召开。",
        "hint": "2022 年 10 月，党的二十大召开。",
        "go": "active",
        **changes,
    }


# --- 题库: the list ----------------------------------------------------------------------------


def test_the_list_searches_the_stem_and_filters(console, theory):
    questions = make_bank(8)
    bank.question_set_status(actor=None, question=questions[0], status=QuestionStatus.RETIRED)
    history = Category.objects.get(name="党史")

    def shown(query: str) -> set[int]:
        response = console.get(url("questions") + query)
        assert response.status_code == 200
        return {q.pk for q in response.context["page"].object_list}

    assert shown("") == {q.pk for q in questions}
    assert shown("?q=新发展理念") == {q.pk for q in questions if q.type == "multiple"}
    assert shown("?type=fill") == {q.pk for q in questions if q.type == "fill"}
    assert shown("?status=retired") == {questions[0].pk}
    assert shown(f"?category={history.pk}") == {q.pk for q in questions if q.category == history}
    assert shown("?difficulty=5") == set()
    assert shown("?type=essay&status=gone&difficulty=9&category=x") == shown("")  # junk dropped


def test_the_list_costs_the_same_queries_for_five_questions_or_twenty(console, theory):
    make_bank(5)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert console.get(url("questions")).status_code == 200
        return len(captured)

    queries()  # the first request of a test warms caches (the session, the rule set)
    few = queries()
    make_bank(15)
    assert queries() == few


def test_the_list_pages_by_twenty(console, theory):
    make_bank(25)
    first = console.get(url("questions") + "?type=")
    second = console.get(url("questions") + "?type=&page=2")
    assert len(first.context["page"].object_list) == 20
    assert len(second.context["page"].object_list) == 5
    assert "type=&amp;page=2" in first.content.decode()  # the pager keeps the filters


# --- 题库: create and edit ---------------------------------------------------------------------


def test_an_operator_writes_a_question_of_every_type(console, theory):
    forms = [
        question_form(theory),
        question_form(theory, type="multiple", stem="下列哪些属于新发展理念？", option_a="创新",
                      option_b="协调", option_c="封闭", option_d="绿色", correct=["A", "B", "D"]),
        question_form(theory, type="true_false", stem="绿水青山就是金山银山。", truth="T",
                      correct=[], go="draft"),
        question_form(theory, type="fill", stem="实施____振兴战略，建设____中国。",
                      blanks="乡村\n美丽|美丽的\n", correct=[], supplier="省委党校",
                      recommender="王老师", origin="《求是》", tags="乡村振兴", hint_item=""),
    ]  # fmt: skip
    for data in forms:
        response = console.post(url("question_create"), data)
        assert response.status_code == 302, response.content.decode()[:2000]
    made = {q.type: q for q in Question.objects.select_related("current")}
    assert asked(made["single"]).answer == ["B"]
    assert asked(made["multiple"]).answer == ["A", "B", "D"]
    assert asked(made["true_false"]).answer == ["T"]
    assert made["true_false"].status == QuestionStatus.DRAFT
    assert asked(made["fill"]).answer == [["乡村"], ["美丽", "美丽的"]]
    assert (made["fill"].supplier, made["fill"].origin) == ("省委党校", "《求是》")
    assert AuditEntry.objects.filter(action="question.create").count() == 4


def test_save_and_continue_opens_a_new_form_in_the_same_category(console, theory):
    response = console.post(url("question_create"), question_form(theory, go="next"))
    assert response["Location"] == f"{url('question_create')}?category={theory.pk}"
    form = console.get(response["Location"]).context["form"]
    assert form.initial["category"] == theory.pk


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        ({"stem": ""}, "stem", "请填写题干。"),
        ({"category": ""}, "category", "请选择分类。"),
        ({"category": "999999"}, "category", "该分类不存在，请重新选择。"),
        ({"option_b": "", "option_c": ""}, "options", "选择题需要 2 到 8 个选项。"),
        ({"correct": []}, "answer", "请勾选正确的选项。"),
        ({"correct": ["A", "B"]}, "answer", "单选题只能有一个正确选项。"),
        ({"type": "true_false", "correct": []}, "answer", "判断题答案应为“正确”或“错误”。"),
        ({"type": "fill", "blanks": "只有一个"}, "stem", "应有 1 个"),
        ({"hint_item": "999999"}, "hint_item", "出处文章不存在。"),
    ],
)
def test_a_wrong_question_comes_back_with_its_reason_and_nothing_is_saved(
    console, theory, changes, where, message
):
    response = console.post(url("question_create"), question_form(theory, **changes))
    assert response.status_code == 422
    form = response.context["form"]
    errors = {**{k: " ".join(v) for k, v in form.errors.items()}, **form.part_errors}
    assert where in errors, errors
    assert message in errors[where]
    assert Question.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_editing_an_active_question_makes_a_version_and_keeps_the_old(console, theory):
    question = bank.question_create(actor=None, data={**SINGLE, "category": theory})
    first = asked(question)
    page = console.get(url("question_edit", question.pk))
    assert page.context["form"].initial["correct"] == ["B"]
    assert "type" not in page.context["form"].fields  # the type never changes
    response = console.post(
        url("question_edit", question.pk),
        question_form(theory, stem="党的二十大于哪一年召开？", type="multiple", go="save"),
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.type == "single"
    assert (asked(question).number, asked(question).stem) == (2, "党的二十大于哪一年召开？")
    assert QuestionVersion.objects.get(pk=first.pk).stem == SINGLE["stem"]
    entry = AuditEntry.objects.get(action="question.update")
    assert (entry.before, entry.after) == ({"version": 1}, {"version": 2})
    history = console.get(url("question_edit", question.pk)).context["versions"]
    assert [version.number for version in history] == [2, 1]


def test_saving_the_same_content_writes_no_version(console, theory):
    question = bank.question_create(actor=None, data={**SINGLE, "category": theory})
    data = question_form(theory, stem=SINGLE["stem"], explanation=SINGLE["explanation"],
                         hint=SINGLE["hint"], go="save")  # fmt: skip
    console.post(url("question_edit", question.pk), data)
    assert question.versions.count() == 1
    assert not AuditEntry.objects.filter(action="question.update").exists()
    console.post(url("question_edit", question.pk), {**data, "difficulty": "4"})
    question.refresh_from_db()
    assert (question.difficulty, question.versions.count()) == (4, 1)


def test_an_operator_retires_and_activates_a_question_from_the_list(console, theory):
    question = bank.question_create(actor=None, data={**SINGLE, "category": theory})
    back = url("questions") + "?status=active"
    response = console.post(url("question_status", question.pk), {"action": "retire", "next": back})
    assert response["Location"] == back
    question.refresh_from_db()
    assert question.status == QuestionStatus.RETIRED
    console.post(
        url("question_status", question.pk), {"action": "activate", "next": "https://evil.example/"}
    )
    question.refresh_from_db()
    assert question.status == QuestionStatus.ACTIVE
    assert AuditEntry.objects.filter(action="question.status").count() == 2
    response = console.post(url("question_status", question.pk), {"action": "explode"})
    assert response["Location"] == url("questions")


# --- categories ---------------------------------------------------------------------------------


def test_categories_are_created_renamed_and_never_doubled(console, theory):
    assert console.post(url("category_create"), {"name": " 党史 "}).status_code == 302
    history = Category.objects.get(name="党史")
    assert history.position == theory.position + 1
    duplicate = console.post(url("category_create"), {"name": "理论学习"})
    assert duplicate.status_code == 422
    assert "已有同名的分类「理论学习」。" in duplicate.context["form"].errors["name"]
    console.post(url("category_edit", history.pk), {"name": "党史学习"})
    history.refresh_from_db()
    assert history.name == "党史学习"
    listing = console.get(url("categories")).context["categories"]
    assert [c.name for c in listing] == ["理论学习", "党史学习"]
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["question_category.create", "question_category.rename"]


# --- import and export through the pages --------------------------------------------------------


def test_upload_preview_confirm_through_the_pages(console, theory):
    upload = SimpleUploadedFile("本周新题.xlsx", xlsx(GOOD_ROWS))
    response = console.post(url("import"), {"file": upload})
    assert response.status_code == 302
    preview = console.get(response["Location"])
    assert preview.status_code == 200
    assert preview.context["preview"].created == 4
    assert "确认导入" in preview.content.decode()
    assert Question.objects.count() == 0  # nothing until confirmed
    token = preview.context["preview"].token
    done = console.post(url("import_confirm", token), follow=True)
    assert "导入完成：新增 4 道" in done.content.decode()
    assert Question.objects.count() == 4


def test_a_file_with_errors_shows_them_and_offers_the_error_workbook(console, theory):
    upload = SimpleUploadedFile("坏.xlsx", xlsx([GOOD_ROWS[0], {**GOOD_ROWS[1], "answer": "Z"}]))
    preview = console.get(console.post(url("import"), {"file": upload})["Location"])
    page = preview.content.decode()
    assert "确认导入" not in page
    assert "答案应为选项字母" in page
    token = preview.context["preview"].token
    report = console.get(url("import_errors", token))
    assert report["Content-Disposition"].startswith("attachment")
    assert report["X-Content-Type-Options"] == "nosniff"
    rows = list(load_workbook(io.BytesIO(report.content))["错误报告"].iter_rows(values_only=True))
    assert rows[1][:2] == (3, "答案")
    assert console.post(url("import_confirm", token)).status_code == 302
    assert Question.objects.count() == 0


def test_a_file_of_the_wrong_kind_is_refused_on_the_upload_page(console, theory):
    upload = SimpleUploadedFile("题目.xlsx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\n")
    response = console.post(url("import"), {"file": upload})
    assert response.status_code == 422
    assert "不支持该文件类型（PDF）" in response.content.decode()


def test_the_template_and_an_export_download_as_attachments(console, theory):
    make_bank(4)
    template = console.get(url("import_template"))
    assert template["Content-Type"] == excel.XLSX_CONTENT_TYPE
    assert template["Content-Disposition"].startswith("attachment")
    exported = console.get(url("category_export", theory.pk))
    assert exported["Content-Type"] == excel.XLSX_CONTENT_TYPE
    rows = list(load_workbook(io.BytesIO(exported.content))["题目"].iter_rows(values_only=True))
    assert len(rows) == 1 + Question.objects.filter(category=theory).count()
    assert AuditEntry.objects.filter(action="question.export").count() == 1


def test_someone_elses_preview_answers_404(client, personas, theory):
    client.force_login(personas["operator"])
    upload = SimpleUploadedFile("a.xlsx", xlsx(GOOD_ROWS))
    location = client.post(url("import"), {"file": upload})["Location"]
    token = location.rstrip("/").rsplit("/", 1)[-1]
    from xuexi.organizations.services import role_grant

    colleague = personas["province_admin"]
    role_grant(user=colleague, organization=personas["orgs"]["root"], role="operator",
               granted_by=None)  # fmt: skip
    client.force_login(colleague)
    assert client.get(location).status_code == 404
    assert client.post(url("import_confirm", token)).status_code == 404
    assert Question.objects.count() == 0


# --- papers -------------------------------------------------------------------------------------


def local(moment: dt.datetime) -> str:
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m-%dT%H:%M")


def special_form(ids: list[int], **changes: Any) -> dict[str, Any]:
    return {
        "title": "学习二十大精神专项答题",
        "description": "",
        "opens_at": local(now()),
        "closes_at": local(now() + dt.timedelta(days=7)),
        "time_limit": "10",
        "questions": ",".join(str(pk) for pk in ids),
        "go": "save",
        **changes,
    }


def test_an_operator_builds_and_publishes_a_special_paper(console, theory):
    questions = make_bank(12)
    ids = [q.pk for q in questions[:10]]
    response = console.post(url("special_create"), special_form(ids, go="publish"))
    assert response["Location"] == url("specials")
    made = Paper.objects.get()
    assert (made.kind, made.is_published, made.time_limit) == ("special", True, 600)
    assert papers.paper_question_ids(made) == ids
    assert [e.action for e in AuditEntry.objects.order_by("id")] == [
        "paper.create",
        "paper.publish",
    ]
    listing = console.get(url("specials")).context["page"].object_list
    assert [(p.question_count, p.console_state) for p in listing] == [(10, "open")]


@pytest.mark.parametrize(
    ("count", "changes", "field", "message"),
    [
        (7, {}, "questions", "专项答题须为 10 道或 5 道题，现在选了 7 道。"),
        (10, {"time_limit": "0"}, "time_limit", "限时应为 1 到 120 分钟。"),
        (10, {"closes_at": local(now() - dt.timedelta(days=1))}, "closes_at", "应晚于开始时间"),
        (10, {"title": ""}, "title", "请填写名称。"),
    ],
)  # fmt: skip
def test_a_wrong_special_paper_is_refused_with_its_reason(
    console, theory, count, changes, field, message
):
    questions = make_bank(12)
    response = console.post(
        url("special_create"), special_form([q.pk for q in questions[:count]], **changes)
    )
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert Paper.objects.count() == 0


def test_a_paper_takes_only_active_questions(console, theory):
    questions = make_bank(10)
    bank.question_set_status(actor=None, question=questions[3], status=QuestionStatus.DRAFT)
    response = console.post(url("special_create"), special_form([q.pk for q in questions]))
    errors = " ".join(response.context["form"].errors["questions"])
    assert f"题目 {questions[3].pk} 不存在或未启用" in errors


def test_the_picker_adds_draws_moves_and_removes_without_saving(console, theory):
    questions = make_bank(12)
    first, second = questions[0].pk, questions[1].pk
    page = console.post(url("special_create"), special_form([], go="add", pick=[first, second]))
    assert page.status_code == 200
    assert [q.pk for q in page.context["chosen"]] == [first, second]
    assert page.context["form"].initial["title"] == "学习二十大精神专项答题"  # typed, kept
    page = console.post(url("special_create"), special_form([first, second], go=f"up:{second}"))
    assert [q.pk for q in page.context["chosen"]] == [second, first]
    page = console.post(
        url("special_create"), special_form([first, second], go="draw", draw_count="8")
    )
    chosen = [q.pk for q in page.context["chosen"]]
    assert chosen[:2] == [first, second]
    assert len(set(chosen)) == len(chosen) == 10
    page = console.post(url("special_create"), special_form(chosen, go=f"remove:{first}"))
    assert first not in [q.pk for q in page.context["chosen"]]
    page = console.post(url("special_create"), special_form([], go="search", pick_q="新发展理念"))
    assert {q.type for q in page.context["results"]} == {"multiple"}
    assert Paper.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_one_weekly_set_a_week_opening_on_its_monday(console, theory):
    questions = make_bank(10)
    monday = papers.week_start(now())
    wednesday = (monday + dt.timedelta(days=2)).date()
    form = {
        "title": "本周每周答题",
        "week": wednesday.isoformat(),
        "questions": ",".join(str(q.pk) for q in questions[:5]),
        "go": "publish",
    }
    assert console.post(url("weekly_create"), form).status_code == 302
    weekly = Paper.objects.get()
    assert weekly.opens_at == monday
    assert weekly.is_published
    again = console.post(url("weekly_create"), {**form, "title": "同一周的第二套"})
    assert again.status_code == 422
    assert "这一周已有每周答题「本周每周答题」" in " ".join(again.context["form"].errors["week"])
    suggested = console.get(url("weekly_create")).context["form"].initial["week"]
    assert suggested == (monday + dt.timedelta(days=7)).date()  # the next free week


def test_a_started_paper_keeps_its_questions_and_time(console, theory, personas):
    questions = make_bank(12)
    special = make_paper("special", questions[:10], time_limit=600)
    attempt_start(member=personas["member"], kind="special", paper_id=special.pk)
    page = console.get(url("paper_edit", special.pk))
    assert page.context["frozen"]
    assert page.context["form"].fields["time_limit"].disabled
    ids = [q.pk for q in questions[:10]]
    response = console.post(
        url("paper_edit", special.pk),
        special_form(ids[::-1], title="改名后的专项答题", time_limit="30"),
    )
    assert response.status_code == 302
    special.refresh_from_db()
    assert special.title == "改名后的专项答题"
    assert special.time_limit == 600
    assert papers.paper_question_ids(special) == ids  # the posted order was ignored
    with pytest.raises(Conflict):
        papers.paper_update(
            actor=personas["operator"],
            paper=special,
            data=papers.PaperData(title="x", opens_at=special.opens_at, question_ids=ids[::-1],
                                  time_limit=600),
        )  # fmt: skip


def test_papers_are_withdrawn_republished_and_deleted_from_the_list(console, theory):
    questions = make_bank(10)
    special = make_paper("special", questions, time_limit=600)
    action = url("paper_action", special.pk)
    console.post(action, {"action": "delete"})
    assert Paper.objects.filter(pk=special.pk).exists()  # published: withdraw first
    console.post(action, {"action": "withdraw"})
    special.refresh_from_db()
    assert not special.is_published
    console.post(action, {"action": "publish"})
    special.refresh_from_db()
    assert special.is_published
    console.post(action, {"action": "withdraw"})
    console.post(action, {"action": "delete"})
    assert not Paper.objects.filter(pk=special.pk).exists()
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["paper.withdraw", "paper.publish", "paper.withdraw", "paper.delete"]


def test_publishing_checks_the_questions_again(operator, theory):
    questions = make_bank(10)
    draft = papers.paper_create(
        actor=operator,
        kind=PaperKind.SPECIAL,
        data=papers.PaperData(title="草稿", opens_at=now(), time_limit=600,
                              question_ids=[q.pk for q in questions]),
    )  # fmt: skip
    bank.question_set_status(actor=operator, question=questions[0], status=QuestionStatus.RETIRED)
    with pytest.raises(Conflict) as caught:
        papers.paper_publish(actor=operator, paper=draft)
    assert "未启用" in str(caught.value.message)


# --- the menu and refusals ----------------------------------------------------------------------


def test_only_platform_operators_see_the_quiz_menu(client, personas):
    client.force_login(personas["operator"])
    assert "题目分类" in client.get(reverse("console:login_log")).content.decode()
    client.force_login(personas["province_admin"])
    page = client.get(reverse("console:login_log")).content.decode()
    assert "题目分类" not in page


def test_an_operator_of_a_province_is_no_bank_operator(client, personas):
    from xuexi.organizations.services import role_grant

    person = personas["county_admin"]
    role_grant(user=person, organization=personas["orgs"]["province"], role="operator",
               granted_by=None)  # fmt: skip
    client.force_login(person)
    assert client.get(url("questions")).status_code == 403


@pytest.mark.parametrize("persona", ["province_admin", "branch_admin", "member", "stranger"])
def test_the_services_refuse_anyone_but_an_operator(personas, theory, persona):
    person = personas[persona]
    question = bank.question_create(actor=None, data={**SINGLE, "category": theory})
    questions = make_bank(10)
    special = make_paper("special", questions, time_limit=600)
    before = (
        list(Question.objects.values_list("pk", "status", "current_id")),
        list(Category.objects.values_list("pk", "name")),
        list(Paper.objects.values_list("pk", "title", "is_published")),
    )
    changed = {**SINGLE, "category": theory, "stem": "改过的题干？"}
    paper_data = papers.PaperData(title="x", opens_at=now())
    calls = [
        lambda: bank.question_create(actor=person, data={**SINGLE, "category": theory}),
        lambda: bank.question_update(actor=person, question=question, data=changed),
        lambda: bank.question_set_status(actor=person, question=question, status="retired"),
        lambda: bank.category_create(actor=person, name="新分类"),
        lambda: bank.category_rename(actor=person, category=theory, name="改名"),
        lambda: papers.paper_create(actor=person, kind="special", data=paper_data),
        lambda: papers.paper_update(actor=person, paper=special, data=paper_data),
        lambda: papers.paper_withdraw(actor=person, paper=special),
        lambda: papers.paper_delete(actor=person, paper=special),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    after = (
        list(Question.objects.values_list("pk", "status", "current_id")),
        list(Category.objects.values_list("pk", "name")),
        list(Paper.objects.values_list("pk", "title", "is_published")),
    )
    assert after == before
    assert AuditEntry.objects.count() == 0


def test_bad_question_data_in_the_service_is_refused_before_anything_is_written(operator, theory):
    with pytest.raises(ValidationFailed):
        bank.question_create(actor=operator, data={**SINGLE, "category": theory}, status="gone")
    assert Question.objects.count() == 0
