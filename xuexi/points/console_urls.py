"""Console routes for points, under /console/points/ in the "console" namespace (no app_name:
``xuexi.organizations.urls`` includes this module)."""

from django.urls import path

from xuexi.points import console_views as views

urlpatterns = [
    # 积分与活动
    path("activities/", views.activities_index, name="points_activities_index"),
    path("organizations/<int:org_id>/activities/", views.activity_list, name="points_activities"),
    path(
        "organizations/<int:org_id>/activities/new/",
        views.activity_create,
        name="points_activity_create",
    ),
    path("activities/<int:activity_id>/", views.activity_detail, name="points_activity"),
    path(
        "activities/<int:activity_id>/reverse/",
        views.activity_reverse,
        name="points_activity_reverse",
    ),
    # 积分排行
    path("rankings/", views.rankings_index, name="points_rankings_index"),
    path("organizations/<int:org_id>/rankings/", views.ranking_page, name="points_rankings"),
    path(
        "organizations/<int:org_id>/rankings/setting/",
        views.ranking_setting,
        name="points_ranking_setting",
    ),
    # 积分规则
    path("rulesets/", views.ruleset_list, name="points_rulesets"),
    path("rulesets/new/", views.ruleset_create, name="points_ruleset_create"),
    path("rulesets/<int:ruleset_id>/", views.ruleset_detail, name="points_ruleset"),
    path(
        "rulesets/<int:ruleset_id>/withdraw/",
        views.ruleset_withdraw,
        name="points_ruleset_withdraw",
    ),
]
