"""题库导入导出: the Excel template, reading an upload, checking it row by row, the
all-or-nothing import, the error workbook, the export of a category and the preview kept
between upload and confirmation (PRODUCT C5, SECURITY S14, S18, S19).

One sheet format serves the template, the export and the import, so that an exported
category imports back unchanged:

- a row with an empty 编号 is a new question; a row with the 编号 of a question updates it —
  a new version when what it asks changed (``bank.question_update``'s rule), its describing
  fields in place — and a row equal to the question is left alone;
- every row goes through ``bank.question_clean``: the rules are the console form's;
- a new row asking what a question of the bank already asks (same type, stem and options), or
  what another row of the file asks, is an error: importing the same file twice adds nothing.

One bad row rejects the whole file and nothing is written. The check costs a handful of
queries whatever the size of the file (categories, linked articles, the questions named by
编号 and the questions with the same stems, each in one query per chunk).

Between upload and confirmation the file waits in the cache (Redis in production) for an hour
under a random token bound to the operator who uploaded it: no model, no file on disk, no
purge job. Confirming re-reads and re-checks it inside the import's transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from xuexi.accounts.models import User
from xuexi.content.models import Item
from xuexi.core import spreadsheets
from xuexi.core.audit import audit_record
from xuexi.core.errors import Conflict, NotFound, ValidationFailed
from xuexi.core.spreadsheets import FORMULA_PREFIXES, RowError, neutralise
from xuexi.core.time import BUSINESS_TZ, now
from xuexi.quizzes import bank
from xuexi.quizzes.access import require_bank_operator
from xuexi.quizzes.models import Category, Question, QuestionStatus, QuestionType

# --- limits (docs/quizzes.md explains them) ----------------------------------------------------

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # an .xlsx of 5 MB of text stays far below; a bomb not
MAX_ZIP_ENTRIES = 500
EXPORT_MAX_ROWS = 50_000
TEMPLATE_MAX_CATEGORIES = 1_000
TEMPLATE_INPUT_ROWS = MAX_ROWS + 1
PREVIEW_SECONDS = 3600
PREVIEW_ROWS = 100
HEADER_SEARCH_ROWS = 10
LOOKUP_CHUNK = 1_000

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# --- the sheet's shape -------------------------------------------------------------------------
# Sheet names, column names and the labels in cells are the file format (people fill them in,
# the reader matches them): they stay Chinese whatever the page language.

SHEET_QUESTIONS = "题目"
SHEET_CATEGORIES = "分类列表"
SHEET_HELP = "填写说明"
SHEET_ABOUT = "导出说明"
OPTION_FIELDS = tuple(f"option_{key.lower()}" for key in bank.OPTION_KEYS)
FIELDS = (
    "id",
    "type",
    "category",
    "stem",
    *OPTION_FIELDS,
    "answer",
    "explanation",
    "hint",
    "hint_item",
    "tags",
    "difficulty",
    "supplier",
    "recommender",
    "origin",
    "status",
)
HEADERS = {
    "id": "编号",
    "type": "题型",
    "category": "分类",
    "stem": "题干",
    **{name: f"选项{key}" for name, key in zip(OPTION_FIELDS, bank.OPTION_KEYS, strict=True)},
    "answer": "答案",
    "explanation": "解析",
    "hint": "出题依据",
    "hint_item": "出处文章编号",
    "tags": "标签",
    "difficulty": "难度",
    "supplier": "供题单位",
    "recommender": "推荐人",
    "origin": "出处",
    "status": "状态",
}
REQUIRED_COLUMNS = ("type", "category", "stem", "answer")
WIDTHS = {"id": 8, "type": 8, "category": 14, "stem": 48, "answer": 16, "explanation": 36,
          "hint": 36, "hint_item": 12, "tags": 16, "difficulty": 8, "supplier": 16,
          "recommender": 10, "origin": 20, "status": 8}  # fmt: skip
OPTION_WIDTH = 18
EXAMPLE_ID = "示例"  # rows whose 编号 says so are the template's examples: skipped on import

TYPE_LABELS: dict[str, str] = {
    QuestionType.SINGLE: "单选",
    QuestionType.MULTIPLE: "多选",
    QuestionType.TRUE_FALSE: "判断",
    QuestionType.FILL: "填空",
}
STATUS_LABELS: dict[str, str] = {
    QuestionStatus.ACTIVE: "启用",
    QuestionStatus.DRAFT: "草稿",
    QuestionStatus.RETIRED: "停用",
}
TRUE_LABEL, FALSE_LABEL = "正确", "错误"
BLANK_SEPARATOR, VARIANT_SEPARATOR = ";", "|"
TEXT_LIMITS = {"tags": 200, "supplier": 60, "recommender": 60, "origin": 120}
# question_clean's field names → the file's columns
CLEAN_FIELDS = {"hint_item_id": "hint_item", "options": "option_a"}


def column_label(name: str) -> str:
    """The Chinese column name of a field, as the error workbook and pages show it."""
    if name == "options":
        return "选项"
    return {**HEADERS, "file": "文件"}.get(name, name)


def _type_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for value, label in TYPE_LABELS.items():
        lookup.update({label: value, f"{label}题": value, value: value})
    lookup.update({"是非": QuestionType.TRUE_FALSE, "是非题": QuestionType.TRUE_FALSE})
    return lookup


def _status_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {label: value for value, label in STATUS_LABELS.items()}
    lookup.update({value: value for value in STATUS_LABELS})
    lookup.update({"已启用": QuestionStatus.ACTIVE, "已停用": QuestionStatus.RETIRED})
    return lookup


TYPES_BY_LABEL = _type_lookup()
STATUSES_BY_LABEL = _status_lookup()
TRUE_FALSE_ALIASES = {"√": "T", "✓": "T", "✔": "T", "×": "F", "✗": "F", "✘": "F"}


# --- values shared by reading, checking and writing --------------------------------------------


@dataclass(frozen=True)
class QuestionRow:
    """One data row of an upload, each cell as text, with its spreadsheet row number."""

    row: int
    cells: dict[str, str]

    def get(self, name: str) -> str:
        return self.cells.get(name, "")

    def values(self) -> list[str]:
        return [self.get(name) for name in FIELDS]


class ImportRejected(spreadsheets.RowsRejected):
    """The file has errors; nothing was written. ``details["rows"]`` lists them."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(
            errors,
            _(
                "文件中有 %(count)d 处错误（涉及 %(rows)d 行），未导入任何题目。"
                "请下载错误报告，修改后重新上传。"
            ),
        )


