"""题库导入导出: the template, every row error in Chinese, all-or-nothing, the round trip of
an export, formula injection, refused files, the preview kept between upload and confirm."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from xuexi.content.models import Channel, ChannelKind, Column, Item, ItemKind, ItemStatus
from xuexi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xuexi.core.models import AuditEntry
from xuexi.core.time import now
from xuexi.quizzes import bank, excel
from xuexi.quizzes.access import require_bank_operator
from xuexi.quizzes.models import Category, Question, QuestionStatus, QuestionVersion
from xuexi.quizzes.tests.factories import SINGLE

pytestmark = pytest.mark.django_db


def asked(question: Question) -> QuestionVersion:
    """What ``question`` asks now (its current version, which every saved question has)."""
    assert question.current is not None
    return question.current


HEADER = [excel.HEADERS[name] for name in excel.FIELDS]


@pytest.fixture
def operator(personas: dict[str, Any]) -> Any:
    return personas["operator"]


@pytest.fixture
def theory() -> Category:
    Category.objects.create(name="党史", position=2)
    return Category.objects.create(name="理论学习", position=1)


def row(**cells: str) -> dict[str, str]:
    """A valid single-choice row, with ``cells`` changed."""
    return {
        "type": "单选",
        "category": "理论学习",
        "stem": "党的二十大在哪一年召开？",
        "option_a": "2017",
        "option_b": "2022",
        "option_c": "2027",
        "answer": "B",
        "explanation": "党的二十大于 2022 年 10 月召开。",
        **cells,
    }


GOOD_ROWS = [
    row(),
    row(
        type="多选",
        stem="下列哪些属于新发展理念？",
        option_a="创新",
        option_b="协调",
        option_c="封闭",
        option_d="绿色",
        answer="A、B、D",
        difficulty="3",
        tags="新发展理念",
        supplier="省委党校",
        recommender="王老师",
        origin="《求是》2021 年第 9 期",
    ),
    row(type="判断", stem="绿水青山就是金山银山。", option_a="", option_b="", option_c="",
        answer="√", status="草稿"),
    row(type="填空", stem="实施____振兴战略，建设____中国。", option_a="", option_b="",
        option_c="", answer="乡村；美丽|美丽的", hint="乡村振兴、美丽中国。"),
]  # fmt: skip


def xlsx(rows: list[dict[str, str]], *, header: list[str] | None = None) -> bytes:
    """A workbook as a person types it; text that looks like a formula stays text (openpyxl
    would otherwise store ``=…`` as a formula)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "题目"
    sheet.append(header or HEADER)
    for cells in rows:
        sheet.append([cells.get(name, "") for name in excel.FIELDS])
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "题目.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def check(operator: Any, data: bytes) -> excel.BankCheck:
    return excel.bank_check(actor=operator, rows=excel.bank_read(data))


def state() -> tuple[Any, ...]:
    return (
        list(Question.objects.order_by("pk").values_list("pk", "status", "current_id", "tags")),
        QuestionVersion.objects.count(),
        AuditEntry.objects.count(),
    )


# --- the template ------------------------------------------------------------------------------


def test_the_template_has_headers_examples_drop_downs_and_instructions(operator, theory):
    book = load_workbook(io.BytesIO(excel.bank_template(actor=operator)))
    assert book.sheetnames == ["题目", "分类列表", "填写说明"]
    sheet = book["题目"]
    header = [cell.value for cell in sheet[1]]
    assert [str(value).rstrip("*") for value in header] == HEADER
    assert header[excel.FIELDS.index("stem")] == "题干*"
    examples = [[cell.value for cell in line] for line in sheet.iter_rows(min_row=2, max_row=5)]
    assert {line[0] for line in examples} == {"示例"}
    assert {line[1] for line in examples} == {"单选", "多选", "判断", "填空"}
    validations = {
        str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation
    }
    assert validations["B2"] == '"单选,多选,判断,填空"'  # 题型
    assert validations["C2"] == "'分类列表'!$A$2:$A$3"  # 分类, from the hidden sheet
    assert validations[f"{chr(ord('A') + excel.FIELDS.index('difficulty'))}2"] == '"1,2,3,4,5"'
    assert [c.value for c in book["分类列表"]["A"]] == ["分类", "理论学习", "党史"]
    assert book["分类列表"].sheet_state == "hidden"
    assert "全部数据" in "".join(str(c.value) for c in book["填写说明"]["A"])  # fmt: skip


