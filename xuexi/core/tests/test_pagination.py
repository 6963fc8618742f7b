from __future__ import annotations

import pytest

from xuexi.accounts.models import LoginEvent
from xuexi.core.errors import ValidationFailed
from xuexi.core.pagination import paginate

pytestmark = pytest.mark.django_db


def make_events(count: int) -> None:
    LoginEvent.objects.bulk_create(
        LoginEvent(phone=f"139{n:08d}", channel="api", result="failed") for n in range(count)
    )


def test_pages_walk_every_row_once_newest_first():
    make_events(45)
    seen: list[int] = []
    cursor = None
    while True:
        page = paginate(LoginEvent.objects.all(), cursor=cursor, limit=20)
        seen += [event.pk for event in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(LoginEvent.objects.values_list("pk", flat=True), reverse=True)


def test_pages_by_a_column_with_ties_skip_and_repeat_nothing():
    make_events(30)
    LoginEvent.objects.update(channel="web")  # every row ties on the sort column
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = paginate(LoginEvent.objects.all(), cursor=cursor, limit=7, field="channel")
        seen += [event.pk for event in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(LoginEvent.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_a_limit_outside_one_to_a_hundred_is_refused(limit):
    with pytest.raises(ValidationFailed):
        paginate(LoginEvent.objects.all(), cursor=None, limit=limit)


@pytest.mark.parametrize("cursor", ["not-base64!!", "bnVsbA", "WzEsMiwzXQ"])
def test_a_forged_cursor_is_refused(cursor):
    with pytest.raises(ValidationFailed):
        paginate(LoginEvent.objects.all(), cursor=cursor, limit=10)
