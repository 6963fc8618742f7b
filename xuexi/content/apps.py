from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ContentConfig(AppConfig):
    name = "xuexi.content"
    verbose_name = pgettext_lazy("app", "学习内容")