def restore(value: str) -> str:
    """Undo ``neutralise``: an exported ``'=A1`` imports back as ``=A1`` (only text is ever
    stored, so nothing runs it)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def answer_text(question_type: str, answer: Any) -> str:
    """A version's answer as the file writes it: ``AC``, ``正确``, ``乡村;美丽|美丽的``."""
    if question_type == QuestionType.FILL:
        return BLANK_SEPARATOR.join(VARIANT_SEPARATOR.join(blank) for blank in answer)
    if question_type == QuestionType.TRUE_FALSE:
        return TRUE_LABEL if list(answer) == ["T"] else FALSE_LABEL
    return "".join(answer)


# --- 1. writing: the template and the export share one sheet -----------------------------------


def _questions_sheet(workbook: Any, categories: list[str]) -> Any:
    """The 题目 sheet with its header, text columns and drop-downs (rows still to write);
    the categories go into a hidden sheet that the 分类 drop-down reads."""
    sheet = workbook.add_worksheet(SHEET_QUESTIONS)
    heading = {"bold": True, "font_color": "#FFFFFF", "align": "center", "valign": "vcenter"}
    header = workbook.add_format({**heading, "bg_color": "#C8161D", "border": 1})
    required = workbook.add_format({**heading, "bg_color": "#A81218", "border": 1})
    text = workbook.add_format({"num_format": "@", "valign": "top", "text_wrap": True})
    for column, name in enumerate(FIELDS):
        width = OPTION_WIDTH if name in OPTION_FIELDS else WIDTHS[name]
        # Every column is text: Excel keeps 2022 and 0.5 as typed, not as numbers.
        sheet.set_column(column, column, width, text)
        label = HEADERS[name] + ("*" if name in REQUIRED_COLUMNS else "")
        sheet.write_string(0, column, label, required if name in REQUIRED_COLUMNS else header)
    sheet.set_row(0, 24)
    sheet.freeze_panes(1, 4)
    last = TEMPLATE_INPUT_ROWS

    def choose(name: str, source: Any, title: str, prompt: str) -> None:
        column = FIELDS.index(name)
        sheet.data_validation(
            1,
            column,
            last,
            column,
            {
                "validate": "list",
                "source": source,
                "ignore_blank": True,
                "input_title": title,
                "input_message": prompt,
                "error_title": title,
                "error_message": _("请从下拉列表中选择。"),
                "error_type": "stop",
            },
        )

    choose("type", list(TYPE_LABELS.values()), _("题型"), _("单选、多选、判断或填空。"))
    choose("difficulty", ["1", "2", "3", "4", "5"], _("难度"), _("1 最易，5 最难；不填为 2。"))
    choose("status", list(STATUS_LABELS.values()), _("状态"), _("不填：新题为启用，原题不变。"))
    if categories and len(categories) <= TEMPLATE_MAX_CATEGORIES:
        listing = workbook.add_worksheet(SHEET_CATEGORIES)
        listing.write_string(0, 0, "分类")
        for line, name in enumerate(categories, start=1):
            listing.write_string(line, 0, neutralise(name))
        listing.set_column(0, 0, 24)
        listing.hide()
        choose(
            "category",
            f"='{SHEET_CATEGORIES}'!$A$2:$A${len(categories) + 1}",
            _("分类"),
            _("从下拉列表中选择已有的分类。"),
        )
    return sheet


def _write_row(sheet: Any, line: int, values: Sequence[str], style: Any = None) -> None:
    for column, value in enumerate(values):
        if value:
            sheet.write_string(line, column, neutralise(value), style)


