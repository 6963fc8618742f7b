"""成员名单 (rosters): the Excel template, reading an upload, checking it, the all-or-nothing
import, the error workbook and the export (PRODUCT C2, SECURITY S8, S13, S18, S19).

The import applies the rules of ``member_add`` and ``member_transfer`` in bulk:

- a number without an account becomes a pre-listed member (no usable password, not
  registered) placed in the named organisation;
- an account with no current organisation is placed there;
- a member inside the actor's scope is moved there (组织关系转接: the old membership ends
  as ``transferred``), and his name and 政治面貌 follow the file;
- a member of an organisation outside the actor's scope is an error: only an administrator
  whose scope holds both ends may transfer him.

One bad row rejects the whole file and nothing is written (unlike RuoYi, which saves the good
rows and then reports failure). The check reads the database in a handful of queries whatever
the size of the file: phone numbers in ``IN`` chunks of 5,000, organisations by code in one
query and by name or path in two.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import FilteredRelation, Q
from django.utils import translation
from django.utils.translation import gettext as _

from xuexi.accounts.models import PoliticalStatus, User
from xuexi.accounts.phones import normalize_phone
from xuexi.accounts.services import validate_real_name
from xuexi.core import ratelimit, spreadsheets
from xuexi.core.audit import audit_record
from xuexi.core.errors import Conflict, NotFound, ValidationFailed
from xuexi.core.spreadsheets import RowError, neutralise
from xuexi.core.text import enumeration
from xuexi.core.time import BUSINESS_TZ, now, seconds_until_next_business_day
from xuexi.organizations.models import (
    MEMBER_KINDS,
    Membership,
    MembershipEnd,
    Organization,
    OrganizationKind,
    RosterUpload,
    RosterUploadStatus,
)
from xuexi.organizations.scope import AdminScope

# --- limits (docs/rosters.md explains them and the measured times) -------------------------------

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
# Everything inside an .xlsx, uncompressed: a 10 MB upload of plain rows stays far below;
# a zip bomb does not.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_ENTRIES = 2_000
EXPORT_MAX_ROWS = 200_000
TEMPLATE_MAX_ORGANIZATIONS = 5_000
TEMPLATE_INPUT_ROWS = MAX_ROWS + 1  # rows 2 … 50,001 carry the drop-downs
LOOKUP_CHUNK = 5_000
WRITE_BATCH = 2_000
UPLOAD_TTL = dt.timedelta(days=1)
UPLOAD_RETENTION = dt.timedelta(days=30)
PREVIEW_ROWS = 50
HEADER_SEARCH_ROWS = 10

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# --- the sheet's shape ---------------------------------------------------------------------------
# Sheet and column names are part of the file format (people fill them in, the reader matches
# them): they stay Chinese whatever the page language.

SHEET_ROSTER = "成员名单"
SHEET_ORGANIZATIONS = "组织列表"
SHEET_HELP = "填写说明"
FIELDS = ("real_name", "phone", "organization", "political_status")
HEADERS = {
    "real_name": "姓名",
    "phone": "手机号",
    "organization": "所属组织（编码或路径）",
    "political_status": "政治面貌",
}
REQUIRED_COLUMNS = ("real_name", "phone")
EXAMPLE_NAME = "张三（示例）"
EXAMPLE_PHONE = "13800000000"
EXAMPLE_STATUS = "中共党员"
PATH_SEPARATORS = ("/", "›", ">", "\\")


def column_label(field_name: str) -> str:
    """The Chinese column name of a field, as the error workbook and pages show it."""
    return {**HEADERS, "organization": "所属组织", "file": "文件"}.get(field_name, field_name)


# --- values shared by reading, checking and writing ----------------------------------------------


@dataclass(frozen=True)
class RosterRow:
    """One data row of an upload, every cell as text, with its spreadsheet row number."""

    row: int
    real_name: str = ""
    phone: str = ""
    organization: str = ""
    political_status: str = ""

    def values(self) -> list[str]:
        return [self.real_name, self.phone, self.organization, self.political_status]


class RosterRejected(spreadsheets.RowsRejected):
    """The roster has errors; nothing was written. ``details["rows"]`` lists them (API.md)."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(
            errors,
            _(
                "名单中有 %(count)d 处错误（涉及 %(rows)d 行），未导入任何数据。"
                "请下载错误报告，修改后重新上传。"
            ),
        )


def political_status_labels() -> list[str]:
    """The 政治面貌 labels in Chinese, the language of the file format."""
    with translation.override("zh-hans"):
        return [str(label) for label in PoliticalStatus.labels]


def _political_status_lookup() -> dict[str, str]:
    lookup = {}
    with translation.override("zh-hans"):
        for value, label in PoliticalStatus.choices:
            lookup[str(label)] = value
            lookup[value] = value
    lookup.update({"党员": "party_member", "预备党员": "probationary", "团员": "league_member"})
    return lookup


# --- 1. the template -----------------------------------------------------------------------------


