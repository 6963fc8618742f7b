"""Keeping the Redis rankings true over time: the nightly rebuild (drift repaired, chunked,
readable while it runs, periods past retention dropped), the operator's command, and the
repair after an organisation moves — after which Redis answers exactly what the database
answers, for the old and the new ancestors, in every period it holds.

Redis tests use ``settings.REDIS_URL`` (or the local fallback of ``test_rankings``) under a key
prefix of their own, and skip when Redis does not answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import pytest
import redis
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import transaction

from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.time import business_day
from xuexi.organizations.models import Organization
from xuexi.organizations.services import organization_move, role_grant
from xuexi.organizations.signals import organization_moved
from xuexi.points import rankings, tasks
from xuexi.points.services import points_award
from xuexi.points.tests.test_rankings import (
    at,
    earn,
    fresh,
    member_in,
    table,
    use_redis,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_redis(settings: Any, monkeypatch: Any) -> Iterator[redis.Redis]:
    use_redis(settings, monkeypatch)
    yield rankings.redis_client()
    rankings.rankings_forget()


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Jobs run in-process, as in the embedded default (with REDIS_URL set they would go to
    the broker)."""
    conf = tasks.rankings_repair_move.app.conf
    before = conf.task_always_eager
    conf.task_always_eager = True
    yield
    conf.task_always_eager = before


def child(parent: Organization, name: str, kind: str, code: str) -> Organization:
    return fresh(Organization.objects.add_child(fresh(parent), {"name": name, "kind": kind,
                                                                "code": code}))  # fmt: skip


@pytest.fixture
def province(rules: Any) -> dict[str, Any]:
    """平台 › 省 › 甲市 › 甲县 (支部1: a1 a2; 单位U: 支部3: a3) / 乙县 (支部2: b1)
    ›           乙市 › 丙县 (支部4: c1)."""
    root = Organization.objects.add_root({"name": "平台", "kind": "platform", "code": "R"})
    prov = child(root, "省", "province", "R-1")
    city_a = child(prov, "甲市", "city", "R-1-1")
    city_b = child(prov, "乙市", "city", "R-1-2")
    county_a = child(city_a, "甲县", "county", "R-1-1-1")
    county_b = child(city_a, "乙县", "county", "R-1-1-2")
    county_c = child(city_b, "丙县", "county", "R-1-2-1")
    branch_1 = child(county_a, "支部1", "branch", "R-1-1-1-1")
    unit = child(county_a, "单位U", "unit", "R-1-1-1-2")
    branch_3 = child(unit, "支部3", "branch", "R-1-1-1-2-1")
    branch_2 = child(county_b, "支部2", "branch", "R-1-1-2-1")
    branch_4 = child(county_c, "支部4", "branch", "R-1-2-1-1")
    people = {
        "a1": member_in(branch_1, "甲一"),
        "a2": member_in(branch_1, "甲二"),
        "a3": member_in(branch_3, "甲三"),
        "b1": member_in(branch_2, "乙一"),
        "c1": member_in(branch_4, "丙一"),
    }
    operator = UserFactory.create()
    role_grant(user=operator, organization=root, role="operator", granted_by=None)
    operator.refresh_from_db()
    orgs = {
        "root": root,
        "province": prov,
        "city_a": city_a,
        "city_b": city_b,
        "county_a": county_a,
        "county_b": county_b,
        "county_c": county_c,
        "branch_1": branch_1,
        "unit": unit,
        "branch_3": branch_3,
        "branch_2": branch_2,
        "branch_4": branch_4,
    }
    return {"orgs": orgs, "operator": operator, **people}


def days() -> list[dt.date]:
    """Today, yesterday and a day of an earlier month: current and past periods."""
    today = business_day()
    return [today, today - dt.timedelta(days=1), today - dt.timedelta(days=40)]


def earn_history(world: dict[str, Any]) -> None:
    today, yesterday, earlier = days()
    for name, points, day in (
        ("a1", 9, today),
        ("a2", 7, today),
        ("a3", 5, today),
        ("b1", 7, today),
        ("c1", 8, today),
        ("a1", 3, yesterday),
        ("a3", 4, yesterday),
        ("c1", 2, yesterday),
        ("a2", 6, earlier),
        ("b1", 1, earlier),
    ):
        earn(world[name], points, at(day))


def snapshot(
    world: dict[str, Any], on: list[dt.date] | None = None, nodes: tuple[str, ...] = ()
) -> list[Any]:
    """Every member and organisation ranking of every period, of the ``nodes`` (default: all)
    for the days ``on`` (default: every day of ``days``)."""
    viewer = world["a3"]
    answers: list[Any] = []
    for name in nodes or world["orgs"]:
        node = fresh(world["orgs"][name])
        for day in on or days():
            for period in rankings.PERIODS:
                ranking = rankings.ranking_members(
                    organization=node, period=period, day=day, viewer=viewer
                )
                answers.append((name, day, period, table(ranking), ranking.ranked, ranking.viewer))
                for by in ("total", "per_member"):
                    rows = rankings.ranking_organizations(
                        organization=node, period=period, day=day, by=by
                    ).rows
                    answers.append((name, day, period, by, rows))
    return answers


