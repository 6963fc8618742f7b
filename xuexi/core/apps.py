from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "xuexi.core"
    verbose_name = "核心"
