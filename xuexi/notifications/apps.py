from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "xuexi.notifications"
    verbose_name = "通知"
