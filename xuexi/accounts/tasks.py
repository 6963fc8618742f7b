from celery import shared_task

from xuexi.accounts import services


@shared_task
def purge_expired_credentials() -> dict[str, int]:
    return services.purge_expired_credentials()
