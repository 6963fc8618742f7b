from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "xuexi.accounts"
    verbose_name = "账号"

