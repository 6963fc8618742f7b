"""The member's join pages; included at ``join/`` (the QR code of an invitation opens
``/join/<code>/``)."""

from django.urls import path

from xuexi.organizations import views

app_name = "join"

urlpatterns = [
    path("", views.join_start, name="start"),
    path("requests/<int:request_id>/withdraw/", views.join_withdraw, name="withdraw"),
    path("<str:code>/", views.join_code, name="code"),
]