def _name_paths(organizations: Sequence[Organization], *, below: str = "") -> dict[str, str]:
    """``path → "县A/支部A1"``: the names from the node at ``below`` (or the root) down.

    Two queries at most, whatever the number of nodes: their ancestors' names by path.
    """
    steplen = Organization.steplen
    wanted: set[str] = set()
    for organization in organizations:
        for end in range(steplen, len(organization.path), steplen):
            prefix = organization.path[:end]
            if len(prefix) >= len(below):
                wanted.add(prefix)
    names = {organization.path: organization.name for organization in organizations}
    missing = sorted(wanted - names.keys())
    for start in range(0, len(missing), LOOKUP_CHUNK):
        chunk = missing[start : start + LOOKUP_CHUNK]
        names.update(Organization.objects.filter(path__in=chunk).values_list("path", "name"))
    result = {}
    for organization in organizations:
        parts = [
            names.get(organization.path[:end], "")
            for end in range(steplen, len(organization.path) + 1, steplen)
            if end >= len(below)
        ]
        result[organization.path] = "/".join(parts)
    return result


def roster_template(*, actor: User, organization: Organization) -> bytes:
    """The .xlsx template for importing members into ``organization``'s subtree.

    Sheet 成员名单 has the header, a greyed example row (skipped on import), the phone column
    formatted as text and drop-downs for 政治面貌 and 所属组织; the hidden sheet 组织列表 lists
    the open branches and groups below ``organization`` (when there are at most 5,000 of
    them); 填写说明 has the rules.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    AdminScope.of(actor).require(organization)
    targets = list(
        Organization.objects.filter(
            path__startswith=organization.path, kind__in=MEMBER_KINDS, is_open=True
        ).order_by("path")[: TEMPLATE_MAX_ORGANIZATIONS + 1]
    )
    listed = len(targets) <= TEMPLATE_MAX_ORGANIZATIONS
    paths = _name_paths(targets, below=organization.path) if listed else {}

    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = SHEET_ROSTER
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="C8161D")
    for index, name in enumerate(FIELDS, start=1):
        cell = sheet.cell(row=1, column=index, value=HEADERS[name])
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 24
    for letter, width in zip("ABCD", (16, 18, 40, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    # The whole phone column is text: Excel keeps 11 digits as typed, not 1.38E+10.
    sheet.column_dimensions["B"].number_format = "@"
    sheet.freeze_panes = "A2"

    example_org = targets[0].code if targets else ""
    example = [EXAMPLE_NAME, EXAMPLE_PHONE, example_org, EXAMPLE_STATUS]
    grey = Font(italic=True, color="999999")
    for index, value in enumerate(example, start=1):
        cell = sheet.cell(row=2, column=index, value=neutralise(value))
        cell.font = grey
        cell.number_format = "@"
    sheet["A2"].comment = Comment(
        _("示例行：导入时会自动跳过。请从第 3 行起填写，也可以直接覆盖本行。"), "xuexi"
    )

    last = TEMPLATE_INPUT_ROWS
    statuses = political_status_labels()
    status_list = DataValidation(
        type="list",
        formula1='"' + ",".join(statuses) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("政治面貌"),
        error=_("请从下拉列表中选择政治面貌。"),
        showInputMessage=True,
        promptTitle=_("政治面貌"),
        prompt=_("可不填；填写时请从下拉列表中选择。"),
    )
    status_list.add(f"D2:D{last}")
    sheet.add_data_validation(status_list)

    if listed and targets:
        org_sheet = workbook.create_sheet(SHEET_ORGANIZATIONS)
        org_sheet.append(["组织编码", "组织名称", "组织路径", "类型"])
        for target in targets:
            org_sheet.append(
                [
                    neutralise(target.code),
                    neutralise(target.name),
                    neutralise(paths.get(target.path, target.name)),
                    str(OrganizationKind(target.kind).label),
                ]
            )
        for letter, width in zip("ABCD", (20, 24, 48, 12), strict=True):
            org_sheet.column_dimensions[letter].width = width
        org_sheet.freeze_panes = "A2"
        org_sheet.sheet_state = "hidden"
        org_list = DataValidation(
            type="list",
            formula1=f"'{SHEET_ORGANIZATIONS}'!$A$2:$A${len(targets) + 1}",
            allow_blank=True,
            # A path such as 县A/支部A1 is accepted too: warn, do not forbid.
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=_("所属组织"),
            error=_("不在组织列表中。填写组织路径（如 县A/支部A1）也可以，导入时会核对。"),
            showInputMessage=True,
            promptTitle=_("所属组织"),
            prompt=_("从下拉列表选择组织编码，或填写组织路径。"),
        )
        org_list.add(f"C2:C{last}")
        sheet.add_data_validation(org_list)

    help_sheet = workbook.create_sheet(SHEET_HELP)
    help_sheet.column_dimensions["A"].width = 100
    lines = [
        _("成员名单填写说明"),
        _("1. 在「成员名单」工作表中每行填写一名成员，请勿修改第一行的列名。"),
        _("2. 姓名、手机号必填；手机号为 11 位中国大陆手机号码，本列已设为文本格式。"),
        _(
            "3. 所属组织：填写组织编码，或从上级到本级的组织路径（用 / 分隔，如 "
            "%(example)s）。成员只能编入党支部或学习小组。"
        )
        % {
            "example": paths.get(targets[0].path, "县A/支部A1")
            if listed and targets
            else "县A/支部A1"
        },
        (
            _("   不填时，成员编入「%(org)s」。") % {"org": organization.name}
            if organization.kind in MEMBER_KINDS
            else _("   必须填写。")
        ),
        _("4. 政治面貌可不填；填写时从下拉列表中选择：%(labels)s。")
        % {"labels": enumeration(statuses)},
        _("5. 第 2 行灰色斜体为示例，导入时自动跳过。"),
        _("6. 名单中的新手机号会预先登记为成员，本人用该手机号注册后即可登录。"),
        _(
            "7. 已是您管理范围内成员的，按名单调整其所属组织、姓名和政治面貌；"
            "已在其他组织登记的，请联系其所在组织的管理员办理组织关系转接。"
        ),
        _(
            "8. 导入前会先检查全部数据：只要有一处错误，整份名单都不会导入。"
            "可下载错误报告，按行号修改后重新上传。"
        ),
        _("9. 支持 .xlsx、.xls 和 .csv 文件，不超过 10 MB、%(rows)s 行。")
        % {"rows": f"{MAX_ROWS:,}"},
    ]
    if listed and targets:
        lines.append(
            _("10. 可选的组织见隐藏的「组织列表」工作表（右键工作表标签，选择「取消隐藏」）。")
        )
    elif not listed:
        lines.append(
            _(
                "10. 本级以下的党支部和学习小组超过 %(count)s 个，模板未附组织列表："
                "请在管理后台查询组织编码后填写。"
            )
            % {"count": f"{TEMPLATE_MAX_ORGANIZATIONS:,}"}
        )
    for index, line in enumerate(lines, start=1):
        cell = help_sheet.cell(row=index, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    help_sheet["A1"].font = Font(bold=True, size=14)

    workbook.active = 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- 2. reading an upload ------------------------------------------------------------------------


def _upload_format() -> spreadsheets.UploadFormat:
    """How a roster upload is read, and the refusals that name a 名单 (the rest are shared)."""
    return spreadsheets.UploadFormat(
        max_bytes=MAX_UPLOAD_BYTES,
        max_zip_entries=MAX_ZIP_ENTRIES,
        max_unzipped_bytes=MAX_UNZIPPED_BYTES,
        sheet=SHEET_ROSTER,
        too_large=_("文件超过 10 MB，请分成几份后分别导入。"),
        empty=_("文件是空的，请填写名单后再上传。"),
        unsupported_type=_("不支持该文件类型（%(kind)s）。请上传 .xlsx、.xls 或 .csv 格式的名单。"),
        unrecognised=_("无法识别该文件。请上传 .xlsx、.xls 或 .csv 格式的名单。"),
        not_a_workbook=_("这不是 Excel 表格文件。请上传 .xlsx、.xls 或 .csv 格式的名单。"),
        unknown_encoding=_("无法识别文件编码。请把名单另存为 UTF-8 编码的 CSV 或 Excel 文件。"),
    )


def _header_key(text: str) -> str | None:
    """Which field a header cell names; spaces, full-width brackets and * are tolerated."""
    name = "".join(unicodedata.normalize("NFKC", text).split()).strip("*").replace("*", "")
    if name in ("姓名", "真实姓名", "成员姓名"):
        return "real_name"
    if name in ("手机号", "手机号码", "手机", "联系电话"):
        return "phone"
    if name.startswith("所属组织") or name in ("组织编码", "组织路径", "组织"):
        return "organization"
    if name == "政治面貌":
        return "political_status"
    return None


def roster_read(upload: IO[bytes] | Any) -> list[RosterRow]:
    """The data rows of an uploaded roster (.xlsx, .xls or .csv, told apart by content).

    Raises ``ValidationFailed`` (field ``file``) with a Chinese message for a file that is
    empty, over 10 MB, of another type, broken, without the 姓名 and 手机号 columns, with more
    than 50,000 data rows or with none. Fully empty rows and the template's example row are
    skipped; each row keeps its spreadsheet row number.
    """
    form = _upload_format()
    data = spreadsheets.read_upload(upload, form)
    table = spreadsheets.data_rows(
        spreadsheets.sheet_rows(data, form),
        field_of=_header_key,
        is_header=lambda found: "real_name" in found or "phone" in found,
        required=REQUIRED_COLUMNS,
        column_names=HEADERS,
        search_rows=HEADER_SEARCH_ROWS,
        no_header=_(
            "找不到表头：缺少「姓名」「手机号」列。请使用下载的模板，不要修改第一行的列名。"
        ),
    )
    rows: list[RosterRow] = []
    for index, values in table:
        values["phone"] = "".join(values.get("phone", "").split())
        row = RosterRow(row=index, **values)
        if row.real_name == EXAMPLE_NAME and row.phone == EXAMPLE_PHONE:
            continue  # the template's example row
        if len(rows) >= MAX_ROWS:
            raise spreadsheets.refuse(
                _("名单超过 %(limit)s 行，请分成几份后分别导入。") % {"limit": f"{MAX_ROWS:,}"}
            )
        rows.append(row)
    if not rows:
        raise spreadsheets.refuse(_("名单中没有成员数据，请从模板第 3 行起填写后再上传。"))
    return rows


# --- 3. checking ---------------------------------------------------------------------------------


@dataclass
class _Existing:
    user_id: int
    real_name: str
    political_status: str
    membership_id: int | None
    organization_id: int | None
    organization_path: str | None


@dataclass
class _Plan:
    """What the import will write, worked out by the check."""

    # phone, name, status, org
    new_users: list[tuple[str, str, str, int]] = field(default_factory=list)
    placements: list[tuple[int, int]] = field(default_factory=list)  # user, org
    transfers: list[tuple[int, int, int]] = field(default_factory=list)  # membership, user, org
    user_updates: list[tuple[int, str, str]] = field(default_factory=list)  # user, name, status


@dataclass
class RosterCheck:
    """The outcome of checking a roster: errors, or the counts of what an import would do."""

    errors: list[RowError]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    actions: dict[int, str] = field(default_factory=dict)  # row → created/updated/unchanged
    plan: _Plan = field(default_factory=_Plan, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors


def _chunks(items: Sequence[Any], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing_accounts(phones: Iterable[str]) -> dict[str, _Existing]:
    """Accounts by phone with their current membership: one query per 5,000 numbers."""
    found: dict[str, _Existing] = {}
    for chunk in _chunks(sorted(set(phones))):
        rows = (
            User.objects.filter(phone__in=chunk)
            .annotate(
                current=FilteredRelation(
                    "memberships", condition=Q(memberships__ended_at__isnull=True)
                )
            )
            .values_list(
                "phone",
                "pk",
                "real_name",
                "political_status",
                "current__id",
                "current__organization_id",
                "current__organization__path",
            )
        )
        for phone, pk, name, status, membership_id, org_id, org_path in rows:
            found[phone] = _Existing(pk, name, status, membership_id, org_id, org_path)
    return found


def _split_path(value: str) -> list[str]:
    text = unicodedata.normalize("NFKC", value)
    for separator in PATH_SEPARATORS[1:]:
        text = text.replace(separator, PATH_SEPARATORS[0])
    return [part.strip() for part in text.split(PATH_SEPARATORS[0]) if part.strip()]


def _resolve_organizations(
    values: set[str], *, organization: Organization, scope: AdminScope
) -> dict[str, Organization | str]:
    """Each 所属组织 value → its node below ``organization``, or the Chinese reason it is not.

    A value is a code, else a name or a path of names (示范省/东州市/县A/支部A1, any tail of
    the path from the root). One query for the codes, two for names and paths.
    """
    unknown = _("找不到该组织，或它不在您的管理范围内。")
    resolved: dict[str, Organization | str] = {}
    codes = sorted(value for value in values if len(_split_path(value)) == 1)
    by_code: dict[str, Organization] = {}
    for chunk in _chunks(codes):
        by_code.update((org.code, org) for org in Organization.objects.filter(code__in=chunk))
    by_name: set[str] = set()
    for value in values:
        found = by_code.get(value)
        if found is not None:
            if found.path.startswith(organization.path):
                resolved[value] = found
            elif scope.covers(found):
                resolved[value] = _("该组织不在「%(org)s」之下，请在其上级组织的页面导入。") % {
                    "org": organization.name
                }
            else:
                resolved[value] = unknown
        else:
            by_name.add(value)
    if not by_name:
        return resolved
    segments = {value: _split_path(value) for value in by_name}
    last_names = sorted({parts[-1] for parts in segments.values() if parts})
    candidates: dict[str, list[Organization]] = defaultdict(list)
    nodes: list[Organization] = []
    for chunk in _chunks(last_names):
        nodes.extend(
            Organization.objects.filter(path__startswith=organization.path, name__in=chunk)
        )
    for node in nodes:
        candidates[node.name].append(node)
    chains = _name_paths(nodes)  # from the root: "全国学习平台/示范省/…/支部A1"
    for value, parts in segments.items():
        matches = [
            node
            for node in (candidates.get(parts[-1], []) if parts else [])
            if chains[node.path].split("/")[-len(parts) :] == parts
        ]
        if len(matches) == 1:
            resolved[value] = matches[0]
        elif len(matches) > 1:
            resolved[value] = _("有 %(count)d 个同名组织，请填写组织编码或更完整的组织路径。") % {
                "count": len(matches)
            }
        else:
            resolved[value] = unknown
    return resolved


def roster_check(
    *, actor: User, organization: Organization, rows: Sequence[RosterRow]
) -> RosterCheck:
    """Check every row against the rules of ``member_add``/``member_transfer`` and the scope.

    Reports every problem of every row (not only the first) and, when there is none, what an
    import would do. Reads only: a handful of queries whatever the number of rows.
    """
    scope = AdminScope.of(actor)
    scope.require(organization)
    errors: list[RowError] = []

    def error(row: RosterRow, column: str, message: str) -> None:
        errors.append(RowError(row.row, column, message))

    statuses = _political_status_lookup()
    default_target = organization if organization.kind in MEMBER_KINDS else None

    phones: dict[int, str] = {}
    names: dict[int, str] = {}
    status_of: dict[int, str | None] = {}
    for row in rows:
        try:
            phones[row.row] = normalize_phone(row.phone)
        except ValidationFailed:
            if row.phone:
                error(row, "phone", _("手机号格式不正确，应为 11 位中国大陆手机号码。"))
            else:
                error(row, "phone", _("请填写手机号。"))
        try:
            names[row.row] = validate_real_name(row.real_name)
        except ValidationFailed:
            if row.real_name:
                error(row, "real_name", _("姓名格式不正确，应为 2–30 个汉字或字母。"))
            else:
                error(row, "real_name", _("请填写姓名。"))
        label = "".join(row.political_status.split())
        if not label:
            status_of[row.row] = None  # keep what the account has
        elif label in statuses:
            status_of[row.row] = statuses[label]
        else:
            error(
                row,
                "political_status",
                _("政治面貌无效，请从下拉列表中选择：%(labels)s。")
                % {"labels": enumeration(political_status_labels())},
            )

    rows_by_phone: dict[str, list[int]] = defaultdict(list)
    for row_number, phone in phones.items():
        rows_by_phone[phone].append(row_number)
    duplicated: set[int] = set()
    for same in rows_by_phone.values():
        if len(same) > 1:
            duplicated.update(same)
            for row_number in same:
                others = enumeration(str(other) for other in same if other != row_number)
                errors.append(
                    RowError(
                        row_number,
                        "phone",
                        _("手机号在名单中重复（第 %(rows)s 行也是这个号码）。") % {"rows": others},
                    )
                )

    resolved = _resolve_organizations(
        {row.organization for row in rows if row.organization},
        organization=organization,
        scope=scope,
    )
    targets: dict[int, Organization] = {}
    for row in rows:
        if not row.organization:
            if default_target is None:
                error(row, "organization", _("请填写所属组织（组织编码或组织路径）。"))
            else:
                targets[row.row] = default_target
            continue
        target = resolved[row.organization]
        if isinstance(target, str):
            error(row, "organization", target)
        elif target.kind not in MEMBER_KINDS:
            error(row, "organization", _("成员只能编入党支部或学习小组。"))
        elif not target.is_open:
            error(row, "organization", _("该组织已关闭，不能编入成员。"))
        else:
            targets[row.row] = target

    existing = _existing_accounts(phones.values())
    check = RosterCheck(errors=errors)
    plan = check.plan
    for row in rows:
        number = row.row
        if number in duplicated or number not in phones:
            continue
        account = existing.get(phones[number])
        if account is not None and account.organization_path is not None:
            current = Organization(path=account.organization_path)
            if not scope.covers(current):
                error(
                    row,
                    "phone",
                    _("该手机号已在其他组织登记，请联系其所在组织的管理员办理组织关系转接。"),
                )
                continue
        if number not in names or number not in targets or number not in status_of:
            continue
        name, target, status = names[number], targets[number], status_of[number]
        if account is None:
            plan.new_users.append((phones[number], name, status or "", target.pk))
            check.actions[number] = "created"
            continue
        new_status = account.political_status if status is None else status
        changed = False
        if account.real_name != name or account.political_status != new_status:
            plan.user_updates.append((account.user_id, name, new_status))
            changed = True
        if account.membership_id is None:
            plan.placements.append((account.user_id, target.pk))
            changed = True
        elif account.organization_id != target.pk:
            plan.transfers.append((account.membership_id, account.user_id, target.pk))
            changed = True
        check.actions[number] = "updated" if changed else "unchanged"
    check.errors.sort(key=lambda item: (item.row, FIELDS.index(item.column)))
    counts = Counter(check.actions.values())
    check.created, check.updated, check.unchanged = (
        counts["created"],
        counts["updated"],
        counts["unchanged"],
    )
    return check


# --- 4. the import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterResult:
    created: int
    updated: int
    unchanged: int


def _unusable_password() -> str:
    # What make_password(None) stores, without 40 separate random draws per row.
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def roster_import(
    *,
    actor: User,
    organization: Organization,
    rows: Sequence[RosterRow],
    file_name: str = "",
    ip: str | None = None,
) -> RosterResult:
    """Import a roster all or nothing, in one transaction with one ``roster.import`` entry.

    The rows are checked again inside the transaction; any error raises ``RosterRejected``
    and nothing is written. A change by someone else between the check and the writes (a
    number registered, a member moved) trips a unique constraint or a count and rolls the
    whole import back as ``Conflict``.
    """
    try:
        with transaction.atomic():
            check = roster_check(actor=actor, organization=organization, rows=rows)
            if check.errors:
                raise RosterRejected(check.errors)
            _apply(check.plan)
            plan = check.plan
            audit_record(
                actor=actor,
                action="roster.import",
                target=organization,
                organization=organization,
                after={
                    "file": file_name[:200],
                    "rows": len(rows),
                    "created": check.created,
                    "updated": check.updated,
                    "unchanged": check.unchanged,
                    "placed": len(plan.placements),
                    "transferred": len(plan.transfers),
                },
                ip=ip,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("导入期间有成员信息被他人修改，本次未导入任何数据，请重新导入。"),
            code="roster_changed",
        ) from exc
    return RosterResult(created=check.created, updated=check.updated, unchanged=check.unchanged)


def _apply(plan: _Plan) -> None:
    at = now()
    if plan.new_users:
        created = User.objects.bulk_create(
            [
                User(
                    phone=phone,
                    real_name=name,
                    political_status=status,
                    password=_unusable_password(),
                    registered_at=None,
                    date_joined=at,
                )
                for phone, name, status, _org in plan.new_users
            ],
            batch_size=WRITE_BATCH,
        )
        ids = {user.phone: user.pk for user in created if user.pk is not None}
        if len(ids) < len(plan.new_users):  # a backend that does not return ids
            for chunk in _chunks([phone for phone, *_rest in plan.new_users]):
                ids.update(User.objects.filter(phone__in=chunk).values_list("phone", "pk"))
    else:
        ids = {}
    if plan.user_updates:
        User.objects.bulk_update(
            [
                User(pk=user_id, real_name=name, political_status=status)
                for user_id, name, status in plan.user_updates
            ],
            ["real_name", "political_status"],
            batch_size=WRITE_BATCH // 2,
        )
    for chunk in _chunks([membership for membership, _user, _org in plan.transfers]):
        ended = Membership.objects.filter(pk__in=chunk, ended_at__isnull=True).update(
            ended_at=at, end_reason=MembershipEnd.TRANSFERRED
        )
        if ended != len(chunk):
            raise IntegrityError("a membership changed during the import")
    Membership.objects.bulk_create(
        [
            *(
                Membership(user_id=ids[phone], organization_id=org, started_at=at)
                for phone, _name, _status, org in plan.new_users
            ),
            *(
                Membership(user_id=user_id, organization_id=org, started_at=at)
                for user_id, org in plan.placements
            ),
            *(
                Membership(user_id=user_id, organization_id=org, started_at=at)
                for _membership, user_id, org in plan.transfers
            ),
        ],
        batch_size=WRITE_BATCH,
    )


# --- 5. the error workbook -----------------------------------------------------------------------


def roster_error_workbook(
    errors: Sequence[RowError], rows: Sequence[RosterRow] | dict[int, list[str]] = ()
) -> bytes:
    """行号, 列, 原因 for each error, then the row's original values when they are known."""
    values: dict[int, list[str]] = (
        dict(rows) if isinstance(rows, dict) else {row.row: row.values() for row in rows}
    )
    return spreadsheets.error_workbook(
        errors,
        values,
        headers=[HEADERS[name] for name in FIELDS],
        column_label=column_label,
        widths=[
            (column, column, width) for column, width in enumerate((8, 12, 60, 14, 16, 32, 12))
        ],
    )


