"""The demo's 30 days of learning history show up in the reports from the first visit."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from xuexi.core.time import business_day
from xuexi.organizations import demo as organizations_demo
from xuexi.organizations.models import Organization
from xuexi.reports import selectors
from xuexi.reports.models import ReportDay

pytestmark = pytest.mark.django_db


@override_settings(XUEXI_REPORTS_COMPUTE_ON_READ=False)
def test_seed_demo_closes_the_thirty_days_of_history():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    yesterday = business_day() - dt.timedelta(days=1)
    closed = ReportDay.objects.filter(final=True)
    assert closed.count() == 30
    assert closed.filter(reconciled=True).count() == 30
    assert max(closed.values_list("day", flat=True)) == yesterday
    assert "学习报表：已结算 30 天（30 天与积分明细一致）" in out.getvalue()

    province = Organization.objects.get(name=organizations_demo.PROVINCE_NAME)
    trend = selectors.report_trend(province, last=yesterday)
    assert all(point.final for point in trend)
    assert all(point.figures.participants > 0 for point in trend)
    report = selectors.report_figures(province, day=yesterday)
    assert report.final
    assert report.children
    assert report.figures.points_total > 0
    assert report.figures.registered <= report.figures.expected
