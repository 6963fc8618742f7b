"""The members' quiz pages (``xuexi/quizzes/views.py``), under ``/quizzes/``; the quiz home
itself is ``web:quizzes`` (the tab bar's entry, ``xuexi/web/urls.py``)."""

from django.urls import path

from xuexi.quizzes import views

app_name = "quizzes"

urlpatterns = [
    path("start", views.start, name="start"),
    path("weekly/", views.papers, {"kind": "weekly"}, name="weekly"),
    path("special/", views.papers, {"kind": "special"}, name="special"),
    path("attempts/<int:attempt_id>/", views.attempt_page, name="attempt"),
    path("attempts/<int:attempt_id>/answer", views.answer, name="answer"),
    path("attempts/<int:attempt_id>/revive", views.revive, name="revive"),
    path("attempts/<int:attempt_id>/finish", views.finish, name="finish"),
    path("attempts/<int:attempt_id>/result/", views.result, name="result"),
    path("attempts/<int:attempt_id>/questions/<int:question_id>/hint/", views.hint, name="hint"),
    path("wrong/", views.wrong_book, name="wrong"),
    path("wrong/practice", views.practice_start, name="practice"),
]