# --- 6. the export -------------------------------------------------------------------------------


def roster_export(*, actor: User, organization: Organization, ip: str | None = None) -> bytes:
    """Every current member of ``organization``'s subtree, full phone numbers included.

    An audited bulk export of personal data (SECURITY S13): scoped, one ``roster.export``
    entry with the row count in the same transaction as the read, the requester's name in
    the workbook, capped at ``EXPORT_MAX_ROWS``. Rows stream from the database in chunks of
    2,000 into XlsxWriter's constant-memory mode; cells are neutralised against formulas.
    """
    scope = AdminScope.of(actor)
    scope.require(organization)
    ratelimit.hit(
        ratelimit.Limit(
            key=f"roster-export:{actor.pk}",
            count=settings.XUEXI_EXPORTS_PER_DAY,
            seconds=seconds_until_next_business_day(),
            message=_("您今日导出成员名单的次数已达上限，请明天再试。"),
            code="export_daily_limit",
        )
    )
    members = Membership.objects.filter(
        ended_at__isnull=True, organization__path__startswith=organization.path
    )
    with transaction.atomic():
        total = members.count()
        if total > EXPORT_MAX_ROWS:
            raise Conflict(
                _("该组织共有 %(count)s 名成员，超过单次导出上限 %(limit)s，请按下级组织分别导出。")
                % {"count": f"{total:,}", "limit": f"{EXPORT_MAX_ROWS:,}"},
                code="export_too_large",
            )
        ancestors = Organization.objects.get_ancestors(organization)
        names = dict(ancestors.values_list("path", "name"))
        names.update(
            Organization.objects.filter(path__startswith=organization.path).values_list(
                "path", "name"
            )
        )
        steplen = Organization.steplen
        path_text: dict[str, str] = {}

        def full_path(path: str) -> str:
            if path not in path_text:
                path_text[path] = "/".join(
                    names.get(path[:end], "") for end in range(steplen, len(path) + 1, steplen)
                )
            return path_text[path]

        with translation.override("zh-hans"):
            status_labels = {value: str(label) for value, label in PoliticalStatus.choices}
            registered, prelisted = _("已注册"), _("未注册")
        buffer = io.BytesIO()
        workbook = spreadsheets.xlsx_writer(buffer, constant_memory=True)
        exported_at = now().astimezone(BUSINESS_TZ)
        watermark = _("导出人：%(name)s（%(phone)s） 导出时间：%(at)s 内含个人信息，注意保密") % {
            "name": actor.real_name,
            "phone": actor.masked_phone,
            "at": f"{exported_at:%Y-%m-%d %H:%M}",
        }
        workbook.set_properties(
            {
                "title": f"成员名单 {organization.name}",
                "author": actor.real_name,
                "comments": watermark,
            }
        )
        sheet = workbook.add_worksheet(SHEET_ROSTER)
        sheet.set_header(f"&C{watermark.replace('&', '&&')}")
        sheet.set_footer("&C&P / &N")
        bold = workbook.add_format({"bold": True, "bg_color": "#FDEEEE", "border": 1})
        when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        headers = ["姓名", "手机号", "政治面貌", "所属组织", "组织路径", "状态", "加入时间"]
        for column, header in enumerate(headers):
            sheet.write_string(0, column, header, bold)
        for column, width in enumerate((12, 14, 14, 24, 48, 10, 18)):
            sheet.set_column(column, column, width)
        sheet.freeze_panes(1, 0)
        rows = (
            members.order_by("organization__path", "id")
            .values_list(
                "user__real_name",
                "user__phone",
                "user__political_status",
                "organization__name",
                "organization__path",
                "user__registered_at",
                "started_at",
            )
            .iterator(chunk_size=2000)
        )
        count = 0
        for count, (name, phone, status, org_name, org_path, registered_at, started) in enumerate(
            rows, start=1
        ):
            sheet.write_string(count, 0, neutralise(name))
            sheet.write_string(count, 1, neutralise(phone))
            sheet.write_string(count, 2, status_labels.get(status, ""))
            sheet.write_string(count, 3, neutralise(org_name))
            sheet.write_string(count, 4, neutralise(full_path(org_path)))
            sheet.write_string(count, 5, registered if registered_at else prelisted)
            local = started.astimezone(BUSINESS_TZ).replace(tzinfo=None)
            sheet.write_datetime(count, 6, local, when)
        about = workbook.add_worksheet("导出说明")
        about.set_column(0, 0, 16)
        about.set_column(1, 1, 60)
        for line, (label, value) in enumerate(
            [
                ("导出人", f"{actor.real_name}（{actor.masked_phone}）"),
                ("导出时间", f"{exported_at:%Y-%m-%d %H:%M:%S}"),
                ("组织", full_path(organization.path)),
                ("人数", str(count)),
                ("说明", _("本文件含成员个人信息，仅限本组织学习管理工作使用，不得外传。")),
            ]
        ):
            about.write_string(line, 0, label, bold)
            about.write_string(line, 1, neutralise(value))
        workbook.close()
        audit_record(
            actor=actor,
            action="roster.export",
            target=organization,
            organization=organization,
            after={"rows": count},
            ip=ip,
        )
    return buffer.getvalue()


