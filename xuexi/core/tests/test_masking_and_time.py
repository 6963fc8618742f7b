from __future__ import annotations

import datetime as dt

from xuexi.core.masking import mask_name, mask_phone
from xuexi.core.time import business_day, seconds_until_next_business_day


def test_a_phone_is_masked_in_the_middle():
    assert mask_phone("13812341234") == "138****1234"


def test_a_name_keeps_only_its_surname():
    assert mask_name("张三丰") == "张**"
    assert mask_name("李四") == "李*"


def test_the_business_day_is_the_calendar_day_in_shanghai():
    late_utc = dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC)  # 00:30 on 2 March in Shanghai
    assert business_day(late_utc) == dt.date(2026, 3, 2)
    assert business_day(dt.datetime(2026, 3, 1, 15, 59, tzinfo=dt.UTC)) == dt.date(2026, 3, 1)


def test_seconds_until_midnight_in_shanghai():
    at = dt.datetime(2026, 3, 1, 15, 59, 0, tzinfo=dt.UTC)  # 23:59:00 in Shanghai
    assert seconds_until_next_business_day(at) == 60
