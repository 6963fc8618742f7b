from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class PointsConfig(AppConfig):
    name = "xuexi.points"
    verbose_name = pgettext_lazy("app", "学习积分")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_migrate, post_save

        from xuexi.points.models import RuleSet
        from xuexi.points.selectors import ruleset_cache_clear
        from xuexi.points.services import rulesets_install_default

        for signal in (post_save, post_delete):
            signal.connect(ruleset_cache_clear, sender=RuleSet, dispatch_uid="xuexi-ruleset-cache")

        post_migrate.connect(
            rulesets_install_default, sender=self, dispatch_uid="xuexi-points-default-ruleset"
        )

        # Rankings on Redis follow the tree: a moved subtree is re-ranked under its new parent.
        from xuexi.organizations.models import Organization
        from xuexi.organizations.signals import organization_moved
        from xuexi.points.tasks import on_organization_moved

        organization_moved.connect(
            on_organization_moved,
            sender=Organization,
            dispatch_uid="xuexi-points-rankings-organization-moved",
        )