# --- 7. uploads previewed in the console ---------------------------------------------------------


def _upload_result(
    check: RosterCheck, rows: Sequence[RosterRow], *, errors: Sequence[RowError] | None = None
) -> dict[str, Any]:
    errors = check.errors if errors is None else errors
    error_rows = {error.row for error in errors}
    return {
        "created": check.created,
        "updated": check.updated,
        "unchanged": check.unchanged,
        "errors": [[e.row, e.column, e.message] for e in errors],
        "error_values": {str(row.row): row.values() for row in rows if row.row in error_rows},
        "preview": [
            {
                "row": row.row,
                "values": row.values(),
                "action": check.actions.get(row.row, "error"),
            }
            for row in rows[:PREVIEW_ROWS]
        ],
    }


def roster_upload_create(*, actor: User, organization: Organization, upload: Any) -> RosterUpload:
    """Read and check an uploaded roster and keep it for a preview; nothing is imported yet.

    An unreadable file raises ``ValidationFailed`` and is not kept. A file with row errors
    is kept as ``rejected`` (its errors can be downloaded) without the file itself.
    """
    AdminScope.of(actor).require(organization)
    data = spreadsheets.read_upload(upload, _upload_format())
    rows = roster_read(io.BytesIO(data))
    check = roster_check(actor=actor, organization=organization, rows=rows)
    original = (getattr(upload, "name", "") or "roster")[-255:]
    record = RosterUpload(
        actor=actor,
        organization=organization,
        original_name=original,
        row_count=len(rows),
        status=RosterUploadStatus.PREVIEWED if check.ok else RosterUploadStatus.REJECTED,
        result=_upload_result(check, rows),
    )
    if check.ok:
        record.file.save(original, ContentFile(data), save=False)
    record.save()
    return record


