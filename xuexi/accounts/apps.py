from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class AccountsConfig(AppConfig):
    name = "xuexi.accounts"
    verbose_name = pgettext_lazy("app", "账号")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from xuexi.accounts.middleware import mark_session_start

        user_logged_in.connect(mark_session_start, dispatch_uid="xuexi-session-start")