def _help_sheet(workbook: Any, *, max_rows: int) -> None:
    sheet = workbook.add_worksheet(SHEET_HELP)
    sheet.set_column(0, 0, 110, workbook.add_format({"text_wrap": True, "valign": "top"}))
    title = workbook.add_format({"bold": True, "font_size": 14})
    lines = [
        _("题库导入填写说明"),
        _("1. 在「题目」工作表中每行填写一道题，请勿修改第一行的列名；带 * 的列必填。"),
        _("2. 编号：新题留空；填写题库中已有题目的编号，则按本行修改该题（导出的文件已带编号）。"),
        _("3. 题型：单选、多选、判断或填空；已有题目的题型不能修改。"),
        _("4. 分类：从下拉列表中选择已有分类；新分类请先在管理后台的「题目分类」中新建。"),
        _(
            "5. 选择题从选项A起依次填写 2 到 8 个选项，中间不要留空；"
            "答案填选项字母，如 B 或 ACD（多选题至少两个）。"
        ),
        _("6. 判断题不填选项，答案填「正确」或「错误」。"),
        _(
            "7. 填空题在题干中用 ____ 或（ ）标出每个空，不填选项；答案按空的顺序填写，"
            "空与空之间用英文分号 ; 分隔，同一个空的多个可接受答案用 | 分隔，"
            "如：乡村;美丽|美丽的。"
        ),
        _("8. 出题依据是答题时「查看提示」显示的原文；出处文章编号可填平台内文章的编号（选填）。"),
        _("9. 难度 1 到 5，不填为 2。状态：启用、草稿或停用；新题不填为启用，原题不填则不变。"),
        _("10. 编号为「示例」的灰色行是示例，导入时自动跳过。"),
        _("11. 与题库中已有题目（或文件中其他行）题型、题干和选项完全相同的新题会被判为重复。"),
        _(
            "12. 导入前会先检查全部数据：只要有一处错误，整个文件都不会导入。"
            "可下载错误报告，按行号修改后重新上传。"
        ),
        _("13. 支持 .xlsx 和 .csv（UTF-8 或 GBK 编码）文件，不超过 5 MB、%(rows)s 行。")
        % {"rows": f"{max_rows:,}"},
    ]
    for line, value in enumerate(lines):
        sheet.write_string(line, 0, value, title if line == 0 else None)


EXAMPLES: list[dict[str, str]] = [
    {"type": "单选", "stem": "（示例）我国的根本政治制度是（ ）。", "option_a": "人民代表大会制度",
     "option_b": "民族区域自治制度", "option_c": "基层群众自治制度", "answer": "A",
     "explanation": "人民代表大会制度是我国的根本政治制度。", "difficulty": "1"},
    {"type": "多选", "stem": "（示例）下列属于新发展理念的有（ ）。", "option_a": "创新",
     "option_b": "协调", "option_c": "封闭", "option_d": "绿色", "answer": "ABD",
     "difficulty": "2"},
    {"type": "判断", "stem": "（示例）绿水青山就是金山银山。", "answer": "正确", "difficulty": "1"},
    {"type": "填空", "stem": "（示例）实施____振兴战略，建设____中国。",
     "answer": "乡村;美丽|美丽的", "explanation": "乡村振兴、美丽中国。", "difficulty": "2"},
]  # fmt: skip


def bank_template(*, actor: User) -> bytes:
    """The .xlsx template: 题目 (header, four grey example rows, drop-downs for 题型, 分类,
    难度 and 状态), the hidden 分类列表 and 填写说明."""
    require_bank_operator(actor)
    categories = list(Category.objects.order_by("position", "id").values_list("name", flat=True))
    buffer = io.BytesIO()
    workbook = spreadsheets.xlsx_writer(buffer)
    sheet = _questions_sheet(workbook, categories)
    grey = workbook.add_format({"italic": True, "font_color": "#999999", "num_format": "@"})
    example_category = categories[0] if categories else "理论学习"
    for line, example in enumerate(EXAMPLES, start=1):
        cells = {"id": EXAMPLE_ID, "category": example_category, "status": "启用", **example}
        _write_row(sheet, line, [cells.get(name, "") for name in FIELDS], grey)
    _help_sheet(workbook, max_rows=MAX_ROWS)
    workbook.close()
    return buffer.getvalue()


def question_values(question: Question) -> list[str]:
    """A question's current version as one row of the sheet."""
    version = question.current
    if version is None:
        return ["" for _name in FIELDS]
    options = [str(option["text"]) for option in version.options]
    cells = {
        "id": str(question.pk),
        "type": TYPE_LABELS[question.type],
        "category": question.category.name,
        "stem": version.stem,
        **dict(zip(OPTION_FIELDS, options, strict=False)),
        "answer": answer_text(question.type, version.answer),
        "explanation": version.explanation,
        "hint": version.hint,
        "hint_item": str(version.hint_item_id or ""),
        "tags": question.tags,
        "difficulty": str(question.difficulty),
        "supplier": question.supplier,
        "recommender": question.recommender,
        "origin": question.origin,
        "status": STATUS_LABELS[question.status],
    }
    return [cells.get(name, "") for name in FIELDS]