def test_the_template_filled_in_imports_every_type(operator, theory):
    book = load_workbook(io.BytesIO(excel.bank_template(actor=operator)))
    sheet = book["题目"]
    for cells in GOOD_ROWS:
        sheet.append([cells.get(name, "") for name in excel.FIELDS])
    buffer = io.BytesIO()
    book.save(buffer)

    preview = excel.import_preview_create(actor=operator, upload=upload(buffer.getvalue()))
    assert (preview.state, preview.created, preview.errors) == ("previewed", 4, [])
    assert [line["row"] for line in preview.lines] == [6, 7, 8, 9]  # the examples skipped
    done = excel.import_preview_confirm(actor=operator, token=preview.token)
    assert (done.state, done.created) == ("imported", 4)

    made = {q.type: q for q in Question.objects.select_related("current", "category")}
    assert asked(made["single"]).answer == ["B"]
    assert asked(made["single"]).options[1] == {"key": "B", "text": "2022"}
    assert asked(made["multiple"]).answer == ["A", "B", "D"]
    assert (made["multiple"].difficulty, made["multiple"].supplier) == (3, "省委党校")
    assert asked(made["true_false"]).answer == ["T"]
    assert made["true_false"].status == QuestionStatus.DRAFT
    assert asked(made["fill"]).answer == [["乡村"], ["美丽", "美丽的"]]
    assert made["fill"].status == QuestionStatus.ACTIVE  # no 状态: active
    entry = AuditEntry.objects.get(action="question.import")
    assert entry.actor == operator
    assert entry.after is not None
    assert (entry.after["created"], entry.after["file"]) == (4, "题目.xlsx")


def test_a_csv_in_gbk_or_utf8_imports_too(operator, theory):
    lines = [",".join(HEADER), ",".join(GOOD_ROWS[0].get(name, "") for name in excel.FIELDS)]
    text = "\r\n".join(lines)
    for data in (text.encode("gb18030"), ("\ufeff" + text).encode("utf-8")):
        rows = excel.bank_read(data)
        assert rows[0].get("stem") == "党的二十大在哪一年召开？"
    result = excel.bank_import(actor=operator, rows=excel.bank_read(text.encode("gb18030")))
    assert len(result.created) == 1


# --- every row error --------------------------------------------------------------------------


@pytest.fixture
def article() -> Item:
    from xuexi.organizations.models import Organization

    root = Organization.objects.get(depth=1)
    channel = Channel.objects.create(kind=ChannelKind.NATIONAL, name="全国", platform=root)
    column = Column.objects.create(channel=channel, name="要闻", slug="news")
    return Item.objects.create(
        kind=ItemKind.ARTICLE,
        column=column,
        title="原文",
        status=ItemStatus.PUBLISHED,
        published_at=now(),
    )


ROW_ERRORS = [
    ({"type": ""}, "type", "请填写题型"),
    ({"type": "问答"}, "type", "题型「问答」无效"),
    ({"category": ""}, "category", "请填写分类"),
    ({"category": "没有的分类"}, "category", "分类「没有的分类」不存在"),
    ({"stem": ""}, "stem", "请填写题干"),
    ({"stem": "长" * 501}, "stem", "题干不能超过 500 个字"),
    ({"option_b": "", "option_c": ""}, "option_a", "选择题需要 2 到 8 个选项"),
    ({"option_b": ""}, "option_b", "选项B为空，但后面还有选项"),
    ({"option_c": "2017"}, "option_a", "选项不能重复"),
    ({"answer": ""}, "answer", "答案应为选项字母"),
    ({"answer": "E"}, "answer", "答案应为选项字母"),
    ({"answer": "AB"}, "answer", "单选题只能有一个正确选项"),
    ({"type": "多选", "answer": "A"}, "answer", "多选题至少有两个正确选项"),
    ({"type": "判断", "option_a": "", "option_b": "", "option_c": "", "answer": "也许"},
     "answer", "判断题答案应为"),
    ({"type": "判断"}, "option_a", "判断题和填空题不填选项"),
    ({"type": "填空", "stem": "建设____中国", "option_a": "", "option_b": "", "option_c": "",
      "answer": "美丽;富强"}, "stem", "应有 2 个"),
    ({"type": "填空", "stem": "建设____中国", "option_a": "", "option_b": "", "option_c": "",
      "answer": ""}, "answer", "请为每个空填写答案"),
    ({"explanation": "长" * 1001}, "explanation", "解析过长"),
    ({"hint": "长" * 2001}, "hint", "出题依据过长"),
    ({"hint_item": "999999"}, "hint_item", "出处文章编号「999999」不存在"),
    ({"hint_item": "第三篇"}, "hint_item", "出处文章编号「第三篇」不存在"),
    ({"difficulty": "9"}, "difficulty", "难度应为 1 到 5"),
    ({"difficulty": "难"}, "difficulty", "难度应为 1 到 5"),
    ({"tags": "标" * 201}, "tags", "标签不能超过 200 个字"),
    ({"supplier": "单" * 61}, "supplier", "供题单位不能超过 60 个字"),
    ({"recommender": "人" * 61}, "recommender", "推荐人不能超过 60 个字"),
    ({"origin": "处" * 121}, "origin", "出处不能超过 120 个字"),
    ({"status": "作废"}, "status", "状态「作废」无效"),
    ({"id": "abc"}, "id", "编号应为题库中题目的编号"),
    ({"id": "999999"}, "id", "题库中没有编号为 999999 的题目"),
]  # fmt: skip


