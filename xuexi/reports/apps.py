from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ReportsConfig(AppConfig):
    name = "xuexi.reports"
    verbose_name = pgettext_lazy("app", "学习报表")
