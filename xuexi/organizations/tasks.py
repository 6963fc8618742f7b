from celery import shared_task

from xuexi.organizations import roster


@shared_task
def purge_roster_uploads() -> dict[str, int]:
    """Daily: drop the files of roster uploads nobody confirmed within a day."""
    return roster.roster_uploads_purge()
