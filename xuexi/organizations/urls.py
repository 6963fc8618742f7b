from django.urls import include, path

from xuexi.organizations import views

app_name = "console"

urlpatterns = [
    path("login-log/", views.login_log, name="login_log"),
    # 组织与成员
    path("", views.index, name="index"),
    path("organizations/search/", views.organization_search, name="organization_search"),
    path("organizations/<int:org_id>/", views.organization, name="organization"),
    path(
        "organizations/<int:org_id>/children/",
        views.organization_children,
        name="organization_children",
    ),
    path("organizations/<int:org_id>/new/", views.organization_create, name="organization_create"),
    path("organizations/<int:org_id>/edit/", views.organization_edit, name="organization_edit"),
    path("organizations/<int:org_id>/move/", views.organization_move, name="organization_move"),
    path("organizations/<int:org_id>/close/", views.organization_close, name="organization_close"),
    path(
        "organizations/<int:org_id>/reopen/", views.organization_reopen, name="organization_reopen"
    ),
    path("organizations/<int:org_id>/members/new/", views.member_add, name="member_add"),
    path(
        "organizations/<int:org_id>/members/<int:user_id>/edit/",
        views.member_edit,
        name="member_edit",
    ),
    path(
        "organizations/<int:org_id>/members/<int:user_id>/transfer/",
        views.member_transfer,
        name="member_transfer",
    ),
    path(
        "organizations/<int:org_id>/members/<int:user_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    # 角色与管理员
    path("organizations/<int:org_id>/roles/", views.roles, name="roles"),
    path("organizations/<int:org_id>/roles/new/", views.role_grant, name="role_grant"),
    path("roles/<int:grant_id>/revoke/", views.role_revoke, name="role_revoke"),
    # 邀请码
    path("organizations/<int:org_id>/invitations/", views.invitations, name="invitations"),
    path(
        "organizations/<int:org_id>/invitations/new/",
        views.invitation_create,
        name="invitation_create",
    ),
    path(
        "invitations/<int:invitation_id>/disable/",
        views.invitation_disable,
        name="invitation_disable",
    ),
    path("invitations/<int:invitation_id>/print/", views.invitation_print, name="invitation_print"),
    # 入组审核
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:request_id>/approve/", views.approval_approve, name="approval_approve"),
    path("approvals/<int:request_id>/reject/", views.approval_reject, name="approval_reject"),
    # 操作日志
    path("audit/", views.audit_index, name="audit_index"),
    path("organizations/<int:org_id>/audit/", views.audit, name="audit"),
    path("", include("xuexi.organizations.roster_urls")),
    path("points/", include("xuexi.points.console_urls")),
    path("content/", include("xuexi.content.console_urls")),
    path("quizzes/", include("xuexi.quizzes.console_urls")),
    path("reports/", include("xuexi.reports.urls")),
]
