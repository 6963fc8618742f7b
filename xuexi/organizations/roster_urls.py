"""Roster pages, included at the end of the console's URLs (namespace ``console``)."""

from django.urls import path

from xuexi.organizations import roster_views

urlpatterns = [
    path(
        "organizations/<int:org_id>/roster/",
        roster_views.roster_import,
        name="roster_import",
    ),
    path(
        "organizations/<int:org_id>/roster/template.xlsx",
        roster_views.roster_template,
        name="roster_template",
    ),
    path(
        "organizations/<int:org_id>/roster/export.xlsx",
        roster_views.roster_export,
        name="roster_export",
    ),
    path(
        "organizations/<int:org_id>/roster/uploads/<int:upload_id>/",
        roster_views.roster_upload,
        name="roster_upload",
    ),
    path(
        "organizations/<int:org_id>/roster/uploads/<int:upload_id>/confirm/",
        roster_views.roster_upload_confirm,
        name="roster_upload_confirm",
    ),
    path(
        "organizations/<int:org_id>/roster/uploads/<int:upload_id>/errors.xlsx",
        roster_views.roster_upload_errors,
        name="roster_upload_errors",
    ),
]
