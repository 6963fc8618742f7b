from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class OrganizationsConfig(AppConfig):
    name = "xuexi.organizations"
    verbose_name = pgettext_lazy("app", "学习组织")
