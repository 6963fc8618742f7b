"""The reader's pages (``xuexi/content/views.py``); mounted at the site root before the shell's
own pages."""

from django.urls import path

from xuexi.content import views

app_name = "content"

urlpatterns = [
    path("local/", views.local, name="local"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
    path("items/<int:item_id>/media", views.item_media, name="item_media"),
    path("items/<int:item_id>/cover", views.item_cover, name="item_cover"),
    path("items/<int:item_id>/poster", views.item_poster, name="item_poster"),
    path("items/<int:item_id>/favourite", views.favourite, name="favourite"),
    path("items/<int:item_id>/share", views.share_create, name="share_create"),
    path("s/<slug:token>/", views.share_page, name="share"),
    path("s/<slug:token>/qr.svg", views.share_qr, name="share_qr"),
    path("search/", views.search, name="search"),
    path("search/suggest", views.search_suggest, name="suggest"),
    path("accounts/<int:account_id>/", views.account_detail, name="account"),
    path("accounts/<int:account_id>/avatar", views.account_avatar, name="account_avatar"),
    path("accounts/<int:account_id>/subscribe", views.subscribe, name="subscribe"),
    path("me/favourites/", views.my_favourites, name="favourites"),
    path("me/history/", views.my_history, name="history"),
    path("me/subscriptions/", views.my_subscriptions, name="subscriptions"),
]