def roster_upload_get(*, actor: User, organization: Organization, upload_id: int) -> RosterUpload:
    """An upload of ``actor`` into ``organization``; anyone else's answers ``NotFound``."""
    upload = RosterUpload.objects.filter(
        pk=upload_id, actor=actor, organization=organization
    ).first()
    if upload is None:
        raise NotFound(_("找不到该导入记录。"))
    return upload


def _drop_file(upload: RosterUpload) -> None:
    if upload.file:
        upload.file.delete(save=False)
        upload.file = ""


def roster_upload_expired(upload: RosterUpload) -> bool:
    return upload.created_at + UPLOAD_TTL < now()


def roster_upload_confirm(
    *, actor: User, upload: RosterUpload, ip: str | None = None
) -> RosterUpload:
    """Import a previewed upload, all or nothing, re-reading and re-checking the saved file.

    Refused (``Conflict``) when the upload is not waiting for confirmation or is older than
    a day. The upload row is locked for the import, so a double click imports once. If the
    data changed since the preview and the file no longer passes, the upload becomes
    ``rejected`` with the new errors and ``RosterRejected`` is raised.
    """
    organization = AdminScope.of(actor).require(upload.organization)
    if upload.actor_id != actor.pk:
        raise NotFound(_("找不到该导入记录。"))
    if upload.status != RosterUploadStatus.PREVIEWED:
        raise Conflict(_("该名单已处理，不能再次导入。"), code="roster_upload_done")
    if roster_upload_expired(upload) or not upload.file:
        _drop_file(upload)
        upload.status = RosterUploadStatus.EXPIRED
        upload.save(update_fields=["file", "status"])
        raise Conflict(_("上传已超过一天，请重新上传名单。"), code="roster_upload_expired")
    with upload.file.open("rb") as handle:
        data = handle.read()
    rows = roster_read(io.BytesIO(data))
    try:
        with transaction.atomic():
            locked = RosterUpload.objects.select_for_update().get(pk=upload.pk)
            if locked.status != RosterUploadStatus.PREVIEWED:
                raise Conflict(_("该名单已处理，不能再次导入。"), code="roster_upload_done")
            result = roster_import(
                actor=actor,
                organization=organization,
                rows=rows,
                file_name=upload.original_name,
                ip=ip,
            )
            locked.result = {
                **locked.result,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "imported_at": now().isoformat(),
            }
            locked.status = RosterUploadStatus.IMPORTED
            locked.save(update_fields=["status", "result"])
    except RosterRejected as rejected:
        upload.result = _upload_result(RosterCheck(errors=rejected.errors), rows)
        upload.status = RosterUploadStatus.REJECTED
        _drop_file(upload)
        upload.save(update_fields=["file", "status", "result"])
        raise
    # The file goes only once the import has committed: deleting it is not transactional.
    _drop_file(locked)
    locked.save(update_fields=["file"])
    return locked


def roster_upload_errors(upload: RosterUpload) -> bytes:
    """The error workbook of a previewed or rejected upload."""
    errors = [RowError(int(r), str(c), str(m)) for r, c, m in upload.result.get("errors", [])]
    values = {int(k): list(v) for k, v in upload.result.get("error_values", {}).items()}
    return roster_error_workbook(errors, values)


def roster_uploads_purge(*, at: dt.datetime | None = None) -> dict[str, int]:
    """Housekeeping for a periodic job: expire uploads left unconfirmed for a day (their
    files deleted) and delete upload records older than 30 days; the audit log keeps the
    record of every import."""
    at = at or now()
    expired = 0
    stale = RosterUpload.objects.filter(
        status=RosterUploadStatus.PREVIEWED, created_at__lt=at - UPLOAD_TTL
    )
    for upload in stale.iterator():
        _drop_file(upload)
        upload.status = RosterUploadStatus.EXPIRED
        upload.save(update_fields=["file", "status"])
        expired += 1
    old = RosterUpload.objects.filter(created_at__lt=at - UPLOAD_RETENTION)
    for upload in old.exclude(file="").iterator():
        _drop_file(upload)
    deleted, _detail = old.delete()
    return {"expired": expired, "deleted": deleted}