def bank_export(*, actor: User, category: Category, ip: str | None = None) -> bytes:
    """Every question of ``category`` as its current version, in the import's format (编号
    filled: importing the file back changes nothing). The answers are in it: the export is
    audited (``question.export``) in the transaction that reads it."""
    root = require_bank_operator(actor)
    questions = Question.objects.filter(category=category, current__isnull=False)
    with transaction.atomic():
        total = questions.count()
        if total > EXPORT_MAX_ROWS:
            raise Conflict(
                _("该分类有 %(count)s 道题，超过单次导出上限 %(limit)s。")
                % {"count": f"{total:,}", "limit": f"{EXPORT_MAX_ROWS:,}"},
                code="export_too_large",
            )
        categories = list(
            Category.objects.order_by("position", "id").values_list("name", flat=True)
        )
        buffer = io.BytesIO()
        workbook = spreadsheets.xlsx_writer(buffer, constant_memory=True)
        exported_at = now().astimezone(BUSINESS_TZ)
        note = _("导出人：%(name)s 导出时间：%(at)s 含答案，注意保密") % {
            "name": actor.real_name,
            "at": f"{exported_at:%Y-%m-%d %H:%M}",
        }
        workbook.set_properties(
            {"title": f"题库 {category.name}", "author": actor.real_name, "comments": note}
        )
        sheet = _questions_sheet(workbook, categories)
        sheet.set_header(f"&C{note.replace('&', '&&')}")
        count = 0
        rows = (
            questions.select_related("category", "current").order_by("id").iterator(chunk_size=1000)
        )
        for count, question in enumerate(rows, start=1):
            _write_row(sheet, count, question_values(question))
        about = workbook.add_worksheet(SHEET_ABOUT)
        about.set_column(0, 0, 14)
        about.set_column(1, 1, 70)
        bold = workbook.add_format({"bold": True})
        for line, (label, value) in enumerate(
            [
                ("导出人", actor.real_name),
                ("导出时间", f"{exported_at:%Y-%m-%d %H:%M:%S}"),
                ("分类", category.name),
                ("题数", str(count)),
                ("说明", _("本文件含题目答案，仅供题库维护使用，不得外传。")),
                ("导入", _("修改后可在「题库导入」中上传：按编号修改原题，编号留空的行作为新题。")),
            ]
        ):
            about.write_string(line, 0, label, bold)
            about.write_string(line, 1, neutralise(value))
        _help_sheet(workbook, max_rows=MAX_ROWS)
        workbook.close()
        audit_record(
            actor=actor,
            action="question.export",
            target=category,
            organization=root,
            after={"rows": count},
            ip=ip,
        )
    return buffer.getvalue()


# --- 2. reading an upload ----------------------------------------------------------------------


def _upload_format() -> spreadsheets.UploadFormat:
    """How a question file is read, and the refusals that name a 题目文件 (the rest are
    shared). Only .xlsx and .csv are taken, as the help sheet says: an .xls is refused."""
    return spreadsheets.UploadFormat(
        max_bytes=MAX_UPLOAD_BYTES,
        max_zip_entries=MAX_ZIP_ENTRIES,
        max_unzipped_bytes=MAX_UNZIPPED_BYTES,
        sheet=SHEET_QUESTIONS,
        too_large=_("文件超过 5 MB，请分成几份后分别导入。"),
        empty=_("文件是空的，请填写题目后再上传。"),
        unsupported_type=_("不支持该文件类型（%(kind)s）。请上传 .xlsx 或 .csv 格式的题目文件。"),
        unrecognised=_("无法识别该文件。请上传 .xlsx 或 .csv 格式的题目文件。"),
        not_a_workbook=_("这不是 Excel 表格文件。请上传 .xlsx 或 .csv 格式的题目文件。"),
        unknown_encoding=_("无法识别文件编码。请另存为 UTF-8 编码的 CSV 或 Excel 文件。"),
        xls_refusal=_("不支持旧版 .xls 文件，请用 Excel 另存为 .xlsx 后上传。"),
    )


def _cell_text(value: Any) -> str:
    """A cell as text (``spreadsheets.cell_text``), booleans as 正确/错误 and an exported
    ``'=…`` restored."""
    return restore(spreadsheets.cell_text(value, true_text=TRUE_LABEL, false_text=FALSE_LABEL))


_NOTE = re.compile(r"[（(][^（()）]*[)）]$")


