from django.urls import path

from xuexi.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("videos/", views.videos, name="videos"),
    path("quizzes/", views.quizzes, name="quizzes"),
    path("me/", views.me, name="me"),
    path("privacy/", views.privacy, name="privacy"),
    path("terms/", views.terms, name="terms"),
    path("healthz", views.healthz, name="healthz"),
]
