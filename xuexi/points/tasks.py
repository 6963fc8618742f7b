"""Celery jobs of the points app (they only call services) and the receiver that turns an
organisation move into a rankings repair (in the request for a small one, as a job otherwise)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from xuexi.points import rankings

logger = logging.getLogger(__name__)

REPAIR_RETRY_SECONDS = 600  # a repair that meets the nightly run waits this long, and again


@shared_task
def rankings_nightly() -> dict[str, Any]:
    """Beat, shortly after midnight (Asia/Shanghai): rebuild the current ranking periods from
    the ledger and drop those past their retention. Says so and does nothing without Redis."""
    result = rankings.rankings_nightly()
    logger.info("rankings nightly: %s", result)
    return result


@shared_task(
    bind=True, max_retries=int(rankings.NIGHTLY_LOCK.total_seconds()) // REPAIR_RETRY_SECONDS + 1
)
def rankings_repair_move(self: Any, old_path: str, new_path: str) -> int:
    """Repair the Redis rankings after a subtree moved (``rankings.rankings_repair_move``);
    while the nightly rebuild runs, again later."""
    try:
        return rankings.rankings_repair_move(old_path=old_path, new_path=new_path)
    except rankings.RankingsBusy as busy:
        raise self.retry(countdown=REPAIR_RETRY_SECONDS, exc=busy) from busy


def on_organization_moved(sender: Any, *, old_path: str, new_path: str, **kwargs: Any) -> None:
    """Receiver of ``organization_moved`` (sent after the move committed): repair the Redis
    rankings of the subtrees the move changed — at once when they hold at most
    ``REPAIR_INLINE_NODES`` organisations, by a Celery job otherwise or while the nightly
    rebuild runs. Nothing without Redis: the database reads the tree as it is."""
    if not settings.REDIS_URL:
        return
    size = rankings.rankings_repair_size(old_path=old_path, new_path=new_path)
    if size > rankings.REPAIR_INLINE_NODES:
        rankings_repair_move.delay(old_path, new_path)
        return
    try:
        rankings.rankings_repair_move(old_path=old_path, new_path=new_path)
    except rankings.RankingsBusy:
        rankings_repair_move.apply_async((old_path, new_path), countdown=REPAIR_RETRY_SECONDS)
