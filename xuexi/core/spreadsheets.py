"""Reading uploaded spreadsheets (.xlsx, .xls, .csv) into rows of text, the row errors an
import reports, and writing workbooks that no spreadsheet will run (SECURITY S18, S19).

The roster import (``organizations.roster``) and the question import (``quizzes.excel``) read
their uploads the same way, so the reading lives here once: the type told from the bytes, never
the file name; the size checked before the whole file is read; an .xlsx refused with macros or
when it would inflate past a limit (a zip bomb), parsed through defusedxml (SECURITY S18); a CSV
in UTF-8, GBK or UTF-16 (what Excel on Chinese Windows saves); the header row found among the
first rows. Every refusal is a ``ValidationFailed`` on the field ``file``.

What differs between the imports — the limits, the sheet to read, whether an .xls is welcome and
the refusals that name the file (「名单」, 「题目文件」) — comes in an ``UploadFormat``.

Both imports also report their errors alike (``RowError``, ``RowsRejected``, the error workbook)
and write through ``xlsx_writer`` and ``neutralise``, so that is here too.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import puremagic
from django.utils.translation import gettext as _

from xuexi.core.errors import ValidationFailed
from xuexi.core.text import enumeration

XLSX_SIGNATURE = b"PK\x03\x04"
XLS_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the OLE2 container of Excel 97-2003
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLS_MACROS = "_\x00V\x00B\x00A\x00_\x00P\x00R\x00O\x00J\x00E\x00C\x00T".encode("latin-1")


@dataclass(frozen=True)
class UploadFormat:
    """One import's upload: its limits, the sheet it reads and the refusals that name its file.

    Build it when reading, not at import time: the messages are in the language active then,
    and the limits are the calling module's as they are at that moment (tests lower them).
    """

    max_bytes: int
    max_zip_entries: int  # entries in an .xlsx (a zip)
    max_unzipped_bytes: int  # everything in an .xlsx, inflated
    sheet: str  # the sheet read when the workbook has one of that name; else the first
    too_large: str
    empty: str
    unsupported_type: str  # "%(kind)s" is replaced by the type found, such as PDF
    unrecognised: str
    not_a_workbook: str
    unknown_encoding: str
    xls_refusal: str | None = None  # None: an .xls is read; a message: it is refused so


@dataclass(frozen=True)
class RowError:
    """One problem of an upload: its spreadsheet row, the field (or ``"file"``) and why."""

    row: int
    column: str  # a field name of the import, or "file"
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.column, "message": self.message}


class RowsRejected(ValidationFailed):
    """The file has errors; nothing was written. ``details["rows"]`` lists them (API.md).

    ``summary`` is the import's own wording, with ``%(count)d`` errors in ``%(rows)d`` rows.
    """

    def __init__(self, errors: Sequence[RowError], summary: str) -> None:
        rows = {error.row for error in errors}
        message = summary % {"count": len(errors), "rows": len(rows)}
        super().__init__({"file": message}, message)
        self.errors = list(errors)
        self.details["rows"] = [error.as_dict() for error in self.errors]


def refuse(message: str) -> ValidationFailed:
    """The refusal of an upload: an error on the form's ``file`` field."""
    return ValidationFailed({"file": message})


def _broken() -> ValidationFailed:
    return refuse(_("文件已损坏，无法读取。请用 Excel 打开后重新保存再上传。"))


def _macros() -> ValidationFailed:
    return refuse(_("文件包含宏，出于安全考虑不予接收。请另存为不含宏的 .xlsx 文件。"))


def read_upload(upload: IO[bytes] | Any, form: UploadFormat) -> bytes:
    """The upload's bytes, refused when empty or over ``form.max_bytes`` (reading no further
    than one byte past the limit, whatever size the client claimed)."""
    size = getattr(upload, "size", None)
    if size is not None and size > form.max_bytes:
        raise refuse(form.too_large)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(form.max_bytes + 1)
    if len(data) > form.max_bytes:
        raise refuse(form.too_large)
    if not data.strip():
        raise refuse(form.empty)
    return bytes(data)


def detect_kind(data: bytes, form: UploadFormat) -> str:
    """``"xlsx"``, ``"xls"`` or ``"csv"`` from the bytes themselves, never the file name."""
    if data.startswith(XLSX_SIGNATURE):
        return "xlsx"
    if data.startswith(XLS_SIGNATURE):
        if form.xls_refusal is not None:
            raise refuse(form.xls_refusal)
        return "xls"
    if data.startswith(UTF16_BOMS):
        return "csv"  # Excel's "Unicode 文本": UTF-16, tab-separated
    try:
        kind = puremagic.from_string(data[:8192])
    except puremagic.PureError:
        kind = ""
    if kind and kind.lower() not in (".txt", ".csv", ".tsv"):
        raise refuse(form.unsupported_type % {"kind": kind.lstrip(".").upper()})
    if b"\x00" in data[:65536]:
        raise refuse(form.unrecognised)
    return "csv"


def sheet_rows(data: bytes, form: UploadFormat) -> Iterator[tuple[int, list[Any]]]:
    """Each row of the upload's sheet with its spreadsheet row number (from 1), as raw cells."""
    readers = {"xlsx": _xlsx_rows, "xls": _xls_rows, "csv": _csv_rows}
    return readers[detect_kind(data, form)](data, form)


