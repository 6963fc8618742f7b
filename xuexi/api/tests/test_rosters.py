"""The roster routes of API.md asked by the persona cast: import, template, export."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xuexi.accounts.models import User
from xuexi.core.models import AuditEntry
from xuexi.organizations.models import Membership

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "手机号", "所属组织（编码或路径）", "政治面貌"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def roster_file(*rows: list[str]) -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("名单.xlsx", buffer.getvalue())


def counts() -> tuple[int, int, int]:
    return User.objects.count(), Membership.objects.count(), AuditEntry.objects.count()


def imports(org_id: int) -> str:
    return f"/api/v1/organizations/{org_id}/roster-imports"


def test_a_county_admin_imports_a_roster(client, personas):
    client.force_login(personas["county_admin"])
    response = client.post(
        imports(personas["orgs"]["county_a"].pk),
        {"file": roster_file(["李四", "13900139000", "P-1-1-1-1", "中共党员"])},
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0, "errors": []}
    user = User.objects.get(phone="13900139000")
    assert user.registered_at is None
    assert AuditEntry.objects.filter(action="roster.import", after__file="名单.xlsx").exists()


def test_a_row_naming_the_sibling_county_rejects_the_file_and_writes_nothing(client, personas):
    client.force_login(personas["county_admin"])
    before = counts()
    response = client.post(
        imports(personas["orgs"]["county_a"].pk),
        {
            "file": roster_file(
                ["李四", "13900139000", "P-1-1-1-1"], ["王五", "13900139001", "P-1-1-2-1"]
            )
        },
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["details"]["rows"] == [
        {"row": 3, "field": "organization", "message": "找不到该组织，或它不在您的管理范围内。"}
    ]
    assert "未导入任何数据" in body["message"]
    assert counts() == before


def test_an_unreadable_file_is_a_422_on_the_file_field(client, personas):
    client.force_login(personas["county_admin"])
    response = client.post(
        imports(personas["orgs"]["county_a"].pk),
        {"file": SimpleUploadedFile("名单.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)},
    )
    assert response.status_code == 422
    assert set(response.json()["details"]["fields"]) == {"file"}


def test_a_missing_file_is_a_422(client, personas):
    client.force_login(personas["county_admin"])
    response = client.post(imports(personas["orgs"]["county_a"].pk), {})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("operator", 201),
        ("province_admin", 201),
        ("county_admin", 201),
        ("outsider", 404),
        ("branch_admin", 404),
        ("member", 403),
        ("stranger", 403),
    ],
)
def test_the_import_answers_each_persona(client, personas, persona, expected):
    client.force_login(personas[persona])
    before = counts()
    response = client.post(
        imports(personas["orgs"]["county_a"].pk),
        {"file": roster_file(["李四", "13900139000", "P-1-1-1-1"])},
    )
    assert response.status_code == expected
    if expected != 201:
        assert set(response.json()) == {"code", "message", "details"}
        assert counts() == before


def test_anonymous_visitors_get_401(client, personas):
    before = counts()
    org_id = personas["orgs"]["county_a"].pk
    response = client.post(
        imports(org_id), {"file": roster_file(["李四", "13900139000", "P-1-1-1-1"])}
    )
    assert response.status_code == 401
    assert counts() == before
    for route in ("roster-template", "roster-export"):
        assert client.get(f"/api/v1/organizations/{org_id}/{route}").status_code == 401


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
@pytest.mark.parametrize("route", ["roster-template", "roster-export"])
def test_the_downloads_answer_each_persona(client, personas, persona, expected, route):
    client.force_login(personas[persona])
    response = client.get(f"/api/v1/organizations/{personas['orgs']['county_a'].pk}/{route}")
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == XLSX
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
        openpyxl.load_workbook(io.BytesIO(response.content))


def test_the_export_is_audited_with_its_row_count(client, personas):
    client.force_login(personas["county_admin"])
    response = client.get(f"/api/v1/organizations/{personas['orgs']['county_a'].pk}/roster-export")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["成员名单"]
    phones = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert phones == {
        personas["county_admin"].phone,
        personas["branch_admin"].phone,
        personas["member"].phone,
    }
    entry = AuditEntry.objects.get(action="roster.export")
    assert entry.after == {"rows": 3}
    assert entry.actor == personas["county_admin"]
