from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "xuexi.api"