def _header_key(text: str) -> str | None:
    """Which field a header cell names; spaces, *, full-width letters and a trailing note in
    brackets (选项A（选填）) are tolerated."""
    name = "".join(unicodedata.normalize("NFKC", text).split()).replace("*", "")
    name = _NOTE.sub("", name).upper()
    for field_name, header in HEADERS.items():
        if name == header.upper():
            return field_name
    aliases = {
        "题目编号": "id",
        "ID": "id",
        "类型": "type",
        "题目类型": "type",
        "题目分类": "category",
        "题目": "stem",
        "正确答案": "answer",
        "答案解析": "explanation",
        "提示": "hint",
        "原文": "hint",
        "文章编号": "hint_item",
    }
    if name in aliases:
        return aliases[name]
    if len(name) == 1 and name in bank.OPTION_KEYS:
        return OPTION_FIELDS[bank.OPTION_KEYS.index(name)]
    return None


def bank_read(data: bytes) -> list[QuestionRow]:
    """The data rows of an upload (.xlsx or .csv, told apart by content).

    Raises ``ValidationFailed`` (field ``file``) with a Chinese message for a file of another
    type, broken, with macros, without the required columns, with more than ``MAX_ROWS`` data
    rows or with none. Empty rows and the template's example rows are skipped; each row keeps
    its spreadsheet row number.
    """
    table = spreadsheets.data_rows(
        spreadsheets.sheet_rows(data, _upload_format()),
        text_of=_cell_text,
        field_of=_header_key,
        is_header=lambda found: len(set(found) & set(REQUIRED_COLUMNS)) >= 2,
        required=REQUIRED_COLUMNS,
        column_names=HEADERS,
        search_rows=HEADER_SEARCH_ROWS,
        no_header=_("找不到表头：缺少「题型」「分类」「题干」「答案」列。请使用下载的模板。"),
    )
    rows: list[QuestionRow] = []
    for index, values in table:
        if values.get("id") == EXAMPLE_ID:
            continue
        if len(rows) >= MAX_ROWS:
            raise spreadsheets.refuse(
                _("文件超过 %(limit)s 道题，请分成几份后分别导入。") % {"limit": f"{MAX_ROWS:,}"}
            )
        rows.append(QuestionRow(row=index, cells=values))
    if not rows:
        raise spreadsheets.refuse(_("文件中没有题目，请从模板的示例行下方起填写后再上传。"))
    return rows


# --- 3. checking -------------------------------------------------------------------------------


@dataclass
class BankCheck:
    """The outcome of checking a file: errors, or what an import would write."""

    errors: list[RowError]
    creates: list[bank.ImportCreate] = field(default_factory=list)
    updates: list[bank.ImportUpdate] = field(default_factory=list)
    actions: dict[int, str] = field(default_factory=dict)  # row → created/updated/unchanged

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for value in self.actions.values() if value == action)


