"""The hourly purge job, run in-process (embedded default) or by a real worker on Redis."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.conf import settings

from xuexi.accounts.models import ApiToken, SmsCode
from xuexi.accounts.tasks import purge_expired_credentials
from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.time import now


def make_credentials() -> None:
    old, fresh = now() - dt.timedelta(days=2), now() + dt.timedelta(minutes=5)
    for expires_at in (old, fresh):
        SmsCode.objects.create(
            phone="13912345678", purpose="login", code_hash="x" * 64, expires_at=expires_at
        )
    user = UserFactory.create()
    for n, expires_at in enumerate((old, fresh)):
        ApiToken.objects.create(
            user=user,
            kind="access",
            token_hash=f"{n}" * 64,
            family="00000000-0000-0000-0000-00000000000" + str(n),
            expires_at=expires_at,
        )


@pytest.mark.django_db
def test_the_purge_removes_only_long_expired_codes_and_tokens():
    make_credentials()
    assert purge_expired_credentials.apply().get() == {"sms_codes": 1, "api_tokens": 1}
    assert SmsCode.objects.count() == 1
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis"), reason="needs REDIS_URL (a real broker)"
)
def test_a_celery_worker_on_redis_runs_the_job():
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connection

    def close_worker_connection(**kwargs: object) -> None:
        connection.close()  # runs in the worker's thread: frees its database session

    task_postrun.connect(close_worker_connection, weak=False)
    make_credentials()
    with start_worker(
        purge_expired_credentials.app, perform_ping_check=False, pool="solo", loglevel="WARNING"
    ):
        purge_expired_credentials.delay()
        deadline = time.monotonic() + 20
        while SmsCode.objects.count() != 1 and time.monotonic() < deadline:
            time.sleep(0.2)
    task_postrun.disconnect(close_worker_connection)
    assert SmsCode.objects.count() == 1
    assert ApiToken.objects.count() == 1


def test_the_embedded_default_runs_jobs_in_process():
    if settings.CELERY_BROKER_URL.startswith("redis"):
        assert settings.CELERY_TASK_ALWAYS_EAGER is False
    else:
        assert settings.CELERY_TASK_ALWAYS_EAGER is True
