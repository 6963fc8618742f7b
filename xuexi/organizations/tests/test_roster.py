"""成员名单: template, reading, checking, the all-or-nothing import, error workbook, export, pages.

Every refusal is proved to write nothing: users, memberships and audit entries are counted
before and after. Files are made here (openpyxl, csv, and a small BIFF8 writer for .xls).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import struct
import time
import zipfile
from collections.abc import Sequence
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.hashers import is_password_usable
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xuexi.accounts.models import User
from xuexi.core.errors import NotFound, ValidationFailed
from xuexi.core.models import AuditEntry
from xuexi.organizations import roster
from xuexi.organizations.models import (
    Membership,
    MembershipEnd,
    Organization,
    RosterUpload,
    RosterUploadStatus,
)
from xuexi.organizations.roster import RosterRejected, RosterRow

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "手机号", "所属组织（编码或路径）", "政治面貌"]
BRANCH_A = "P-1-1-1-1"
BRANCH_B = "P-1-1-2-1"


# --- making files ----------------------------------------------------------------------------


def keep_private_files_in(settings, directory) -> None:
    """Roster uploads go to the private storage (never MEDIA_ROOT): point it at ``directory``."""
    settings.PRIVATE_FILES_ROOT = directory


def xlsx_bytes(rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = "成员名单"
    if header:
        sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "名单.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def csv_bytes(rows: Sequence[Sequence[Any]], encoding: str = "utf-8-sig") -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def xls_bytes(rows: Sequence[Sequence[Any]], sheet: str = "成员名单") -> bytes:
    """A real Excel 97–2003 (.xls, BIFF8) workbook in an OLE compound file.

    No library here writes .xls and none is worth a dependency for a test, so this writes the
    few records a reader needs: BOF, CODEPAGE, BOUNDSHEET8, SST, LABELSST, NUMBER, EOF.
    """
    strings: list[str] = []
    index: dict[str, int] = {}
    cells = []
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, int | float):
                cells.append(_record(0x0203, struct.pack("<HHHd", r, c, 0, float(value))))
                continue
            if value not in index:
                index[value] = len(strings)
                strings.append(value)
            cells.append(_record(0x00FD, struct.pack("<HHHI", r, c, 0, index[value])))

    def bof(kind: int) -> bytes:
        return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))

    sst = _record(
        0x00FC,
        struct.pack("<II", len(strings), len(strings))
        + b"".join(struct.pack("<HB", len(s), 1) + s.encode("utf-16-le") for s in strings),
    )

    def workbook_globals(sheet_offset: int) -> bytes:
        bound = _record(
            0x0085,
            struct.pack("<IBBBB", sheet_offset, 0, 0, len(sheet), 1) + sheet.encode("utf-16-le"),
        )
        return bof(0x0005) + _record(0x0042, struct.pack("<H", 1200)) + bound + sst + _record(0x0A)

    head = workbook_globals(len(workbook_globals(0)))
    width = max((len(row) for row in rows), default=0)
    body = (
        bof(0x0010)
        + _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0))
        + b"".join(cells)
        + _record(0x0A)
    )
    return compound_file(head + body)


def compound_file(stream: bytes, name: str = "Workbook") -> bytes:
    """An OLE2 compound file (512-byte sectors) holding one stream of at least 4 KB."""
    stream = stream.ljust(4096, b"\0")
    stream += b"\0" * (-len(stream) % 512)
    sectors = len(stream) // 512
    end, free, fat_sector, none = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    fat = [fat_sector, *[i + 2 for i in range(sectors - 1)], end, end]
    fat += [free] * (128 - len(fat))
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
    header += struct.pack("<IIIIIIIII", 0, 1, sectors + 1, 0, 4096, end, 0, end, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", free) * 108

    def entry(label: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = label.encode("utf-16-le") + b"\0\0" if label else b""
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), kind, 1)
            + struct.pack("<III", none, none, child)
            + b"\0" * 36
            + struct.pack("<IQ", start, size)
        )

    directory = (
        entry("Root Entry", 5, 1, end, 0)
        + entry(name, 2, none, 1, len(stream))
        + entry("", 0, none, 0, 0) * 2
    )
    return header + struct.pack("<128I", *fat) + stream + directory


# --- the cast and the counts -------------------------------------------------------------------


@pytest.fixture
def tree(personas: dict[str, Any]) -> dict[str, Any]:
    """The persona tree plus a second branch, a closed branch and a study group in county A."""
    county_a = personas["orgs"]["county_a"]
    orgs = dict(personas["orgs"])
    orgs["branch_a2"] = Organization.objects.add_child(
        county_a, {"name": "支部A2", "kind": "branch", "code": "P-1-1-1-2"}
    )
    orgs["closed"] = Organization.objects.add_child(
        county_a, {"name": "已撤销支部", "kind": "branch", "code": "P-1-1-1-3", "is_open": False}
    )
    county_a.refresh_from_db()
    orgs["group"] = Organization.objects.add_child(
        orgs["branch_a2"], {"name": "学习小组一", "kind": "group", "code": "P-1-1-1-2-1"}
    )
    for organization in orgs.values():
        organization.refresh_from_db()
    return {**personas, "orgs": orgs}


def counts() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        Membership.objects.count(),
        Membership.objects.filter(ended_at__isnull=False).count(),
        AuditEntry.objects.count(),
    )


def rows_of(*rows: Sequence[str], start: int = 2) -> list[RosterRow]:
    return [
        RosterRow(start + i, *(list(row) + [""] * (4 - len(row)))) for i, row in enumerate(rows)
    ]


def import_as(tree: dict[str, Any], *rows: Sequence[str], who: str = "county_admin") -> Any:
    return roster.roster_import(
        actor=tree[who], organization=tree["orgs"]["county_a"], rows=rows_of(*rows)
    )


def rejected(tree: dict[str, Any], *rows: Sequence[str], who: str = "county_admin") -> list:
    """Import ``rows``, expect a refusal, prove nothing was written; the row errors."""
    before = counts()
    with pytest.raises(RosterRejected) as refusal:
        import_as(tree, *rows, who=who)
    assert counts() == before
    assert refusal.value.status == 422
    assert refusal.value.details["rows"] == [e.as_dict() for e in refusal.value.errors]
    return refusal.value.errors


GOOD = ("李四", "13900139000", BRANCH_A, "群众")


# --- checking: every kind of error, nothing written ---------------------------------------------


def test_a_bad_phone_rejects_the_whole_file(tree):
    errors = rejected(tree, GOOD, ("王五", "1390013900", BRANCH_A))
    assert [(e.row, e.column) for e in errors] == [(3, "phone")]
    assert "11 位" in errors[0].message


def test_a_missing_phone_and_a_missing_name_are_both_reported(tree):
    errors = rejected(tree, GOOD, ("", "", BRANCH_A))
    assert {(e.row, e.column) for e in errors} == {(3, "real_name"), (3, "phone")}


def test_a_duplicate_phone_names_both_rows(tree):
    errors = rejected(tree, GOOD, ("王五", "13900139001", BRANCH_A), ("李四", "139 0013 9000"))
    duplicate = [e for e in errors if "重复" in e.message]
    assert [(e.row, e.column) for e in duplicate] == [(2, "phone"), (4, "phone")]
    assert "第 4 行" in duplicate[0].message
    assert "第 2 行" in duplicate[1].message


def test_an_unknown_organisation_is_an_error(tree):
    errors = rejected(tree, GOOD, ("王五", "13900139001", "NOPE-1"))
    assert [(e.row, e.column) for e in errors] == [(3, "organization")]
    assert errors[0].message == "找不到该组织，或它不在您的管理范围内。"


def test_an_organisation_outside_the_scope_reads_exactly_like_an_unknown_one(tree):
    by_code = rejected(tree, GOOD, ("王五", "13900139001", BRANCH_B))
    by_path = rejected(tree, GOOD, ("王五", "13900139001", "示范省/东州市/县B/支部B1"))
    unknown = rejected(tree, GOOD, ("王五", "13900139001", "NOPE-1"))
    assert by_code[0].message == by_path[0].message == unknown[0].message


def test_an_organisation_in_scope_but_outside_the_page_is_refused(tree):
    errors = roster.roster_check(
        actor=tree["province_admin"],
        organization=tree["orgs"]["county_a"],
        rows=rows_of(("王五", "13900139001", BRANCH_B)),
    ).errors
    assert [(e.row, e.column) for e in errors] == [(2, "organization")]
    assert "县A" in errors[0].message


def test_members_go_only_into_branches_and_groups(tree):
    errors = rejected(tree, GOOD, ("王五", "13900139001", "P-1-1-1"))
    assert errors[0].message == "成员只能编入党支部或学习小组。"


def test_a_closed_branch_takes_no_members(tree):
    errors = rejected(tree, GOOD, ("王五", "13900139001", "P-1-1-1-3"))
    assert errors[0].message == "该组织已关闭，不能编入成员。"


def test_an_unknown_political_status_is_an_error(tree):
    errors = rejected(tree, GOOD, ("王五", "13900139001", BRANCH_A, "积极分子"))
    assert [(e.row, e.column) for e in errors] == [(3, "political_status")]
    assert "中共党员" in errors[0].message


def test_a_member_of_an_organisation_outside_the_scope_cannot_be_taken(tree):
    member_b = tree["member_b"]
    errors = rejected(tree, GOOD, (member_b.real_name, member_b.phone, BRANCH_A))
    assert [(e.row, e.column) for e in errors] == [(3, "phone")]
    assert "组织关系转接" in errors[0].message
    assert Membership.objects.get(user=member_b, ended_at__isnull=True).organization.code == (
        BRANCH_B
    )


def test_an_organisation_is_required_above_branch_level(tree):
    errors = rejected(tree, GOOD, ("王五", "13900139001", ""))
    assert errors[0].column == "organization"


def test_an_ambiguous_name_asks_for_the_code(tree):
    Organization.objects.add_child(
        tree["orgs"]["county_a"], {"name": "支部A1", "kind": "branch", "code": "P-1-1-1-9"}
    )
    errors = rejected(tree, GOOD, ("王五", "13900139001", "支部A1"))
    assert "同名" in errors[0].message


def test_every_error_of_every_row_is_reported_in_row_order(tree):
    errors = rejected(
        tree,
        ("x", "123", "NOPE", "?"),
        GOOD,
        ("王五", "13900139001", "P-1-1-1"),
    )
    assert [(e.row, e.column) for e in errors] == [
        (2, "real_name"),
        (2, "phone"),
        (2, "organization"),
        (2, "political_status"),
        (4, "organization"),
    ]


def test_a_non_administrator_cannot_check_or_import(tree):
    with pytest.raises(NotFound):
        roster.roster_check(
            actor=tree["member"], organization=tree["orgs"]["county_a"], rows=rows_of(GOOD)
        )


# --- importing ---------------------------------------------------------------------------------


def test_a_new_number_becomes_a_pre_listed_member(tree):
    result = import_as(tree, GOOD)
    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
    user = User.objects.get(phone="13900139000")
    assert user.real_name == "李四"
    assert user.registered_at is None
    assert not is_password_usable(user.password)
    assert user.political_status == "masses"
    assert Membership.objects.get(user=user, ended_at__isnull=True).organization.code == BRANCH_A


def test_an_account_without_an_organisation_is_placed(tree):
    stranger = tree["stranger"]
    result = import_as(tree, (stranger.real_name, stranger.phone, "P-1-1-1-2-1"))
    assert (result.created, result.updated) == (0, 1)
    current = Membership.objects.get(user=stranger, ended_at__isnull=True)
    assert current.organization == tree["orgs"]["group"]


def test_a_member_in_scope_is_transferred_and_his_details_follow_the_file(tree):
    member = tree["member"]
    old = Membership.objects.get(user=member, ended_at__isnull=True)
    result = import_as(tree, ("吕新名", member.phone, "县A/支部A2", "中共预备党员"))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    old.refresh_from_db()
    assert old.ended_at is not None
    assert old.end_reason == MembershipEnd.TRANSFERRED
    current = Membership.objects.get(user=member, ended_at__isnull=True)
    assert current.organization == tree["orgs"]["branch_a2"]
    member.refresh_from_db()
    assert (member.real_name, member.political_status) == ("吕新名", "probationary")


def test_a_province_admin_moves_a_member_between_his_counties(tree):
    member_b = tree["member_b"]
    roster.roster_import(
        actor=tree["province_admin"],
        organization=tree["orgs"]["province"],
        rows=rows_of((member_b.real_name, member_b.phone, BRANCH_A)),
    )
    assert Membership.objects.get(user=member_b, ended_at__isnull=True).organization.code == (
        BRANCH_A
    )


def test_a_member_already_in_place_is_unchanged_and_nothing_is_rewritten(tree):
    member = tree["member"]
    before = counts()
    result = import_as(tree, (member.real_name, member.phone, BRANCH_A))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    users, memberships, ended, audits = counts()
    assert (users, memberships, ended) == before[:3]
    assert audits == before[3] + 1


def test_an_empty_political_status_keeps_what_the_account_has(tree):
    member = tree["member"]
    User.objects.filter(pk=member.pk).update(political_status="party_member")
    result = import_as(tree, (member.real_name, member.phone, BRANCH_A, ""))
    assert result.unchanged == 1
    member.refresh_from_db()
    assert member.political_status == "party_member"


def test_a_branch_page_places_rows_without_an_organisation_in_that_branch(tree):
    result = roster.roster_import(
        actor=tree["branch_admin"],
        organization=tree["orgs"]["branch_a"],
        rows=rows_of(("李四", "13900139000")),
    )
    assert result.created == 1
    assert Membership.objects.get(user__phone="13900139000").organization.code == BRANCH_A


@pytest.mark.parametrize(
    "value",
    [
        "县A/支部A1",
        "示范省/东州市/县A/支部A1",
        "全国学习平台/示范省/东州市/县A/支部A1",
        "东州市 › 县A › 支部A1",
        "县A／支部A1",
        "支部A1",
        BRANCH_A,
    ],
)
def test_an_organisation_is_named_by_code_name_or_path(tree, value):
    assert import_as(tree, ("李四", "13900139000", value)).created == 1
    assert Membership.objects.get(user__phone="13900139000").organization.code == BRANCH_A


def test_the_import_writes_one_audit_entry_with_the_counts_and_the_file_name(tree):
    member, stranger = tree["member"], tree["stranger"]
    roster.roster_import(
        actor=tree["county_admin"],
        organization=tree["orgs"]["county_a"],
        rows=rows_of(
            GOOD,
            (member.real_name, member.phone, "P-1-1-1-2"),
            (stranger.real_name, stranger.phone, BRANCH_A),
        ),
        file_name="名单.xlsx",
        ip="10.0.0.1",
    )
    entry = AuditEntry.objects.get(action="roster.import")
    assert entry.after == {
        "file": "名单.xlsx",
        "rows": 3,
        "created": 1,
        "updated": 2,
        "unchanged": 0,
        "placed": 1,
        "transferred": 1,
    }
    assert entry.actor == tree["county_admin"]
    assert entry.organization == tree["orgs"]["county_a"]
    assert entry.ip == "10.0.0.1"


def test_a_change_between_check_and_write_rolls_everything_back(tree, monkeypatch):
    before = counts()
    original = roster._apply

    def racing(plan):
        # someone registers the same number after the check
        User.objects.create_user(phone="13900139000", real_name="抢先", password=None)
        original(plan)

    monkeypatch.setattr(roster, "_apply", racing)
    with pytest.raises(roster.Conflict):
        import_as(tree, GOOD, ("王五", "13900139001", BRANCH_A))
    assert counts() == before


def test_the_check_uses_a_handful_of_queries_whatever_the_size(tree):
    rows = rows_of(
        *[(f"成员{chr(0x4E00 + i)}", f"139{i:08d}", BRANCH_A) for i in range(1200)],
        (tree["member"].real_name, tree["member"].phone, "县A/支部A2"),
    )
    with CaptureQueriesContext(connection) as queries:
        check = roster.roster_check(
            actor=tree["county_admin"], organization=tree["orgs"]["county_a"], rows=rows
        )
    assert check.ok
    assert len(queries) <= 8


# --- reading files ---------------------------------------------------------------------------


def test_phones_stored_as_numbers_are_read_as_text(tree):
    data = xlsx_bytes([["李四", 13900139000, BRANCH_A], ["王五", 13900139001.0, BRANCH_A]])
    rows = roster.roster_read(upload(data))
    assert [row.phone for row in rows] == ["13900139000", "13900139001"]


def test_headers_tolerate_spaces_and_full_width_brackets_and_a_title_row(tree):
    header = [" 姓 名 ", "手机号码", "所属组织(编码或路径)", "政治面貌 "]
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.append(["县A成员名单"])
    sheet.append(header)
    sheet.append(["李四", " 139 0013 9000 ", BRANCH_A, "群众"])
    sheet.append([])
    sheet.append(["王五", "13900139001", "", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = roster.roster_read(upload(buffer.getvalue()))
    assert rows == [
        RosterRow(3, "李四", "13900139000", BRANCH_A, "群众"),
        RosterRow(5, "王五", "13900139001", "", ""),
    ]


def test_csv_in_utf8_and_in_gbk_reads_the_same(tree):
    data = [["李四", "13900139000", "县A/支部A1", "中共党员"]]
    utf8 = roster.roster_read(upload(csv_bytes(data), "名单.csv"))
    gbk = roster.roster_read(upload(csv_bytes(data, "gbk"), "名单.csv"))
    assert utf8 == gbk == [RosterRow(2, "李四", "13900139000", "县A/支部A1", "中共党员")]


def test_excel_unicode_text_is_read(tree):
    text = "\t".join(HEADER) + "\r\n" + "李四\t13900139000\t县A/支部A1\t\r\n"
    rows = roster.roster_read(upload(text.encode("utf-16"), "名单.txt"))
    assert rows == [RosterRow(2, "李四", "13900139000", "县A/支部A1", "")]


def test_an_old_xls_file_is_read(tree):
    data = xls_bytes(
        [
            HEADER,
            ["李四", 13900139000.0, BRANCH_A, "群众"],
            [],
            ["王五", "13900139001", "县A/支部A1"],
        ]
    )
    rows = roster.roster_read(upload(data, "名单.xls"))
    assert rows == [
        RosterRow(2, "李四", "13900139000", BRANCH_A, "群众"),
        RosterRow(4, "王五", "13900139001", "县A/支部A1", ""),
    ]
    assert import_as(tree, *[row.values() for row in rows]).created == 2


def test_the_type_comes_from_the_content_not_the_name(tree):
    data = csv_bytes([["李四", "13900139000", BRANCH_A]])
    assert roster.roster_read(upload(data, "名单.xlsx"))[0].phone == "13900139000"
    xlsx = xlsx_bytes([["李四", "13900139000", BRANCH_A]])
    assert roster.roster_read(upload(xlsx, "名单.csv"))[0].phone == "13900139000"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "空的"),
        (b"   \r\n", "空的"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n" + b"\x00" * 64, "不支持"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "不支持"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "不支持"),
        (b"PK\x03\x04 broken zip", "损坏"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "无法读取"),
    ],
)
def test_other_or_broken_files_are_refused(tree, data, fragment):
    with pytest.raises(ValidationFailed) as refusal:
        roster.roster_read(upload(data, "名单.xlsx"))
    assert fragment in str(refusal.value.message)
    assert "file" in refusal.value.details["fields"]


def test_a_zip_that_is_no_workbook_is_refused(tree):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(ValidationFailed, match="不是 Excel"):
        roster.roster_read(upload(buffer.getvalue()))


def test_a_workbook_with_macros_is_refused(tree):
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([GOOD])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in source.infolist():
            archive.writestr(item, source.read(item))
        archive.writestr("xl/vbaProject.bin", b"\x00" * 32)
    with pytest.raises(ValidationFailed, match="宏"):
        roster.roster_read(upload(buffer.getvalue()))


def test_a_zip_bomb_is_refused_before_it_is_inflated(tree):
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([GOOD])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            archive.writestr(item, source.read(item))
        archive.writestr("xl/media/padding.bin", b"\x00" * (roster.MAX_UNZIPPED_BYTES + 1))
    assert len(buffer.getvalue()) < roster.MAX_UPLOAD_BYTES
    with pytest.raises(ValidationFailed, match="过大"):
        roster.roster_read(upload(buffer.getvalue()))


def test_an_xml_bomb_is_not_expanded(tree):
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([GOOD])))
    entities = (
        '<!DOCTYPE worksheet [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = body.decode().replace("李四", "&lol2;")
                if text.startswith("<?xml"):
                    declaration, rest = text.split("?>", 1)
                    text = declaration + "?>" + entities + rest
                else:
                    text = entities + text
                body = text.encode()
            archive.writestr(item, body)
    with pytest.raises(ValidationFailed, match="损坏"):
        roster.roster_read(upload(buffer.getvalue()))


def test_files_over_ten_megabytes_are_refused(tree):
    big = SimpleUploadedFile("名单.csv", b"a" * (roster.MAX_UPLOAD_BYTES + 1))
    with pytest.raises(ValidationFailed, match="10 MB"):
        roster.roster_read(big)


def test_missing_columns_are_named(tree):
    data = xlsx_bytes([["李四", BRANCH_A]], header=["姓名", "所属组织"])
    with pytest.raises(ValidationFailed, match="缺少必填列：手机号"):
        roster.roster_read(upload(data))
    no_header = xlsx_bytes([["李四", "13900139000"]], header=["名字", "电话号"])
    with pytest.raises(ValidationFailed, match="找不到表头"):
        roster.roster_read(upload(no_header))


def test_a_header_without_rows_is_refused(tree):
    with pytest.raises(ValidationFailed, match="没有成员数据"):
        roster.roster_read(upload(xlsx_bytes([])))


def test_more_than_fifty_thousand_rows_are_refused(tree):
    rows = [[f"成员{i}", f"139{i:08d}", BRANCH_A] for i in range(roster.MAX_ROWS + 1)]
    data = csv_bytes(rows)
    assert len(data) < roster.MAX_UPLOAD_BYTES
    before = counts()
    with pytest.raises(ValidationFailed, match="50,000"):
        roster.roster_read(upload(data, "名单.csv"))
    assert counts() == before


# --- the template ----------------------------------------------------------------------------


def test_the_template_has_drop_downs_a_text_phone_column_and_an_example(tree):
    data = roster.roster_template(actor=tree["county_admin"], organization=tree["orgs"]["county_a"])
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["成员名单", "组织列表", "填写说明"]
    sheet = workbook["成员名单"]
    assert [cell.value for cell in sheet[1]] == HEADER
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].number_format == "@"
    assert sheet["B2"].number_format == "@"
    assert sheet["A2"].value == roster.EXAMPLE_NAME
    assert sheet["A2"].font.i
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    status = validations["D2:D50001"]
    assert status.type == "list"
    assert status.formula1 == '"中共党员,中共预备党员,共青团员,群众,其他"'
    organizations = validations["C2:C50001"]
    listed = workbook["组织列表"]
    assert listed.sheet_state == "hidden"
    codes = [row[0] for row in listed.iter_rows(min_row=2, values_only=True)]
    # open branches and groups below county A only: not county B's, not the closed one
    assert codes == ["P-1-1-1-1", "P-1-1-1-2", "P-1-1-1-2-1"]
    assert organizations.formula1 == f"'组织列表'!$A$2:$A${len(codes) + 1}"
    paths = [row[2] for row in listed.iter_rows(min_row=2, values_only=True)]
    assert paths == ["县A/支部A1", "县A/支部A2", "县A/支部A2/学习小组一"]
    assert "填写说明" in workbook["填写说明"]["A1"].value


def test_a_filled_template_imports_and_its_example_row_is_skipped(tree):
    data = roster.roster_template(actor=tree["county_admin"], organization=tree["orgs"]["county_a"])
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook["成员名单"].append(["李四", "13900139000", "P-1-1-1-2", "共青团员"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = roster.roster_read(upload(buffer.getvalue()))
    assert rows == [RosterRow(3, "李四", "13900139000", "P-1-1-1-2", "共青团员")]


def test_a_template_for_a_huge_subtree_leaves_out_the_list(tree, monkeypatch):
    monkeypatch.setattr(roster, "TEMPLATE_MAX_ORGANIZATIONS", 2)
    data = roster.roster_template(actor=tree["county_admin"], organization=tree["orgs"]["county_a"])
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["成员名单", "填写说明"]
    notes = " ".join(str(c.value) for c in workbook["填写说明"]["A"])
    assert "组织编码" in notes


def test_the_template_is_scoped(tree):
    with pytest.raises(NotFound):
        roster.roster_template(actor=tree["outsider"], organization=tree["orgs"]["county_a"])


# --- error workbook and export -------------------------------------------------------------------


def test_the_error_workbook_lists_row_column_reason_and_the_values(tree):
    rows = rows_of(('=HYPERLINK("http://x")', "123", BRANCH_A))
    errors = roster.roster_check(
        actor=tree["county_admin"], organization=tree["orgs"]["county_a"], rows=rows
    ).errors
    data = roster.roster_error_workbook(errors, rows)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:3] == ("行号", "列", "原因")
    assert table[1][:2] == (2, "姓名")
    assert table[2][:2] == (2, "手机号")
    assert table[1][3] == '\'=HYPERLINK("http://x")'
    assert table[1][4] == "123"


def test_the_export_lists_the_subtree_with_full_phones_and_is_audited(tree):
    import_as(tree, GOOD)
    data = roster.roster_export(
        actor=tree["county_admin"], organization=tree["orgs"]["county_a"], ip="10.0.0.2"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook["成员名单"]
    table = list(sheet.iter_rows(values_only=True))
    assert table[0] == ("姓名", "手机号", "政治面貌", "所属组织", "组织路径", "状态", "加入时间")
    assert sheet.freeze_panes == "A2"
    phones = {row[1] for row in table[1:]}
    assert tree["member"].phone in phones
    assert "13900139000" in phones
    assert tree["member_b"].phone not in phones
    new = next(row for row in table if row[1] == "13900139000")
    assert new[2:6] == ("群众", "支部A1", "全国学习平台/示范省/东州市/县A/支部A1", "未注册")
    assert isinstance(new[6], dt.datetime)
    entry = AuditEntry.objects.get(action="roster.export")
    assert entry.after == {"rows": len(table) - 1}
    assert entry.ip == "10.0.0.2"
    assert tree["county_admin"].real_name in workbook["导出说明"]["B1"].value


def test_the_export_neutralises_formulas(tree):
    branch = Organization.objects.add_child(
        tree["orgs"]["county_a"], {"name": "=cmd|'/c calc'!A1", "kind": "branch", "code": "X-1"}
    )
    for name in ("=1+1", "+SUM(A1)", "-2", "@A1", "\tx", "\rx"):
        user = User.objects.create_user(
            phone=f"1390000{len(name)}{ord(name[0]) % 1000:03d}", real_name=name
        )
        Membership.objects.create(user=user, organization=branch)
    data = roster.roster_export(actor=tree["county_admin"], organization=branch)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["成员名单"]
    for row in sheet.iter_rows(min_row=2):
        assert row[0].data_type == "s"
        assert row[0].value.startswith("'")
        assert row[3].value == "'=cmd|'/c calc'!A1"
        assert row[4].value.endswith("/=cmd|'/c calc'!A1")
    # XlsxWriter stores CR as the OOXML escape _x000D_, which openpyxl leaves as it is
    names = {
        row[0].replace("_x000D_", "\r") for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert names == {"'=1+1", "'+SUM(A1)", "'-2", "'@A1", "'\tx", "'\rx"}


def test_the_export_is_scoped_and_capped(tree, monkeypatch):
    with pytest.raises(NotFound):
        roster.roster_export(actor=tree["outsider"], organization=tree["orgs"]["county_a"])
    with pytest.raises(NotFound):
        roster.roster_export(actor=tree["member"], organization=tree["orgs"]["county_a"])
    monkeypatch.setattr(roster, "EXPORT_MAX_ROWS", 1)
    before = counts()
    with pytest.raises(roster.Conflict):
        roster.roster_export(actor=tree["county_admin"], organization=tree["orgs"]["county_a"])
    assert counts() == before


# --- the console pages -------------------------------------------------------------------------


def page(name: str, org: Organization, *args: int) -> str:
    return reverse(f"console:{name}", args=[org.pk, *args])


def test_the_upload_previews_then_imports_everything_on_confirmation(
    client, tree, settings, tmp_path
):
    keep_private_files_in(settings, tmp_path)
    county = tree["orgs"]["county_a"]
    client.force_login(tree["county_admin"])
    assert client.get(page("roster_import", county)).status_code == 200
    before = counts()
    response = client.post(
        page("roster_import", county),
        {"file": upload(xlsx_bytes([GOOD, ["王五", "13900139001", "县A/支部A2", ""]]))},
    )
    record = RosterUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == page("roster_upload", county, record.pk)
    assert counts() == before  # a preview writes nothing but the upload record
    assert record.status == RosterUploadStatus.PREVIEWED
    assert record.file.name.startswith("rosters/")
    assert "名单" not in record.file.name
    preview = client.get(page("roster_upload", county, record.pk))
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "确认导入" in text
    assert "13900139001" in text
    stored = tmp_path / record.file.name
    assert stored.exists()
    confirmed = client.post(page("roster_upload_confirm", county, record.pk))
    assert confirmed.status_code == 302
    record.refresh_from_db()
    assert record.status == RosterUploadStatus.IMPORTED
    assert (record.result["created"], record.result["updated"]) == (2, 0)
    assert not stored.exists()
    assert User.objects.filter(phone__in=["13900139000", "13900139001"]).count() == 2
    again = client.post(page("roster_upload_confirm", county, record.pk), follow=True)
    assert "已处理" in again.content.decode()
    assert AuditEntry.objects.filter(action="roster.import").count() == 1


def test_an_upload_with_errors_cannot_be_confirmed_and_offers_the_error_workbook(
    client, tree, settings, tmp_path
):
    keep_private_files_in(settings, tmp_path)
    county = tree["orgs"]["county_a"]
    client.force_login(tree["county_admin"])
    before = counts()
    client.post(
        page("roster_import", county), {"file": upload(xlsx_bytes([GOOD, ["王五", "1", BRANCH_B]]))}
    )
    record = RosterUpload.objects.get()
    assert record.status == RosterUploadStatus.REJECTED
    assert not record.file
    text = client.get(page("roster_upload", county, record.pk)).content.decode()
    assert "确认导入" not in text
    assert "下载错误报告" in text
    workbook = client.get(page("roster_upload_errors", county, record.pk))
    assert workbook.status_code == 200
    assert workbook["X-Content-Type-Options"] == "nosniff"
    assert "filename*=utf-8''" in workbook["Content-Disposition"]
    table = list(openpyxl.load_workbook(io.BytesIO(workbook.content)).worksheets[0].values)
    assert [row[:2] for row in table[1:]] == [(3, "手机号"), (3, "所属组织")]
    assert table[1][3:6] == ("王五", "1", BRANCH_B)
    client.post(page("roster_upload_confirm", county, record.pk))
    assert counts() == before


def test_an_unreadable_upload_is_shown_on_the_form_and_not_kept(client, tree, settings, tmp_path):
    keep_private_files_in(settings, tmp_path)
    county = tree["orgs"]["county_a"]
    client.force_login(tree["county_admin"])
    response = client.post(page("roster_import", county), {"file": upload(b"%PDF-1.4\n\x00\x00")})
    assert response.status_code == 422
    assert "不支持" in response.content.decode()
    assert not RosterUpload.objects.exists()


def test_an_upload_older_than_a_day_cannot_be_confirmed(client, tree, settings, tmp_path):
    keep_private_files_in(settings, tmp_path)
    county = tree["orgs"]["county_a"]
    client.force_login(tree["county_admin"])
    client.post(page("roster_import", county), {"file": upload(xlsx_bytes([GOOD]))})
    record = RosterUpload.objects.get()
    RosterUpload.objects.filter(pk=record.pk).update(
        created_at=record.created_at - dt.timedelta(days=1, minutes=1)
    )
    before = counts()
    response = client.post(page("roster_upload_confirm", county, record.pk), follow=True)
    assert "超过一天" in response.content.decode()
    record.refresh_from_db()
    assert record.status == RosterUploadStatus.EXPIRED
    assert not record.file
    assert counts() == before


def test_a_preview_that_no_longer_passes_is_rejected_at_confirmation(
    client, tree, settings, tmp_path
):
    keep_private_files_in(settings, tmp_path)
    county = tree["orgs"]["county_a"]
    client.force_login(tree["county_admin"])
    client.post(
        page("roster_import", county),
        {"file": upload(xlsx_bytes([GOOD, ["王五", "13900139001", "P-1-1-1-2"]]))},
    )
    record = RosterUpload.objects.get()
    Organization.objects.filter(code="P-1-1-1-2").update(is_open=False)
    before = counts()
    client.post(page("roster_upload_confirm", county, record.pk))
    assert counts() == before
    record.refresh_from_db()
    assert record.status == RosterUploadStatus.REJECTED
    assert record.result["errors"][0][:2] == [3, "organization"]


def test_uploads_are_private_to_their_administrator(client, tree, settings, tmp_path):
    keep_private_files_in(settings, tmp_path)
    county = tree["orgs"]["county_a"]
    client.force_login(tree["county_admin"])
    client.post(page("roster_import", county), {"file": upload(xlsx_bytes([GOOD]))})
    record = RosterUpload.objects.get()
    client.force_login(tree["province_admin"])
    assert client.get(page("roster_upload", county, record.pk)).status_code == 404
    assert client.post(page("roster_upload_confirm", county, record.pk)).status_code == 404
    assert client.get(page("roster_upload_errors", county, record.pk)).status_code == 404


def test_the_purge_expires_stale_uploads_and_forgets_old_ones(client, tree, settings, tmp_path):
    keep_private_files_in(settings, tmp_path)
    county = tree["orgs"]["county_a"]
    client.force_login(tree["county_admin"])
    client.post(page("roster_import", county), {"file": upload(xlsx_bytes([GOOD]))})
    record = RosterUpload.objects.get()
    stored = tmp_path / record.file.name
    later = record.created_at + dt.timedelta(days=2)
    assert roster.roster_uploads_purge(at=later) == {"expired": 1, "deleted": 0}
    assert not stored.exists()
    assert roster.roster_uploads_purge(at=later + dt.timedelta(days=30)) == {
        "expired": 0,
        "deleted": 1,
    }


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("operator", 200),
        ("province_admin", 200),
        ("county_admin", 200),
        ("outsider", 404),
        ("branch_admin", 404),
        ("member", 403),
        ("stranger", 403),
    ],
)
@pytest.mark.parametrize("name", ["roster_import", "roster_template", "roster_export"])
def test_the_roster_pages_answer_each_persona(client, tree, persona, expected, name):
    client.force_login(tree[persona])
    response = client.get(page(name, tree["orgs"]["county_a"]))
    assert response.status_code == expected
    if expected == 200 and name != "roster_import":
        assert response["Content-Type"] == roster.XLSX_CONTENT_TYPE
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")


@pytest.mark.parametrize("name", ["roster_import", "roster_template", "roster_export"])
def test_the_roster_pages_send_anonymous_visitors_to_sign_in(client, tree, name):
    response = client.get(page(name, tree["orgs"]["county_a"]))
    assert response.status_code == 302
    assert "login" in response["Location"]


# --- 50,000 rows: run with XUEXI_SLOW_TESTS=1 (docs/rosters.md has the measured times) ---------


@pytest.mark.skipif(not os.environ.get("XUEXI_SLOW_TESTS"), reason="slow: set XUEXI_SLOW_TESTS=1")
def test_fifty_thousand_rows_import_within_the_request_budget(tree):
    count = roster.MAX_ROWS
    people = [
        [f"成员{chr(0x4E00 + i % 20000)}", f"13{i:09d}", BRANCH_A, "群众"] for i in range(count)
    ]
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("成员名单")
    sheet.append(HEADER)
    for person in people:
        sheet.append(person)
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert len(buffer.getvalue()) < roster.MAX_UPLOAD_BYTES

    started = time.perf_counter()
    rows = roster.roster_read(upload(buffer.getvalue()))
    read = time.perf_counter() - started
    result = roster.roster_import(
        actor=tree["county_admin"], organization=tree["orgs"]["county_a"], rows=rows
    )
    total = time.perf_counter() - started
    assert result.created == count
    started = time.perf_counter()
    csv_rows = roster.roster_read(upload(csv_bytes(people), "名单.csv"))
    csv_read = time.perf_counter() - started
    assert csv_rows == rows
    started = time.perf_counter()
    moved = [RosterRow(row.row, row.real_name, row.phone, "P-1-1-1-2", "") for row in rows]
    again = roster.roster_import(
        actor=tree["county_admin"], organization=tree["orgs"]["county_a"], rows=moved
    )
    transfer = time.perf_counter() - started
    assert again.updated == count
    started = time.perf_counter()
    exported = roster.roster_export(
        actor=tree["county_admin"], organization=tree["orgs"]["county_a"]
    )
    export = time.perf_counter() - started
    print(
        f"\n{connection.vendor}: xlsx read {read:.1f}s + import of new members = {total:.1f}s; "
        f"csv read {csv_read:.1f}s; transfer of all {transfer:.1f}s; "
        f"export {export:.1f}s ({len(exported) // 1024} KB)"
    )
    assert total < 30
    assert transfer < 30