@pytest.mark.parametrize(("cells", "column", "message"), ROW_ERRORS)
def test_every_bad_cell_is_named_with_its_row_and_column_in_chinese(
    operator, theory, cells, column, message
):
    result = check(operator, xlsx([row(stem="第一道好题？"), row(**cells)]))
    assert [(e.row, e.column) for e in result.errors][:1] == [(3, column)], result.errors
    assert message in result.errors[0].message
    assert not result.ok


def test_a_linked_article_is_accepted_by_its_number(operator, theory, article):
    result = check(operator, xlsx([row(hint_item=str(article.pk))]))
    assert result.ok
    assert result.creates[0].clean.hint_item == article


def test_the_same_question_twice_in_a_file_or_already_in_the_bank_is_refused(operator, theory):
    result = check(operator, xlsx([row(), row(explanation="另一个解析")]))
    assert [(e.row, e.column) for e in result.errors] == [(3, "stem")]
    assert "与第 2 行是同一道题" in result.errors[0].message

    excel.bank_import(actor=operator, rows=excel.bank_read(xlsx([row()])))
    again = check(operator, xlsx([row(), row(stem="新题？")]))
    existing = Question.objects.get()
    assert [(e.row, e.column) for e in again.errors] == [(2, "stem")]
    assert f"题库中已有相同的题目（编号 {existing.pk}，启用）" in again.errors[0].message


def test_a_row_may_not_change_the_type_of_a_question(operator, theory):
    question = bank.question_create(actor=operator, data={**SINGLE, "category": theory})
    result = check(operator, xlsx([row(id=str(question.pk), type="多选", answer="AB")]))
    assert [(e.column) for e in result.errors] == ["type"]
    assert "题型不能修改" in result.errors[0].message


def test_every_error_of_a_row_is_reported_not_only_the_first(operator, theory):
    result = check(operator, xlsx([row(type="问答", category="无", stem="", difficulty="0")]))
    assert [e.column for e in result.errors] == ["type", "category", "stem", "difficulty"]


# --- all or nothing ----------------------------------------------------------------------------


def test_one_bad_row_among_good_ones_writes_nothing(operator, theory):
    before = state()
    rows = excel.bank_read(xlsx([*GOOD_ROWS, row(stem="坏题？", answer="Z")]))
    with pytest.raises(excel.ImportRejected) as caught:
        excel.bank_import(actor=operator, rows=rows)
    assert state() == before
    assert caught.value.details["rows"] == [
        {"row": 6, "field": "answer", "message": "答案应为选项字母，如 A 或 AC。"}
    ]
    assert "未导入任何题目" in str(caught.value.message)


def test_a_preview_with_errors_cannot_be_confirmed_and_offers_an_error_workbook(operator, theory):
    preview = excel.import_preview_create(
        actor=operator, upload=upload(xlsx([row(), row(stem="坏题？", answer="Z")]))
    )
    assert preview.state == "rejected"
    assert not preview.can_confirm
    with pytest.raises(Conflict):
        excel.import_preview_confirm(actor=operator, token=preview.token)
    book = load_workbook(
        io.BytesIO(excel.import_preview_errors(actor=operator, token=preview.token))
    )
    lines = [[c.value for c in line] for line in book["错误报告"].iter_rows()]
    assert lines[0][:4] == ["行号", "列", "原因", "编号"]
    assert lines[1][:3] == [3, "答案", "答案应为选项字母，如 A 或 AC。"]
    assert lines[1][3 + excel.FIELDS.index("stem")] == "坏题？"
    assert Question.objects.count() == 0


