from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ReportsConfig(AppConfig):
    name = "xuexi.reports"
    verbose_name = pgettext_lazy("app", "学习报表")

    def ready(self) -> None:
        # A closed day that receives a late ledger entry is closed again (docs/reports.md).
        from xuexi.points.models import LedgerEntry
        from xuexi.points.signals import ledger_written
        from xuexi.reports.rollup import report_days_reopen

        ledger_written.connect(
            report_days_reopen, sender=LedgerEntry, dispatch_uid="xuexi-reports-reopen-late-days"
        )
