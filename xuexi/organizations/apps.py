from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "xuexi.organizations"
    verbose_name = "学习组织"
