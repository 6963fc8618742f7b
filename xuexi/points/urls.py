from django.urls import path

from xuexi.points import views

app_name = "points"

urlpatterns = [
    path("", views.today, name="today"),
    path("ledger/", views.ledger, name="ledger"),
]
