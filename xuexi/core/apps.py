from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class CoreConfig(AppConfig):
    name = "xuexi.core"
    verbose_name = pgettext_lazy("app", "核心")