def on_database(settings: Any, read: Callable[[], Any]) -> Any:
    url = settings.REDIS_URL
    settings.REDIS_URL = ""
    try:
        return read()
    finally:
        settings.REDIS_URL = url


def move(world: dict[str, Any], node: str, new_parent: str) -> None:
    organization_move(
        actor=world["operator"],
        organization=fresh(world["orgs"][node]),
        new_parent=fresh(world["orgs"][new_parent]),
    )


# --- after an organisation moves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "new_parent"),
    [
        ("county_a", "city_b"),  # a county with its subtree to another city
        ("branch_1", "unit"),  # down, under a sibling of its own: the parent is the meeting node
        ("branch_3", "county_a"),  # up, to its grandparent
    ],
)
def test_after_a_move_redis_answers_what_the_database_answers(
    on_redis, province, settings, run_on_commit, node, new_parent
):
    earn_history(province)
    before = snapshot(province)  # every period read once: Redis holds them all, marked ready
    assert before == on_database(settings, lambda: snapshot(province))
    old_path = province["orgs"][node].path
    with run_on_commit():
        move(province, node, new_parent)
    assert fresh(province["orgs"][node]).path != old_path
    after = snapshot(province)
    assert after == on_database(settings, lambda: snapshot(province))
    assert after != before  # the move did change the rankings
    # No set is left under the old path, nor any temporary key.
    keys = [key.decode() for key in on_redis.scan_iter(match=f"{rankings.KEY_PREFIX}:*")]
    assert not [key for key in keys if key.endswith(f":{old_path}") or ":tmp:" in key]


def test_without_the_repair_redis_would_still_rank_the_moved_county_under_its_old_city(
    on_redis, province, settings
):
    earn_history(province)
    snapshot(province)
    move(province, "county_a", "city_b")  # the after-commit repair does not run here
    city_b = fresh(province["orgs"]["city_b"])
    today = business_day()

    def city_b_members() -> list[int]:
        ranking = rankings.ranking_members(
            organization=city_b, period="day", day=today, viewer=province["c1"]
        )
        return [row.member_id for row in ranking.rows]

    expected = [province[name].pk for name in ("a1", "c1", "a2", "a3")]
    assert on_database(settings, city_b_members) == expected
    assert city_b_members() == [province["c1"].pk]
    tasks.on_organization_moved(
        Organization,
        old_path=province["orgs"]["county_a"].path,
        new_path=fresh(province["orgs"]["county_a"]).path,
    )
    assert city_b_members() == expected
    assert snapshot(province) == on_database(settings, lambda: snapshot(province))


def test_a_large_subtree_is_repaired_by_a_job(
    on_redis, province, settings, run_on_commit, eager_celery, monkeypatch
):
    earn_history(province)
    snapshot(province)
    monkeypatch.setattr(rankings, "REPAIR_INLINE_NODES", 2)
    queued: list[tuple[str, str]] = []
    delay = tasks.rankings_repair_move.delay

    def spy(*args: Any) -> Any:
        queued.append(args)
        return delay(*args)

    monkeypatch.setattr(tasks.rankings_repair_move, "delay", spy)
    old_path = province["orgs"]["county_a"].path
    with run_on_commit():
        move(province, "county_a", "city_b")
    assert queued == [(old_path, fresh(province["orgs"]["county_a"]).path)]
    assert snapshot(province) == on_database(settings, lambda: snapshot(province))


def test_a_move_during_the_nightly_rebuild_is_repaired_after_it(
    on_redis, province, settings, run_on_commit, monkeypatch
):
    earn_history(province)
    snapshot(province)
    scheduled: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        tasks.rankings_repair_move,
        "apply_async",
        lambda args, countdown: scheduled.append((*args, countdown)),
    )
    on_redis.set(rankings._nightly_lock_key(), "held", ex=60)
    old_path = province["orgs"]["branch_1"].path
    with run_on_commit():
        move(province, "branch_1", "unit")
    new_path = fresh(province["orgs"]["branch_1"]).path
    assert scheduled == [(old_path, new_path, tasks.REPAIR_RETRY_SECONDS)]
    assert rankings.rankings_nightly() == {
        "backend": "redis",
        "skipped": "another run holds the lock",
    }
    on_redis.delete(rankings._nightly_lock_key())
    assert snapshot(province) != on_database(settings, lambda: snapshot(province))
    assert tasks.rankings_repair_move.apply(args=(old_path, new_path)).get() > 0
    assert snapshot(province) == on_database(settings, lambda: snapshot(province))


