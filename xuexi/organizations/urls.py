from django.urls import path

from xuexi.organizations import views

app_name = "console"

urlpatterns = [
    path("login-log/", views.login_log, name="login_log"),
]