def test_a_confirmation_imports_once_however_often_it_is_clicked(operator, theory):
    preview = excel.import_preview_create(actor=operator, upload=upload(xlsx(GOOD_ROWS)))
    excel.import_preview_confirm(actor=operator, token=preview.token)
    with pytest.raises(Conflict):
        excel.import_preview_confirm(actor=operator, token=preview.token)
    assert Question.objects.count() == 4
    assert AuditEntry.objects.filter(action="question.import").count() == 1


def test_a_preview_belongs_to_its_operator_and_lasts_an_hour(operator, theory, personas):
    from xuexi.organizations.services import role_grant

    preview = excel.import_preview_create(actor=operator, upload=upload(xlsx(GOOD_ROWS)))
    colleague = personas["province_admin"]
    role_grant(user=colleague, organization=personas["orgs"]["root"], role="operator",
               granted_by=None)  # fmt: skip
    with pytest.raises(NotFound):
        excel.import_preview_get(actor=colleague, token=preview.token)
    with pytest.raises(NotFound):
        excel.import_preview_confirm(actor=colleague, token=preview.token)
    from django.core.cache import cache

    cache.clear()  # what an hour does
    with pytest.raises(NotFound):
        excel.import_preview_confirm(actor=operator, token=preview.token)
    assert Question.objects.count() == 0


def test_a_file_that_changes_nothing_is_not_imported(operator, theory):
    excel.bank_import(actor=operator, rows=excel.bank_read(xlsx([row()])))
    question = Question.objects.get()
    with pytest.raises(Conflict) as caught:
        excel.bank_import(actor=operator, rows=excel.bank_read(xlsx([row(id=str(question.pk))])))
    assert caught.value.code == "nothing_to_import"


# --- the export and the round trip -------------------------------------------------------------


def exported(operator: Any, category: Category) -> bytes:
    return excel.bank_export(actor=operator, category=category)


def test_an_export_imports_back_without_a_change(operator, theory):
    excel.bank_import(actor=operator, rows=excel.bank_read(xlsx(GOOD_ROWS)))
    before = state()
    data = exported(operator, theory)
    result = check(operator, data)
    assert result.ok
    assert result.count("unchanged") == 4
    assert (result.creates, result.updates) == ([], [])
    assert state()[:2] == before[:2]
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["题目", "分类列表", "导出说明", "填写说明"]
    assert AuditEntry.objects.get(action="question.export").after == {"rows": 4}


def test_an_export_imported_without_its_numbers_rebuilds_the_same_bank(operator, theory):
    excel.bank_import(actor=operator, rows=excel.bank_read(xlsx(GOOD_ROWS)))
    data = exported(operator, theory)
    originals = {q.pk: excel.question_values(q)[1:] for q in Question.objects.all()}
    rows = excel.bank_read(data)
    Question.objects.all().update(current=None)
    QuestionVersion.objects.all().delete()
    Question.objects.all().delete()
    blank_ids = [excel.QuestionRow(r.row, {**r.cells, "id": ""}) for r in rows]
    excel.bank_import(actor=operator, rows=blank_ids)
    rebuilt = sorted(excel.question_values(q)[1:] for q in Question.objects.all())
    assert rebuilt == sorted(originals.values())


def test_an_edited_export_makes_a_new_version_and_keeps_the_old(operator, theory):
    excel.bank_import(actor=operator, rows=excel.bank_read(xlsx([row()])))
    question = Question.objects.select_related("current").get()
    first = asked(question)
    book = load_workbook(io.BytesIO(exported(operator, theory)))
    sheet = book["题目"]
    sheet.cell(row=2, column=excel.FIELDS.index("stem") + 1, value="改过的题干？")
    sheet.cell(row=2, column=excel.FIELDS.index("status") + 1, value="停用")
    buffer = io.BytesIO()
    book.save(buffer)
    result = excel.bank_import(actor=operator, rows=excel.bank_read(buffer.getvalue()))
    assert result.updated == [question.pk]
    question.refresh_from_db()
    assert (asked(question).number, asked(question).stem) == (2, "改过的题干？")
    assert question.status == QuestionStatus.RETIRED
    assert QuestionVersion.objects.get(pk=first.pk).stem == "党的二十大在哪一年召开？"


def test_a_describing_change_updates_in_place_without_a_version(operator, theory):
    excel.bank_import(actor=operator, rows=excel.bank_read(xlsx([row()])))
    question = Question.objects.get()
    excel.bank_import(
        actor=operator, rows=excel.bank_read(xlsx([row(id=str(question.pk), tags="二十大")]))
    )
    question.refresh_from_db()
    assert question.tags == "二十大"
    assert question.versions.count() == 1