def test_the_move_is_announced_after_commit_only(province, run_on_commit):
    heard: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        heard.append(kwargs)

    organization_moved.connect(listener, dispatch_uid="test-listener")
    try:

        def move_then_fail() -> None:
            with transaction.atomic():
                move(province, "county_a", "city_b")
                raise RuntimeError("rolled back")

        with run_on_commit(), pytest.raises(RuntimeError):
            move_then_fail()
        assert heard == []
        old_path = province["orgs"]["county_a"].path
        with run_on_commit():
            move(province, "county_a", "city_b")
    finally:
        organization_moved.disconnect(dispatch_uid="test-listener")
    county = fresh(province["orgs"]["county_a"])
    assert len(heard) == 1
    assert heard[0]["organization"] == county
    assert (heard[0]["old_path"], heard[0]["new_path"]) == (old_path, county.path)
    assert heard[0]["old_parent"] == province["orgs"]["city_a"]
    assert heard[0]["new_parent"] == province["orgs"]["city_b"]
    assert heard[0]["subtree_size"] == 4


def test_without_redis_a_move_repairs_nothing(province, settings, run_on_commit):
    settings.REDIS_URL = ""
    with run_on_commit():
        move(province, "county_a", "city_b")
    assert rankings.rankings_repair_move(old_path="0001", new_path="0002") == 0


# --- the nightly rebuild ------------------------------------------------------------------------


def test_the_nightly_job_repairs_lost_and_wrong_increments(on_redis, province, settings):
    earn_history(province)
    snapshot(province)
    today = business_day()
    # A lost write (the award's after-commit hook never ran) and a corrupted set.
    award = points_award(
        member=province["b1"], rule="offline_activity", source_type="test", source_id=999,
        at=at(today), occurrences=4,
    )  # fmt: skip
    assert award.points == 4
    span = rankings.period_span("week", today)
    county_key = rankings._key(span, "m", province["orgs"]["county_a"].path)
    on_redis.zincrby(county_key, 50, rankings._member_field(province["a3"].pk))
    on_redis.delete(rankings._key(span, "o", province["orgs"]["province"].path))
    assert snapshot(province) != on_database(settings, lambda: snapshot(province))

    result = tasks.rankings_nightly.apply().get()
    assert result["backend"] == "redis"
    assert set(result["rebuilt"]) >= {
        f"day:{today.isoformat()}",
        f"day:{(today - dt.timedelta(days=1)).isoformat()}",
        f"week:{span.start.isoformat()}",
        f"year:{today.year}-01-01",
    }
    assert snapshot(province) == on_database(settings, lambda: snapshot(province))
    keys = list(on_redis.scan_iter(match=f"{rankings.KEY_PREFIX}:*"))
    assert not [key for key in keys if b":tmp:" in key]
    # Every ranking key expires by itself (the registry of periods is the one kept).
    assert all(on_redis.ttl(key) > 0 for key in keys if not key.endswith(b":periods"))


def test_a_rebuild_in_small_blocks_writes_what_one_block_writes(on_redis, province, monkeypatch):
    earn_history(province)
    today = business_day()
    rankings.rankings_rebuild(today)
    whole = dump(on_redis)
    monkeypatch.setattr(rankings, "PIPELINE_MEMBERS", 2)
    monkeypatch.setattr(rankings, "ZADD_CHUNK", 1)
    monkeypatch.setattr(rankings, "KEYS_CHUNK", 1)
    flushes: list[int] = []
    flush = rankings._Writer.flush

    def counting(self: Any) -> None:
        flushes.append(len(self.pipe))
        flush(self)

    monkeypatch.setattr(rankings._Writer, "flush", counting)
    rankings.rankings_rebuild(today)
    assert len(flushes) > 20
    assert dump(on_redis) == whole


def test_readers_see_whole_sets_while_a_rebuild_runs(on_redis, province, settings, monkeypatch):
    earn_history(province)
    today = [business_day()]
    nodes = ("province", "city_a", "county_a", "branch_1")
    snapshot(province, today)  # every set of today's periods is ready
    expected = snapshot(province, today, nodes)
    # Sets written one member per ZADD, two members per block: most sets take several blocks.
    monkeypatch.setattr(rankings, "PIPELINE_MEMBERS", 2)
    monkeypatch.setattr(rankings, "ZADD_CHUNK", 1)
    flush = rankings._Writer.flush
    seen: list[bool] = []

    def reading(self: Any) -> None:
        flush(self)
        seen.append(snapshot(province, today, nodes) == expected)

    monkeypatch.setattr(rankings._Writer, "flush", reading)
    rankings.rankings_rebuild(business_day(), periods=("day", "month"))
    assert len(seen) > 5
    assert all(seen)


