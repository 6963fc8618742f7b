"""Console pages for rosters (成员名单): template, upload → preview → confirm, errors, export.

Every view fetches the organisation through ``access_organization_as_admin``: a member with no
administrative role gets 403 and an organisation outside the scope 404, both as Chinese pages
(``DomainErrorPageMiddleware``). An upload is visible only to the administrator who made it.
"""

from __future__ import annotations

import re
from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xuexi.accounts.models import User
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import Conflict, ValidationFailed
from xuexi.core.time import business_day
from xuexi.organizations import roster
from xuexi.organizations.access import access_organization_as_admin
from xuexi.organizations.models import MEMBER_KINDS, Organization, RosterUpload, RosterUploadStatus

ERRORS_PER_PAGE = 100
UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def xlsx_attachment(content: bytes, filename: str) -> HttpResponse:
    """An .xlsx download: attachment with an RFC 5987 file name, never sniffed or cached."""
    response = HttpResponse(content, content_type=roster.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (
        content_disposition_header(True, UNSAFE_FILE_CHARS.sub("_", filename)) or "attachment"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def template_filename(organization: Organization) -> str:
    return _("成员名单导入模板-%(org)s.xlsx") % {"org": organization.name}


def export_filename(organization: Organization) -> str:
    return _("成员名单-%(org)s-%(day)s.xlsx") % {
        "org": organization.name,
        "day": f"{business_day():%Y%m%d}",
    }


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("名单文件"),
        help_text=gettext_lazy("支持 .xlsx、.xls、.csv，不超过 10 MB、5 万行。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _context(organization: Organization) -> dict[str, object]:
    return {
        "organization": organization,
        "accepts_members": organization.kind in MEMBER_KINDS,
        "console_section": "organizations",
    }


@login_required
@require_http_methods(["GET", "POST"])
def roster_import(request: HttpRequest, org_id: int) -> HttpResponse:
    """成员名单导入: download the template, upload a file, see recent uploads, export."""
    actor = _actor(request)
    organization = access_organization_as_admin(actor, org_id)
    form = RosterUploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            upload = roster.roster_upload_create(
                actor=actor, organization=organization, upload=form.cleaned_data["file"]
            )
        except ValidationFailed as exc:
            form.add_error("file", str(exc.message))
        else:
            return redirect("console:roster_upload", organization.pk, upload.pk)
    uploads = RosterUpload.objects.filter(actor=actor, organization=organization).order_by(
        "-created_at", "-id"
    )[:10]
    return render(
        request,
        "organizations/roster_import.html",
        {
            **_context(organization),
            "form": form,
            "uploads": uploads,
            "max_rows": roster.MAX_ROWS,
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
def roster_upload(request: HttpRequest, org_id: int, upload_id: int) -> HttpResponse:
    """The preview of an upload (counts, first rows, every error) or its result."""
    actor = _actor(request)
    organization = access_organization_as_admin(actor, org_id)
    upload = roster.roster_upload_get(actor=actor, organization=organization, upload_id=upload_id)
    result = upload.result or {}
    errors = [
        {"row": row, "column": roster.column_label(column), "message": message}
        for row, column, message in result.get("errors", [])
    ]
    error_page = Paginator(errors, ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    labels = [roster.HEADERS[name] for name in roster.FIELDS]
    expired = upload.status == RosterUploadStatus.EXPIRED or (
        upload.status == RosterUploadStatus.PREVIEWED and roster.roster_upload_expired(upload)
    )
    return render(
        request,
        "organizations/roster_upload.html",
        {
            **_context(organization),
            "upload": upload,
            "result": result,
            "error_count": len(errors),
            "error_page": error_page,
            "preview": [
                {**line, "cells": list(zip(labels, line.get("values", []), strict=False))}
                for line in result.get("preview", [])
            ],
            "labels": labels,
            "can_confirm": upload.status == RosterUploadStatus.PREVIEWED and not expired,
            "expired": expired,
        },
    )


@login_required
@require_POST
def roster_upload_confirm(request: HttpRequest, org_id: int, upload_id: int) -> HttpResponse:
    """确认导入: everything or nothing; the page then shows the result or the new errors."""
    actor = _actor(request)
    organization = access_organization_as_admin(actor, org_id)
    upload = roster.roster_upload_get(actor=actor, organization=organization, upload_id=upload_id)
    try:
        done = roster.roster_upload_confirm(
            actor=actor, upload=upload, ip=client_ip_from_request(request)
        )
    except roster.RosterRejected as rejected:
        messages.error(request, str(rejected.message))
    except (Conflict, ValidationFailed) as refusal:
        messages.error(request, str(refusal.message))
    else:
        messages.success(
            request,
            _("导入完成：新增 %(created)d 人，更新 %(updated)d 人，未变 %(unchanged)d 人。")
            % {
                "created": done.result.get("created", 0),
                "updated": done.result.get("updated", 0),
                "unchanged": done.result.get("unchanged", 0),
            },
        )
    return redirect("console:roster_upload", organization.pk, upload.pk)


@login_required
@require_GET
def roster_upload_errors(request: HttpRequest, org_id: int, upload_id: int) -> HttpResponse:
    """The error workbook (行号, 列, 原因 and the row's values) of an upload."""
    actor = _actor(request)
    organization = access_organization_as_admin(actor, org_id)
    upload = roster.roster_upload_get(actor=actor, organization=organization, upload_id=upload_id)
    stem = upload.original_name.rsplit(".", 1)[0] or "roster"
    return xlsx_attachment(
        roster.roster_upload_errors(upload), _("错误报告-%(name)s.xlsx") % {"name": stem}
    )


@login_required
@require_GET
def roster_template(request: HttpRequest, org_id: int) -> HttpResponse:
    actor = _actor(request)
    organization = access_organization_as_admin(actor, org_id)
    content = roster.roster_template(actor=actor, organization=organization)
    return xlsx_attachment(content, template_filename(organization))


@login_required
@require_GET
def roster_export(request: HttpRequest, org_id: int) -> HttpResponse:
    """All current members of the subtree as .xlsx (an audited export of personal data)."""
    actor = _actor(request)
    organization = access_organization_as_admin(actor, org_id)
    try:
        content = roster.roster_export(
            actor=actor, organization=organization, ip=client_ip_from_request(request)
        )
    except Conflict as refusal:
        messages.error(request, str(refusal.message))
        return redirect("console:roster_import", organization.pk)
    return xlsx_attachment(content, export_filename(organization))
