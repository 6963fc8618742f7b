"""Console routes of the reports, under /console/reports/ in the "console" namespace (no
app_name: ``xuexi.organizations.urls`` includes this module)."""

from django.urls import path

from xuexi.reports import views

urlpatterns = [
    path("", views.reports_index, name="reports_index"),
    path("organizations/<int:org_id>/", views.dashboard, name="reports_dashboard"),
    path("organizations/<int:org_id>/members/", views.members, name="reports_members"),
    path("organizations/<int:org_id>/daily.xlsx", views.daily_xlsx, name="reports_xlsx"),
]