FORMULAS = ['=HYPERLINK("http://x","点我")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("payload", FORMULAS)
def test_formulas_leave_as_text_and_come_back_as_typed(operator, theory, payload):
    excel.bank_import(actor=operator, rows=excel.bank_read(xlsx([row(stem=f"{payload}是什么？")])))
    data = exported(operator, theory)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula cell anywhere
    cell = load_workbook(io.BytesIO(data))["题目"].cell(row=2, column=4).value
    assert cell.startswith("'")  # neutralised (SECURITY S19)
    assert check(operator, data).count("unchanged") == 1  # and restored on the way back in


# --- refused files -----------------------------------------------------------------------------


def macro_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx([row()]))) as source, zipfile.ZipFile(buffer, "w") as out:
        for item in source.infolist():
            out.writestr(item, source.read(item))
        out.writestr("xl/vbaProject.bin", b"\x00" * 16)
    return buffer.getvalue()


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG")
    return buffer.getvalue()


REFUSED = [
    (lambda: png(), "不支持该文件类型（PNG）"),
    (lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "不支持该文件类型（PDF）"),
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "不支持旧版 .xls 文件"),
    (lambda: _zip_without_workbook(), "这不是 Excel 表格文件"),
    (lambda: b"PK\x03\x04broken", "文件已损坏"),
    (macro_workbook, "文件包含宏"),
    (lambda: b"   \n", "文件是空的"),
    (lambda: xlsx([], header=["姓名", "手机号"]), "找不到表头"),
    (lambda: xlsx([row()], header=[h if h != "答案" else "备注" for h in HEADER]),
     "缺少必填列：答案"),
    (lambda: xlsx([]), "文件中没有题目"),
]  # fmt: skip


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(("make", "message"), REFUSED)
def test_a_file_of_another_kind_is_refused_with_a_reason(operator, theory, make, message):
    with pytest.raises(ValidationFailed) as caught:
        excel.import_preview_create(actor=operator, upload=upload(make(), "题目.xlsx"))
    assert message in str(caught.value.details["fields"]["file"])
    assert Question.objects.count() == 0


def test_an_oversize_upload_is_refused_before_it_is_read(operator, theory):
    big = SimpleUploadedFile("大.xlsx", b"x" * (excel.MAX_UPLOAD_BYTES + 1))
    with pytest.raises(ValidationFailed) as caught:
        excel.import_preview_create(actor=operator, upload=big)
    assert "超过 5 MB" in caught.value.details["fields"]["file"]


def test_too_many_rows_are_refused(operator, theory, monkeypatch):
    monkeypatch.setattr(excel, "MAX_ROWS", 3)
    rows = [row(stem=f"第 {n} 题？") for n in range(4)]
    with pytest.raises(ValidationFailed) as caught:
        excel.bank_read(xlsx(rows))
    assert "超过 3 道题" in caught.value.details["fields"]["file"]


def test_a_zip_bomb_is_refused_unopened(operator, theory, monkeypatch):
    monkeypatch.setattr(excel, "MAX_UNZIPPED_BYTES", 1000)
    with pytest.raises(ValidationFailed) as caught:
        excel.bank_read(xlsx([row(explanation="长" * 2000)]))
    assert "文件内容过大" in caught.value.details["fields"]["file"]


# --- who may, and what it costs ----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["province_admin", "branch_admin", "member", "stranger"])
def test_only_an_operator_reaches_the_bank_files(personas, theory, persona):
    person = personas[persona]
    with pytest.raises(Forbidden):
        excel.bank_template(actor=person)
    with pytest.raises(Forbidden):
        excel.bank_export(actor=person, category=theory)
    with pytest.raises(Forbidden):
        excel.import_preview_create(actor=person, upload=upload(xlsx(GOOD_ROWS)))
    with pytest.raises(Forbidden):
        excel.bank_import(actor=person, rows=excel.bank_read(xlsx(GOOD_ROWS)))
    assert Question.objects.count() == 0


def test_checking_costs_the_same_queries_for_ten_rows_or_a_hundred(operator, theory, article):
    require_bank_operator(operator)  # the role is looked up once, then remembered

    def queries(count: int) -> int:
        rows = excel.bank_read(
            xlsx([row(stem=f"第 {n} 题？", hint_item=str(article.pk)) for n in range(count)])
        )
        with CaptureQueriesContext(connection) as captured:
            assert excel.bank_check(actor=operator, rows=rows).ok
        return len(captured)

    assert queries(10) == queries(100)