def _chunks(items: Sequence[Any], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None


def _answer(question_type: str, text: str) -> Any:
    """The 答案 cell as ``question_clean`` takes it."""
    if question_type == QuestionType.FILL:
        text = text.replace("；", BLANK_SEPARATOR).replace("｜", VARIANT_SEPARATOR)
        blanks = text.strip().strip(BLANK_SEPARATOR).split(BLANK_SEPARATOR)
        return [blank.strip() for blank in blanks]
    text = unicodedata.normalize("NFKC", text).strip()
    if question_type == QuestionType.TRUE_FALSE:
        return TRUE_FALSE_ALIASES.get(text, text)
    return text


def _content_key(question_type: str, stem: str, options: Sequence[str]) -> tuple[Any, ...]:
    return (question_type, stem, tuple(options))


def _existing_by_content(stems: set[str]) -> dict[tuple[Any, ...], tuple[int, str]]:
    """(type, stem, options) → (question id, status) for the bank's current versions with one
    of ``stems``: one query per chunk."""
    found: dict[tuple[Any, ...], tuple[int, str]] = {}
    for chunk in _chunks(sorted(stems)):
        rows = Question.objects.filter(current__stem__in=chunk).values_list(
            "pk", "type", "status", "current__stem", "current__options"
        )
        for pk, question_type, status, stem, options in rows:
            texts = [str(option["text"]) for option in options or []]
            found.setdefault(_content_key(question_type, stem, texts), (pk, status))
    return found


class _Checker:
    """Checks rows against what the database holds, looked up once for the whole file; each
    ``_…`` method checks one column and files its errors."""

    def __init__(self, rows: Sequence[QuestionRow]) -> None:
        self.categories = {category.name: category for category in Category.objects.all()}
        item_ids = sorted({n for row in rows if (n := _number(row.get("hint_item")))})
        self.items = Item.objects.in_bulk(item_ids) if item_ids else {}
        question_ids = sorted({n for row in rows if (n := _number(row.get("id")))})
        self.questions = (
            Question.objects.select_related("current", "category").in_bulk(question_ids)
            if question_ids
            else {}
        )
        self.by_content = _existing_by_content({row.get("stem") for row in rows if row.get("stem")})
        self.errors: list[RowError] = []
        self.seen_ids: dict[int, int] = {}  # 编号 → the row that named it first
        self.seen_content: dict[tuple[Any, ...], int] = {}  # content key → its first row

    def error(self, row: QuestionRow, column: str, message: str) -> None:
        self.errors.append(RowError(row.row, column, message))

    def has_error(self, row: QuestionRow, column: str) -> bool:
        return any(e.row == row.row and e.column == column for e in self.errors)

    def _question(self, row: QuestionRow) -> Question | None:
        """The question the 编号 names (None: a new question, or an error filed)."""
        text = row.get("id")
        if not text:
            return None
        number = _number(text)
        question = self.questions.get(number) if number is not None else None
        if number is None:
            self.error(row, "id", _("编号应为题库中题目的编号（数字）；新题请留空。"))
        elif question is None:
            self.error(
                row,
                "id",
                _("题库中没有编号为 %(id)s 的题目；新题请留空编号。") % {"id": number},
            )
        elif number in self.seen_ids:
            self.error(row, "id", _("编号与第 %(row)d 行重复。") % {"row": self.seen_ids[number]})
            return None
        else:
            self.seen_ids[number] = row.row
        return question

    def _type(self, row: QuestionRow, question: Question | None) -> str:
        label = "".join(row.get("type").split())
        question_type = TYPES_BY_LABEL.get(label, "")
        if not label:
            self.error(row, "type", _("请填写题型：单选、多选、判断或填空。"))
        elif not question_type:
            self.error(
                row,
                "type",
                _("题型「%(value)s」无效，应为单选、多选、判断或填空。") % {"value": label},
            )
        elif question is not None and question.type != question_type:
            self.error(
                row,
                "type",
                _(
                    "题型不能修改：题目 %(id)d 是%(type)s。如需换题型，请清空编号作为新题导入，"
                    "并停用原题。"
                )
                % {"id": question.pk, "type": TYPE_LABELS[question.type]},
            )
        return question_type

    def _category(self, row: QuestionRow) -> Category | None:
        name = " ".join(row.get("category").split())
        category = self.categories.get(name)
        if not name:
            self.error(row, "category", _("请填写分类。"))
        elif category is None:
            self.error(
                row,
                "category",
                _("分类「%(name)s」不存在，请从下拉列表中选择，或先在「题目分类」中新建。")
                % {"name": name},
            )
        return category

    def _status(self, row: QuestionRow, question: Question | None) -> str | None:
        """The status the row asks for; empty keeps a question's (a new one: active)."""
        text = "".join(row.get("status").split())
        if not text:
            return question.status if question is not None else QuestionStatus.ACTIVE
        status = STATUSES_BY_LABEL.get(text)
        if status is None:
            self.error(
                row, "status", _("状态「%(value)s」无效，应为启用、草稿或停用。") % {"value": text}
            )
        return status

    def _options(self, row: QuestionRow, question_type: str) -> list[str]:
        options = [row.get(name) for name in OPTION_FIELDS]
        filled = [index for index, text in enumerate(options) if text]
        if question_type in (QuestionType.TRUE_FALSE, QuestionType.FILL) and filled:
            self.error(row, OPTION_FIELDS[filled[0]], _("判断题和填空题不填选项。"))
        elif filled and filled[-1] + 1 != len(filled):
            # question_clean would close the gap and shift the letters under the answer.
            gap = options.index("")
            self.error(
                row,
                OPTION_FIELDS[gap],
                _("选项%(key)s为空，但后面还有选项：请从选项A起依次填写，中间不要留空。")
                % {"key": bank.OPTION_KEYS[gap]},
            )
        return [text for text in options if text]

    def _item(self, row: QuestionRow) -> Item | None:
        text = row.get("hint_item")
        if not text:
            return None
        number = _number(text)
        item = self.items.get(number) if number is not None else None
        if item is None:
            self.error(row, "hint_item", _("出处文章编号「%(value)s」不存在。") % {"value": text})
        return item

    def _lengths(self, row: QuestionRow) -> None:
        """Texts question_clean would cut short: an import says so instead of losing them."""
        for name, limit in TEXT_LIMITS.items():
            if len(row.get(name)) > limit:
                self.error(
                    row,
                    name,
                    _("%(column)s不能超过 %(n)d 个字。") % {"column": HEADERS[name], "n": limit},
                )

    def _clean(
        self, row: QuestionRow, question: Question | None, question_type: str
    ) -> bank.CleanQuestion | None:
        """The row through ``bank.question_clean``: the form's rules."""
        category, item = self._category(row), self._item(row)
        options = self._options(row, question_type)
        self._lengths(row)
        difficulty = row.get("difficulty")
        if not difficulty and question is not None:
            difficulty = str(question.difficulty)
        data = {
            "type": question_type,
            "category": category,
            "stem": row.get("stem"),
            "options": options,
            "answer": _answer(question_type, row.get("answer")),
            "explanation": row.get("explanation"),
            "hint": row.get("hint"),
            "hint_item": item,
            "difficulty": difficulty,
            **{name: row.get(name) for name in TEXT_LIMITS},
        }
        try:
            return bank.question_clean(data)
        except ValidationFailed as failed:
            for name, message in failed.details["fields"].items():
                column = CLEAN_FIELDS.get(name, name)
                if not self.has_error(row, column):  # said better above already
                    self.error(row, column, str(message))
            return None

    def _unique(
        self, row: QuestionRow, question: Question | None, clean: bank.CleanQuestion
    ) -> bool:
        """Whether the row asks something neither another row nor another question asks."""
        key = _content_key(clean.type, clean.stem, [o["text"] for o in clean.options])
        if key in self.seen_content:
            self.error(
                row,
                "stem",
                _("与第 %(row)d 行是同一道题（题型、题干和选项都相同）。")
                % {"row": self.seen_content[key]},
            )
            return False
        self.seen_content[key] = row.row
        twin = self.by_content.get(key)
        if twin is not None and (question is None or twin[0] != question.pk):
            self.error(
                row,
                "stem",
                _(
                    "题库中已有相同的题目（编号 %(id)d，%(status)s）。"
                    "如要修改它，请在编号列填写 %(id)d。"
                )
                % {"id": twin[0], "status": STATUS_LABELS[twin[1]]},
            )
            return False
        return True

    def check(self, row: QuestionRow, result: BankCheck) -> None:
        """Check one row; when it passes, plan what the import does with it."""
        before = len(self.errors)
        question = self._question(row)
        question_type = self._type(row, question)
        status = self._status(row, question)
        clean = self._clean(row, question, question_type)
        if len(self.errors) > before or clean is None or status is None:
            return
        if not self._unique(row, question, clean):
            return
        if question is None:
            result.creates.append(bank.ImportCreate(row=row.row, clean=clean, status=status))
            result.actions[row.row] = "created"
        elif bank.question_differs(question, clean) or question.status != status:
            result.updates.append(
                bank.ImportUpdate(row=row.row, question_id=question.pk, clean=clean, status=status)
            )
            result.actions[row.row] = "updated"
        else:
            result.actions[row.row] = "unchanged"


def bank_check(*, actor: User, rows: Sequence[QuestionRow]) -> BankCheck:
    """Check every row by ``question_clean`` and the file's own rules; report every problem
    of every row (not only the first) and, for the rows that pass, what an import would do.
    Reads only: a handful of queries whatever the number of rows."""
    require_bank_operator(actor)
    checker = _Checker(rows)
    result = BankCheck(errors=checker.errors)
    for row in rows:
        checker.check(row, result)
    order = {name: index for index, name in enumerate(FIELDS)}
    result.errors.sort(key=lambda item: (item.row, order.get(item.column, len(order))))
    return result


# --- 4. the import -----------------------------------------------------------------------------


def bank_import(
    *, actor: User, rows: Sequence[QuestionRow], file_name: str = "", ip: str | None = None
) -> bank.ImportResult:
    """Import a file all or nothing: the rows are checked inside the transaction that writes
    them, and any error raises ``ImportRejected`` with nothing written. A change by someone
    else in between (a question edited, a category renamed) is seen by the check; a clash the
    check could not see trips a constraint and rolls everything back as ``Conflict``."""
    require_bank_operator(actor)
    try:
        with transaction.atomic():
            check = bank_check(actor=actor, rows=rows)
            if check.errors:
                raise ImportRejected(check.errors)
            if not check.creates and not check.updates:
                raise Conflict(
                    _("文件中的题目与题库完全一致，没有需要导入的内容。"), code="nothing_to_import"
                )
            return bank.questions_import(
                actor=actor,
                creates=check.creates,
                updates=check.updates,
                unchanged=check.count("unchanged"),
                file_name=file_name,
                ip=ip,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("导入期间题库被他人修改，本次未导入任何题目，请重新导入。"), code="bank_changed"
        ) from exc


# --- 5. the error workbook ---------------------------------------------------------------------


def bank_error_workbook(errors: Sequence[RowError], values: dict[int, list[str]]) -> bytes:
    """行号, 列, 原因 for each error, then the row's values as uploaded."""
    return spreadsheets.error_workbook(
        errors,
        values,
        headers=[HEADERS[name] for name in FIELDS],
        column_label=column_label,
        widths=[(0, 1, 10), (2, 2, 60), (3, 3 + len(FIELDS), 14)],
        frozen_columns=3,
        skip_blank=True,
    )


# --- 6. the preview between upload and confirmation --------------------------------------------


@dataclass(frozen=True)
class ImportPreview:
    """An upload waiting for confirmation, or what became of it, as the pages show it."""

    token: str
    file_name: str
    uploaded_at: dt.datetime
    state: str  # previewed, rejected (errors), imported
    row_count: int
    created: int
    updated: int
    unchanged: int
    errors: list[RowError]
    error_values: dict[int, list[str]]
    lines: list[dict[str, Any]]  # the first rows: number, a few cells, what the import does

    @property
    def can_confirm(self) -> bool:
        return self.state == "previewed" and bool(self.created or self.updated)


def _key(actor: User, token: str) -> str:
    return f"quiz-import:{actor.pk}:{token}"


def _preview_lines(rows: Sequence[QuestionRow], check: BankCheck) -> list[dict[str, Any]]:
    error_rows = {error.row for error in check.errors}
    return [
        {
            "row": row.row,
            "id": row.get("id"),
            "type": row.get("type"),
            "category": row.get("category"),
            "stem": row.get("stem"),
            "answer": row.get("answer"),
            "status": row.get("status"),
            "action": "error" if row.row in error_rows else check.actions.get(row.row, ""),
        }
        for row in rows[:PREVIEW_ROWS]
    ]


def _store(actor: User, token: str, entry: dict[str, Any]) -> None:
    cache.set(_key(actor, token), entry, PREVIEW_SECONDS)


def _preview_of(token: str, entry: dict[str, Any]) -> ImportPreview:
    return ImportPreview(
        token=token,
        file_name=entry["file_name"],
        uploaded_at=dt.datetime.fromisoformat(entry["uploaded_at"]),
        state=entry["state"],
        row_count=entry["row_count"],
        created=entry.get("created", 0),
        updated=entry.get("updated", 0),
        unchanged=entry.get("unchanged", 0),
        errors=[RowError(int(r), str(c), str(m)) for r, c, m in entry.get("errors", [])],
        error_values={int(k): list(v) for k, v in entry.get("error_values", {}).items()},
        lines=entry.get("lines", []),
    )


def _checked_entry(
    rows: Sequence[QuestionRow], check: BankCheck, *, state: str, base: dict[str, Any]
) -> dict[str, Any]:
    error_rows = {error.row for error in check.errors}
    return {
        **base,
        "state": state,
        "row_count": len(rows),
        "created": check.count("created"),
        "updated": check.count("updated"),
        "unchanged": check.count("unchanged"),
        "errors": [[e.row, e.column, e.message] for e in check.errors],
        "error_values": {str(row.row): row.values() for row in rows if row.row in error_rows},
        "lines": _preview_lines(rows, check),
    }


def import_preview_create(*, actor: User, upload: IO[bytes] | Any) -> ImportPreview:
    """Read and check an upload and keep it for an hour for the operator to confirm; nothing
    is imported yet. An unreadable file raises ``ValidationFailed`` and is not kept; a file
    with row errors is kept (without its bytes) so that its errors can be read and
    downloaded."""
    require_bank_operator(actor)
    data = spreadsheets.read_upload(upload, _upload_format())
    rows = bank_read(data)
    check = bank_check(actor=actor, rows=rows)
    token = secrets.token_urlsafe(12)
    file_name = (getattr(upload, "name", "") or "questions.xlsx")[-120:]
    base = {"file_name": file_name, "uploaded_at": now().isoformat()}
    entry = _checked_entry(rows, check, state="previewed" if check.ok else "rejected", base=base)
    if check.ok:
        entry["data"] = data
    _store(actor, token, entry)
    return _preview_of(token, entry)


def import_preview_get(*, actor: User, token: str) -> ImportPreview:
    """The operator's own preview; anyone else's, or one an hour old, answers ``NotFound``."""
    require_bank_operator(actor)
    entry = cache.get(_key(actor, token))
    if entry is None:
        raise NotFound(_("找不到该导入记录，或它已超过一小时。请重新上传文件。"))
    return _preview_of(token, entry)


def import_preview_confirm(*, actor: User, token: str, ip: str | None = None) -> ImportPreview:
    """Import a previewed upload, all or nothing, re-reading and re-checking the kept file.

    A lock (one atomic cache add) lets a double click import once. If the bank changed since
    the preview and the file no longer passes, the preview turns ``rejected`` with the new
    errors and ``ImportRejected`` is raised.
    """
    require_bank_operator(actor)
    key = _key(actor, token)
    entry = cache.get(key)
    if entry is None:
        raise NotFound(_("找不到该导入记录，或它已超过一小时。请重新上传文件。"))
    if entry["state"] != "previewed" or "data" not in entry:
        raise Conflict(_("该文件已处理，不能再次导入。"), code="import_done")
    if not cache.add(f"{key}:lock", 1, PREVIEW_SECONDS):
        raise Conflict(_("该文件正在导入或已导入，请勿重复提交。"), code="import_done")
    base = {"file_name": entry["file_name"], "uploaded_at": entry["uploaded_at"]}
    rows = bank_read(entry["data"])
    try:
        result = bank_import(actor=actor, rows=rows, file_name=entry["file_name"], ip=ip)
    except ImportRejected as rejected:
        check = BankCheck(errors=rejected.errors)
        _store(actor, token, _checked_entry(rows, check, state="rejected", base=base))
        raise
    except Exception:
        cache.delete(f"{key}:lock")  # nothing was written: the operator may try again
        raise
    done = {
        **base,
        "state": "imported",
        "row_count": len(rows),
        "created": len(result.created),
        "updated": len(result.updated),
        "unchanged": result.unchanged,
        "lines": entry.get("lines", []),
    }
    _store(actor, token, done)
    return _preview_of(token, done)


def import_preview_errors(*, actor: User, token: str) -> bytes:
    preview = import_preview_get(actor=actor, token=token)
    return bank_error_workbook(preview.errors, preview.error_values)
