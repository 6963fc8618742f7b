"""Console routes for content, under /console/content/ in the "console" namespace (no
app_name: ``xuexi.organizations.urls`` includes this module)."""

from django.urls import path

from xuexi.content import console_views as views

urlpatterns = [
    # 内容管理
    path("", views.item_list, name="content_items"),
    path("items/new/", views.item_create, name="content_item_create"),
    path("items/<int:item_id>/", views.item_edit, name="content_item_edit"),
    path("items/<int:item_id>/action/", views.item_action, name="content_item_action"),
    path("images", views.image_upload, name="content_images"),
    # 栏目管理
    path("columns/", views.columns_index, name="content_columns_index"),
    path("channels/<int:channel_id>/columns/", views.column_list, name="content_columns"),
    path(
        "channels/<int:channel_id>/columns/new/",
        views.column_create,
        name="content_column_create",
    ),
    path("columns/<int:column_id>/edit/", views.column_edit, name="content_column_edit"),
    path("columns/<int:column_id>/move/", views.column_move, name="content_column_move"),
    path("columns/<int:column_id>/switch/", views.column_switch, name="content_column_switch"),
    # 强国号管理
    path("accounts/", views.account_list, name="content_accounts"),
    path("accounts/new/", views.account_create, name="content_account_create"),
    path("accounts/<int:account_id>/edit/", views.account_edit, name="content_account_edit"),
]
