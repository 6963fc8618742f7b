from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class PointsConfig(AppConfig):
    name = "xuexi.points"
    verbose_name = pgettext_lazy("app", "学习积分")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from xuexi.points.services import rulesets_install_default

        post_migrate.connect(
            rulesets_install_default, sender=self, dispatch_uid="xuexi-points-default-ruleset"
        )
