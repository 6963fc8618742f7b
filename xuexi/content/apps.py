from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ContentConfig(AppConfig):
    name = "xuexi.content"
    verbose_name = pgettext_lazy("app", "学习内容")

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from xuexi.content.caching import request_begins, request_ends

        # The reader's cached lists are read in one generation per request (caching.py).
        request_started.connect(request_begins, dispatch_uid="xuexi-content-generation-begin")
        request_finished.connect(request_ends, dispatch_uid="xuexi-content-generation-end")
