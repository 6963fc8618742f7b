"""Console routes for quizzes, under /console/quizzes/ in the "console" namespace (no
app_name: ``xuexi.organizations.urls`` includes this module)."""

from django.urls import path

from xuexi.quizzes import console_views as views

urlpatterns = [
    # 题库
    path("", views.question_list, name="quizzes_questions"),
    path("questions/new/", views.question_create, name="quizzes_question_create"),
    path("questions/<int:question_id>/", views.question_edit, name="quizzes_question_edit"),
    path(
        "questions/<int:question_id>/status/",
        views.question_status,
        name="quizzes_question_status",
    ),
    # 题目分类
    path("categories/", views.category_list, name="quizzes_categories"),
    path("categories/new/", views.category_create, name="quizzes_category_create"),
    path(
        "categories/<int:category_id>/edit/",
        views.category_edit,
        name="quizzes_category_edit",
    ),
    path(
        "categories/<int:category_id>/export.xlsx",
        views.category_export,
        name="quizzes_category_export",
    ),
    # 题库导入
    path("import/", views.import_page, name="quizzes_import"),
    path("import/template.xlsx", views.import_template, name="quizzes_import_template"),
    path("import/<slug:token>/", views.import_preview, name="quizzes_import_preview"),
    path("import/<slug:token>/confirm/", views.import_confirm, name="quizzes_import_confirm"),
    path("import/<slug:token>/errors.xlsx", views.import_errors, name="quizzes_import_errors"),
    # 专项答题 · 每周答题
    path("specials/", views.special_list, name="quizzes_specials"),
    path("specials/new/", views.special_create, name="quizzes_special_create"),
    path("weeklies/", views.weekly_list, name="quizzes_weeklies"),
    path("weeklies/new/", views.weekly_create, name="quizzes_weekly_create"),
    path("papers/<int:paper_id>/", views.paper_edit, name="quizzes_paper_edit"),
    path("papers/<int:paper_id>/action/", views.paper_action, name="quizzes_paper_action"),
]
