"""Roster routes of API.md (Organisations): import a roster file, download the template, export.

The import is all or nothing: 201 with the counts, or 422 with every row error
(``details.rows``) and nothing written.
"""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from xuexi.accounts.models import User
from xuexi.api.schemas import ERRORS
from xuexi.core.clientip import client_ip_from_request
from xuexi.organizations import roster
from xuexi.organizations.access import access_organization_as_admin
from xuexi.organizations.roster_views import export_filename, template_filename, xlsx_attachment

router = Router(tags=["成员名单"])

XLSX_RESPONSE = {
    "200": {
        "description": "Excel 文件（.xlsx）",
        "content": {roster.XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


class RowErrorOut(Schema):
    row: int
    field: str
    message: str


class RosterImportOut(Schema):
    created: int
    updated: int
    unchanged: int
    errors: list[RowErrorOut]


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


@router.post(
    "/organizations/{organization_id}/roster-imports",
    response={201: RosterImportOut, **ERRORS},
)
def roster_import_create(
    request: HttpRequest, organization_id: int, file: File[UploadedFile]
) -> Status[dict]:
    """Import a roster (.xlsx, .xls or .csv, ≤ 10 MB, ≤ 50,000 rows) into the subtree.

    422 ``validation_error`` with ``details.rows`` = ``[{"row", "field", "message"}]`` when any
    row is wrong (nothing is written), or with ``details.fields.file`` when the file itself
    cannot be read.
    """
    actor = _actor(request)
    organization = access_organization_as_admin(actor, organization_id)
    rows = roster.roster_read(file)
    result = roster.roster_import(
        actor=actor,
        organization=organization,
        rows=rows,
        file_name=file.name or "",
        ip=client_ip_from_request(request),
    )
    return Status(
        201,
        {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "errors": [],
        },
    )


@router.get(
    "/organizations/{organization_id}/roster-template",
    response={200: None, **ERRORS},
    openapi_extra={"responses": XLSX_RESPONSE},
)
def roster_template(request: HttpRequest, organization_id: int) -> HttpResponse:
    """The .xlsx import template with drop-downs for the organisations of the subtree."""
    actor = _actor(request)
    organization = access_organization_as_admin(actor, organization_id)
    return xlsx_attachment(
        roster.roster_template(actor=actor, organization=organization),
        template_filename(organization),
    )


@router.get(
    "/organizations/{organization_id}/roster-export",
    response={200: None, **ERRORS},
    openapi_extra={"responses": XLSX_RESPONSE},
)
def roster_export(request: HttpRequest, organization_id: int) -> HttpResponse:
    """Every current member of the subtree as .xlsx, full phone numbers (audited, S13)."""
    actor = _actor(request)
    organization = access_organization_as_admin(actor, organization_id)
    content = roster.roster_export(
        actor=actor, organization=organization, ip=client_ip_from_request(request)
    )
    return xlsx_attachment(content, export_filename(organization))