def _xlsx_rows(data: bytes, form: UploadFormat) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _broken() from exc
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names:
        raise refuse(form.not_a_workbook)
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _macros()
    if (
        len(entries) > form.max_zip_entries
        or sum(entry.file_size for entry in entries) > form.max_unzipped_bytes
    ):
        raise refuse(_("文件内容过大，无法读取。请删除多余的工作表或格式后重新上传。"))
    try:
        # openpyxl parses through defusedxml when it is installed (it is a dependency): no
        # entity expansion, no external entities (SECURITY S18).
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise _broken() from exc
    try:
        sheet = (
            workbook[form.sheet] if form.sheet in workbook.sheetnames else workbook.worksheets[0]
        )
        sheet.reset_dimensions()  # some writers record a wrong size; read what is there
        for index, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield index, list(row)
    except ValidationFailed:
        raise
    except Exception as exc:
        raise _broken() from exc
    finally:
        workbook.close()


def _xls_rows(data: bytes, form: UploadFormat) -> Iterator[tuple[int, list[Any]]]:
    from python_calamine import CalamineWorkbook

    if XLS_MACROS in data:
        raise _macros()
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = workbook.sheet_names
        sheet = workbook.get_sheet_by_name(form.sheet if form.sheet in names else names[0])
        grid = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine's errors: not an xls, encrypted, broken
        raise refuse(
            _("无法读取该 .xls 文件（可能已损坏或加密）。请用 Excel 另存为 .xlsx 后上传。")
        ) from exc
    for index, row in enumerate(grid, start=1):
        yield index, list(row)


def _csv_rows(data: bytes, form: UploadFormat) -> Iterator[tuple[int, list[Any]]]:
    # Excel on Chinese Windows saves "CSV" in GBK (gb18030 is its superset); others UTF-8.
    utf16 = data.startswith(UTF16_BOMS)
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise refuse(form.unknown_encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        yield from enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1)
    except csv.Error as exc:
        raise refuse(_("CSV 文件格式有误，无法读取。请用 Excel 打开后重新保存。")) from exc


def cell_text(value: Any, *, true_text: str = "TRUE", false_text: str = "FALSE") -> str:
    """A cell as text: 13800138000.0 (a phone or a year Excel stored as a number) →
    "13800138000", dates in ISO form, booleans as ``true_text``/``false_text``, text stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return true_text if value else false_text
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def data_rows(
    rows: Iterable[tuple[int, list[Any]]],
    *,
    text_of: Callable[[Any], str] = cell_text,
    field_of: Callable[[str], str | None],
    is_header: Callable[[Collection[str]], bool],
    required: Sequence[str],
    column_names: Mapping[str, str],
    search_rows: int,
    no_header: str,
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows below the header row as ``{field: text}``, each with its row number; every
    cell goes through ``text_of`` first.

    People add title lines above the header, so the header is the first non-empty row whose
    cells name fields (``field_of``) that ``is_header`` accepts, looked for up to row
    ``search_rows``. A header without all ``required`` fields is refused naming the missing
    columns (``column_names``); no header at all is refused with ``no_header`` once the rows
    run out. Fully empty rows are skipped.
    """
    columns: dict[str, int] | None = None
    for index, raw in rows:
        cells = [text_of(value) for value in raw]
        if not any(cells):
            continue
        if columns is None:
            found: dict[str, int] = {}
            for position, text in enumerate(cells):
                key = field_of(text) if text else None
                if key is not None and key not in found:
                    found[key] = position
            if is_header(found.keys()):
                missing = [column_names[key] for key in required if key not in found]
                if missing:
                    raise refuse(
                        _("缺少必填列：%(columns)s。请使用下载的模板，不要修改第一行的列名。")
                        % {"columns": enumeration(missing)}
                    )
                columns = found
            elif index >= search_rows:
                break
            continue
        yield (
            index,
            {
                key: (cells[position] if position < len(cells) else "")
                for key, position in columns.items()
            },
        )
    if columns is None:
        raise refuse(no_header)


def xlsx_writer(buffer: IO[bytes], **options: Any) -> Any:
    """An XlsxWriter workbook on ``buffer`` in which strings stay strings: nothing typed into a
    cell becomes a formula, a link or a number. ``constant_memory=True`` streams large sheets."""
    import xlsxwriter

    return xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": not options.get("constant_memory", False),
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            **options,
        },
    )


def neutralise(value: str) -> str:
    """A cell text that no spreadsheet will run as a formula (SECURITY S19)."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def error_workbook(
    errors: Sequence[RowError],
    values: Mapping[int, Sequence[str]],
    *,
    headers: Sequence[str],
    column_label: Callable[[str], str],
    widths: Sequence[tuple[int, int, int]],
    frozen_columns: int = 0,
    skip_blank: bool = False,
) -> bytes:
    """The 错误报告 workbook both imports offer for download: 行号, 列, 原因 for each error, then
    the row's values as uploaded under ``headers`` (``skip_blank``: empty ones left unwritten).

    ``widths`` sizes the columns as (first, last, width); the header row and ``frozen_columns``
    stay in view.
    """
    buffer = io.BytesIO()
    workbook = xlsx_writer(buffer)
    sheet = workbook.add_worksheet("错误报告")
    bold = workbook.add_format({"bold": True, "bg_color": "#FDEEEE", "border": 1})
    text = workbook.add_format({"num_format": "@"})
    for column, header in enumerate(["行号", "列", "原因", *headers]):
        sheet.write_string(0, column, header, bold)
    for line, error in enumerate(errors, start=1):
        sheet.write_number(line, 0, error.row)
        sheet.write_string(line, 1, column_label(error.column))
        sheet.write_string(line, 2, neutralise(error.message))
        for offset, value in enumerate(values.get(error.row, [])):
            if value or not skip_blank:
                sheet.write_string(line, 3 + offset, neutralise(str(value)), text)
    for first, last, width in widths:
        sheet.set_column(first, last, width)
    sheet.freeze_panes(1, frozen_columns)
    workbook.close()
    return buffer.getvalue()