def test_a_rebuild_drops_keys_the_ledger_no_longer_justifies(on_redis, province):
    earn_history(province)
    today = business_day()
    span = rankings.period_span("day", today)
    stray = rankings._key(span, "m", "ZZZZ")
    on_redis.zadd(stray, {"000000000001": 5})
    assert rankings.rankings_rebuild(today, periods=("day",)) > 0
    assert not on_redis.exists(stray)


def test_periods_past_their_retention_are_dropped(on_redis, province):
    earn_history(province)
    today, _yesterday, earlier = days()
    rankings.rankings_rebuild(earlier, periods=("day",))  # an old day read again: kept an hour
    rankings.rankings_rebuild(today, periods=("day",))
    old = rankings.period_span("day", earlier)
    assert on_redis.exists(rankings._ready_key(old))
    assert rankings.rankings_expire() > 0
    assert not on_redis.exists(rankings._ready_key(old))
    assert not list(on_redis.scan_iter(match=f"{rankings.KEY_PREFIX}:day:{earlier}:*"))
    assert on_redis.exists(rankings._ready_key(rankings.period_span("day", today)))
    assert on_redis.smembers(rankings._registry_key()) == {f"day:{today}".encode()}


def test_the_nightly_periods_are_those_of_yesterday_and_today() -> None:
    spans = rankings.current_spans(dt.date(2025, 6, 18))  # a Wednesday
    assert [(s.period, s.start) for s in spans] == [
        ("day", dt.date(2025, 6, 17)),
        ("week", dt.date(2025, 6, 16)),
        ("month", dt.date(2025, 6, 1)),
        ("year", dt.date(2025, 1, 1)),
        ("day", dt.date(2025, 6, 18)),
    ]
    new_year = rankings.current_spans(dt.date(2026, 1, 1))  # a Thursday
    assert [(s.period, s.start) for s in new_year] == [
        ("day", dt.date(2025, 12, 31)),
        ("week", dt.date(2025, 12, 29)),
        ("month", dt.date(2025, 12, 1)),
        ("year", dt.date(2025, 1, 1)),
        ("day", dt.date(2026, 1, 1)),
        ("month", dt.date(2026, 1, 1)),
        ("year", dt.date(2026, 1, 1)),
    ]


def test_the_nightly_job_is_scheduled_after_shanghai_midnight() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["rankings-nightly"]
    assert entry["task"] == tasks.rankings_nightly.name == "xuexi.points.tasks.rankings_nightly"
    assert entry["schedule"] == crontab(hour=0, minute=10)
    assert django_settings.CELERY_TIMEZONE == "Asia/Shanghai"


def test_without_redis_the_nightly_job_says_it_has_nothing_to_do(settings, db):
    settings.REDIS_URL = ""
    result = tasks.rankings_nightly.apply().get()
    assert result == {
        "backend": "database",
        "skipped": "no REDIS_URL: rankings are read from the ledger",
    }
    out = StringIO()
    call_command("rankings", "rebuild", stdout=out)
    assert "无需重建" in out.getvalue()


# --- the operator's command ---------------------------------------------------------------------


def test_the_command_rebuilds_the_periods_of_a_day(on_redis, province):
    earn_history(province)
    today = business_day()
    out = StringIO()
    call_command("rankings", "rebuild", "--day", today.isoformat(), "--periods", "week,day",
                 stdout=out)  # fmt: skip
    lines = out.getvalue().splitlines()
    assert [line.split("：")[0] for line in lines] == [
        f"已重建 day {today.isoformat()}",
        f"已重建 week {rankings.period_span('week', today).start.isoformat()}",
    ]
    assert on_redis.exists(rankings._ready_key(rankings.period_span("week", today)))
    assert not on_redis.exists(rankings._ready_key(rankings.period_span("month", today)))
    out = StringIO()
    call_command("rankings", "rebuild", stdout=out)
    assert len(out.getvalue().splitlines()) == len(rankings.current_spans())
    call_command("rankings", "expire", stdout=StringIO())


def test_the_command_refuses_unknown_periods_and_bad_days(on_redis, db):
    with pytest.raises(CommandError):
        call_command("rankings", "rebuild", "--day", "2025-02-30", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("rankings", "rebuild", "--day", "2025-02-03", "--periods", "decade",
                     stdout=StringIO())  # fmt: skip
    with pytest.raises(CommandError):
        call_command("rankings", "rebuild", "--periods", "day", stdout=StringIO())


def dump(client: redis.Redis) -> dict[str, Any]:
    keys = sorted(
        k.decode() for k in client.scan_iter(match=f"{rankings.KEY_PREFIX}:*", _type="zset")
    )
    return {key: sorted(client.zrange(key, 0, -1, withscores=True)) for key in keys}
