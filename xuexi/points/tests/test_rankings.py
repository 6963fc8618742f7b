"""Rankings: the same answers from the database and from Redis, ties, periods in Shanghai days,
points per member, the personal-rankings switch, who may read and what names he sees.

Every ranking test runs once per backend. The Redis pass uses ``settings.REDIS_URL`` (set by
``make test-postgres``) or else ``REDIS_TEST_URL`` (default ``redis://127.0.0.1:6379/15``) when
it answers, and skips otherwise; each test gets its own key prefix, so concurrent runs and other
tests never meet its keys.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.errors import Forbidden, NotFound
from xuexi.core.models import AuditEntry
from xuexi.core.time import BUSINESS_TZ, business_day
from xuexi.organizations.models import Organization
from xuexi.organizations.services import membership_place, role_grant
from xuexi.points import rankings
from xuexi.points.models import LedgerEntry
from xuexi.points.selectors import week_start
from xuexi.points.services import points_award, points_reverse

pytestmark = pytest.mark.django_db

LOCAL_REDIS = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
_sources = itertools.count(1)


def redis_url(configured: str) -> str | None:
    url = configured or LOCAL_REDIS
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except (redis.RedisError, OSError):
        return None
    return url


def use_redis(settings: Any, monkeypatch: Any) -> None:
    url = redis_url(settings.REDIS_URL)
    if url is None:
        pytest.skip("Redis does not answer")
    settings.REDIS_URL = url
    monkeypatch.setattr(rankings, "KEY_PREFIX", f"test:rk:{uuid.uuid4().hex}")


@pytest.fixture(params=["database", "redis"])
def backend(request: Any, settings: Any, monkeypatch: Any) -> Iterator[str]:
    if request.param == "redis":
        use_redis(settings, monkeypatch)
        yield "redis"
        rankings.rankings_forget()
    else:
        settings.REDIS_URL = ""
        yield "database"


@pytest.fixture
def on_redis(settings: Any, monkeypatch: Any) -> Iterator[None]:
    use_redis(settings, monkeypatch)
    yield
    rankings.rankings_forget()


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BUSINESS_TZ)


def earn(member: Any, points: int, when: dt.datetime) -> LedgerEntry:
    """Pay ``points`` (the test rules' offline_activity: 1 per occurrence, 20 a day) and count
    the entry as the after-commit hook does."""
    award = points_award(
        member=member,
        rule="offline_activity",
        source_type="test",
        source_id=next(_sources),
        at=when,
        occurrences=points,
    )
    assert award.points == points, award
    assert award.entry_id is not None
    entry = LedgerEntry.objects.get(pk=award.entry_id)
    rankings.rankings_record(entry)
    return entry


def member_in(organization: Organization, name: str) -> Any:
    user = UserFactory.create(real_name=name)
    membership_place(user=user, organization=organization)
    return user


def fresh(organization: Organization) -> Organization:
    return Organization.objects.get(pk=organization.pk)


@pytest.fixture
def town(rules: Any) -> dict[str, Any]:
    """市 › 县 › 支部X (1 member) / 支部Y (4 members); 县 also holds 支部Z (no member)."""
    root = Organization.objects.add_root({"name": "平台", "kind": "platform", "code": "T"})
    city = Organization.objects.add_child(root, {"name": "市", "kind": "city", "code": "T-1"})
    county = Organization.objects.add_child(
        fresh(city), {"name": "县", "kind": "county", "code": "T-1-1"}
    )
    x = Organization.objects.add_child(
        fresh(county), {"name": "支部X", "kind": "branch", "code": "T-1-1-1"}
    )
    y = Organization.objects.add_child(
        fresh(county), {"name": "支部Y", "kind": "branch", "code": "T-1-1-2"}
    )
    z = Organization.objects.add_child(
        fresh(county), {"name": "支部Z", "kind": "branch", "code": "T-1-1-3"}
    )
    people = {
        "x1": member_in(x, "赵一"),
        "y1": member_in(y, "钱二"),
        "y2": member_in(y, "孙三"),
        "y3": member_in(y, "李四"),
        "y4": member_in(y, "周五"),
    }
    orgs = {"root": root, "city": city, "county": county, "x": x, "y": y, "z": z}
    return {"orgs": {k: fresh(v) for k, v in orgs.items()}, **people}


def member_ranking(
    node: Organization, viewer: Any, period: str = "day", day: Any = None
) -> rankings.MemberRanking:
    return rankings.ranking_members(
        organization=fresh(node), period=period, day=day or business_day(), viewer=viewer
    )


def table(ranking: rankings.MemberRanking) -> list[tuple[int, int, int]]:
    return [(row.rank, row.member_id, row.points) for row in ranking.rows]


# --- periods (pure) ----------------------------------------------------------------------------


def test_periods_are_the_day_the_monday_week_the_month_and_the_year() -> None:
    sunday = dt.date(2024, 3, 3)
    assert rankings.period_span("day", sunday) == rankings.Span("day", sunday, sunday)
    assert rankings.period_span("week", sunday) == rankings.Span(
        "week", dt.date(2024, 2, 26), sunday
    )
    assert rankings.period_span("month", dt.date(2024, 2, 10)) == rankings.Span(
        "month", dt.date(2024, 2, 1), dt.date(2024, 2, 29)
    )
    assert rankings.period_span("year", sunday) == rankings.Span(
        "year", dt.date(2024, 1, 1), dt.date(2024, 12, 31)
    )


def test_equal_points_share_a_rank() -> None:
    assert rankings._ranks([10, 7, 7, 3, 3, 1]) == [1, 2, 2, 4, 4, 6]
    assert rankings._ranks([]) == []


# --- members ------------------------------------------------------------------------------------


def test_members_rank_by_points_inside_the_subtree_and_ties_share_a_rank(backend, town):
    today = business_day()
    earn(town["x1"], 10, at(today))
    earn(town["y1"], 7, at(today))
    earn(town["y2"], 7, at(today))
    earn(town["y3"], 3, at(today))
    assert rankings.backend().name == backend
    ranking = member_ranking(town["orgs"]["county"], town["y1"])
    ids = sorted([town["y1"].pk, town["y2"].pk], reverse=True)  # a tie lists the newer first
    assert table(ranking) == [
        (1, town["x1"].pk, 10),
        (2, ids[0], 7),
        (2, ids[1], 7),
        (4, town["y3"].pk, 3),
    ]
    assert ranking.ranked == 4
    assert ranking.viewer is not None
    assert (ranking.viewer.rank, ranking.viewer.points) == (2, 7)
    branch = member_ranking(town["orgs"]["y"], town["y1"])
    assert [row.member_id for row in branch.rows] == [*ids, town["y3"].pk]
    assert member_ranking(town["orgs"]["x"], town["x1"]).ranked == 1


def test_a_member_without_points_is_not_ranked_and_has_no_position(backend, town):
    earn(town["x1"], 5, at(business_day()))
    ranking = member_ranking(town["orgs"]["county"], town["y4"])
    assert ranking.viewer is None
    assert [row.member_id for row in ranking.rows] == [town["x1"].pk]


def test_the_top_list_is_cut_but_ranks_and_the_viewer_position_hold(backend, town):
    today = business_day()
    for points, name in zip((9, 8, 8, 6, 2), ("x1", "y1", "y2", "y3", "y4"), strict=True):
        earn(town[name], points, at(today))
    ranking = rankings.ranking_members(
        organization=town["orgs"]["county"],
        period="day",
        day=today,
        viewer=town["y4"],
        limit=2,
    )
    assert [row.rank for row in ranking.rows] == [1, 2]
    assert ranking.ranked == 5
    assert ranking.viewer is not None
    assert (ranking.viewer.rank, ranking.viewer.points) == (5, 2)


def test_a_reversal_takes_the_points_out_of_the_ranking(backend, town):
    today = business_day()
    entry = earn(town["x1"], 10, at(today))
    earn(town["y1"], 4, at(today))
    reversal = points_reverse(actor=None, entry=entry, reason="记错了")
    rankings.rankings_record(reversal)
    ranking = member_ranking(town["orgs"]["county"], town["y1"])
    assert table(ranking) == [(1, town["y1"].pk, 4)]


def test_points_stay_with_the_organisation_where_they_were_earned(backend, town):
    today = business_day()
    earn(town["x1"], 6, at(today, 9))
    membership_place(user=town["x1"], organization=town["orgs"]["y"])
    earn(town["x1"], 4, at(today, 15))
    assert table(member_ranking(town["orgs"]["x"], town["x1"])) == [(1, town["x1"].pk, 6)]
    assert table(member_ranking(town["orgs"]["y"], town["x1"])) == [(1, town["x1"].pk, 4)]
    assert table(member_ranking(town["orgs"]["county"], town["x1"])) == [(1, town["x1"].pk, 10)]


# --- periods against the ledger ----------------------------------------------------------------


def test_week_boundaries_are_shanghai_midnight_before_monday(backend, town):
    monday = week_start(business_day()) - dt.timedelta(days=7)
    sunday = monday - dt.timedelta(days=1)
    earn(town["x1"], 3, at(sunday, 23, 30))  # 15:30 UTC on Sunday
    earn(town["y1"], 5, at(monday, 0, 10))  # 16:10 UTC on Sunday: already Monday in Shanghai
    county = town["orgs"]["county"]
    assert table(member_ranking(county, town["x1"], "week", sunday)) == [(1, town["x1"].pk, 3)]
    assert table(member_ranking(county, town["x1"], "week", monday)) == [(1, town["y1"].pk, 5)]
    assert table(member_ranking(county, town["x1"], "day", sunday)) == [(1, town["x1"].pk, 3)]
    assert table(member_ranking(county, town["x1"], "week", monday + dt.timedelta(days=6))) == [
        (1, town["y1"].pk, 5)
    ]


def test_months_and_years_follow_shanghai_days(backend, town):
    first = (business_day().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    last_before = first - dt.timedelta(days=1)
    earn(town["x1"], 2, at(last_before, 23, 59))
    earn(town["y1"], 4, at(first, 0, 1))  # 16:01 UTC the day before
    county = town["orgs"]["county"]
    assert table(member_ranking(county, town["x1"], "month", last_before)) == [
        (1, town["x1"].pk, 2)
    ]
    assert table(member_ranking(county, town["x1"], "month", first)) == [(1, town["y1"].pk, 4)]
    year = member_ranking(county, town["x1"], "year", first)
    expected = [(1, town["y1"].pk, 4)] + (
        [(2, town["x1"].pk, 2)] if last_before.year == first.year else []
    )
    assert table(year) == expected


# --- organisations ------------------------------------------------------------------------------


def test_organisations_rank_by_total_and_by_points_per_member(backend, town):
    today = business_day()
    earn(town["x1"], 10, at(today))
    for name in ("y1", "y2"):
        earn(town[name], 10, at(today))
    county = town["orgs"]["county"]
    by_total = rankings.ranking_organizations(organization=county, period="day", day=today)
    assert [
        (r.rank, r.name, r.points, r.member_count, r.points_per_member) for r in by_total.rows
    ] == [
        (1, "支部Y", 20, 4, 5.0),
        (2, "支部X", 10, 1, 10.0),
        (3, "支部Z", 0, 0, 0.0),
    ]
    per_member = rankings.ranking_organizations(
        organization=county, period="day", day=today, by="per_member"
    )
    assert [(r.rank, r.name) for r in per_member.rows] == [(1, "支部X"), (2, "支部Y"), (3, "支部Z")]
    city = rankings.ranking_organizations(
        organization=town["orgs"]["city"], period="day", day=today
    )
    assert [(r.name, r.points, r.member_count) for r in city.rows] == [("县", 30, 5)]


def test_organisations_with_equal_points_share_a_rank(backend, town):
    today = business_day()
    earn(town["x1"], 4, at(today))
    earn(town["y1"], 4, at(today))
    ranking = rankings.ranking_organizations(
        organization=town["orgs"]["county"], period="day", day=today
    )
    assert [(r.rank, r.name) for r in ranking.rows] == [(1, "支部X"), (1, "支部Y"), (3, "支部Z")]


# --- Redis against the database -----------------------------------------------------------------


def _snapshot(town: dict[str, Any], viewer: Any) -> list[Any]:
    today = business_day()
    answers: list[Any] = []
    for node in ("root", "city", "county", "x", "y", "z"):
        for period in rankings.PERIODS:
            ranking = member_ranking(town["orgs"][node], viewer, period, today)
            answers.append((node, period, table(ranking), ranking.ranked, ranking.viewer))
            for by in ("total", "per_member"):
                answers.append(
                    rankings.ranking_organizations(
                        organization=town["orgs"][node], period=period, day=today, by=by
                    ).rows
                )
    return answers


def _dump(client: redis.Redis) -> dict[str, Any]:
    """Every ranking sorted set under the test's prefix (the ready marks and the registry of
    ready periods left out)."""
    keys = sorted(
        k.decode() for k in client.scan_iter(match=f"{rankings.KEY_PREFIX}:*", _type="zset")
    )
    return {key: sorted(client.zrange(key, 0, -1, withscores=True)) for key in keys}


def test_redis_answers_exactly_what_the_database_answers(on_redis, town, settings):
    today = business_day()
    yesterday = today - dt.timedelta(days=1)
    for points, name, day in (
        (9, "x1", today),
        (9, "y1", today),
        (3, "y2", yesterday),
        (5, "y3", today),
        (1, "y4", yesterday),
        (2, "y4", today),
    ):
        earn(town[name], points, at(day))
    on_redis = _snapshot(town, town["y2"])
    url = settings.REDIS_URL
    settings.REDIS_URL = ""
    on_database = _snapshot(town, town["y2"])
    settings.REDIS_URL = url
    assert on_redis == on_database

    # The keys kept up to date award by award equal the keys rebuilt from the ledger.
    client = rankings.redis_client()
    incremental = _dump(client)
    assert len(incremental) > 20
    rankings.rankings_rebuild(today)
    rankings.rankings_rebuild(yesterday)
    assert _dump(client) == incremental

    # A cold cache is rebuilt on the first read and answers the same.
    assert rankings.rankings_forget() > 0
    assert _snapshot(town, town["y2"]) == on_database


def test_an_award_recorded_before_the_period_was_built_is_counted_once(on_redis, town):
    today = business_day()
    earn(town["x1"], 4, at(today))  # incremented into keys not yet marked ready
    assert table(member_ranking(town["orgs"]["county"], town["x1"])) == [(1, town["x1"].pk, 4)]
    earn(town["x1"], 1, at(today, 13))  # now incremented into the rebuilt keys
    assert table(member_ranking(town["orgs"]["county"], town["x1"])) == [(1, town["x1"].pk, 5)]


def test_without_redis_recording_does_nothing(town, settings):
    settings.REDIS_URL = ""
    entry = earn(town["x1"], 1, at(business_day()))
    rankings.rankings_record(entry)  # no error, no connection
    assert rankings.rankings_rebuild(business_day()) == 0
    assert rankings.backend().name == "database"


# --- the switch -----------------------------------------------------------------------------


def test_operators_switch_personal_rankings_off_for_the_whole_platform(backend, personas, rules):
    earn(personas["member"], 3, at(business_day()))
    branch = personas["orgs"]["branch_a"]
    assert member_ranking(branch, personas["member"]).ranked == 1
    rankings.ranking_setting_update(
        actor=personas["operator"], organization=None, members_visible=False
    )
    for node in ("root", "province", "county_a", "branch_a", "branch_b"):
        with pytest.raises(Forbidden) as refused:
            member_ranking(personas["orgs"][node], personas["county_admin"])
        assert refused.value.code == "member_rankings_off"
    organisations = rankings.ranking_organizations(
        organization=fresh(personas["orgs"]["county_a"]), period="day", day=business_day()
    )
    assert [row.points for row in organisations.rows] == [3]
    entry = AuditEntry.objects.get(action="ranking_setting.update")
    assert (entry.before, entry.after) == ({"members_visible": True}, {"members_visible": False})
    rankings.ranking_setting_update(
        actor=personas["operator"], organization=None, members_visible=True
    )
    assert member_ranking(branch, personas["member"]).ranked == 1


def test_a_node_switched_off_hides_personal_rankings_of_its_subtree_only(personas, rules):
    county_a = fresh(personas["orgs"]["county_a"])
    rankings.ranking_setting_update(
        actor=personas["county_admin"], organization=county_a, members_visible=False
    )
    assert not rankings.members_visible(fresh(personas["orgs"]["branch_a"]))
    assert not rankings.members_visible(county_a)
    assert rankings.members_visible(fresh(personas["orgs"]["city"]))
    assert rankings.members_visible(fresh(personas["orgs"]["branch_b"]))
    # Turning a node on does not lift an ancestor's decision: the stricter wins.
    rankings.ranking_setting_update(
        actor=personas["county_admin"],
        organization=fresh(personas["orgs"]["branch_a"]),
        members_visible=True,
    )
    assert not rankings.members_visible(fresh(personas["orgs"]["branch_a"]))
    state = rankings.ranking_switch_state(
        personas["branch_admin"], fresh(personas["orgs"]["branch_a"])
    )
    assert (state.visible, state.platform_on, state.node_on) == (False, True, True)
    assert state.off_above == county_a
    assert (state.can_set_node, state.can_set_platform) == (False, False)


def test_only_operators_and_main_administrators_may_switch(personas, rules):
    orgs = {name: fresh(node) for name, node in personas["orgs"].items()}
    refusals = [
        ("province_admin", None, Forbidden),  # the platform flag is for operators only
        ("county_admin", None, Forbidden),
        ("branch_admin", orgs["branch_a"], Forbidden),  # a plain administrator
        ("member", orgs["branch_a"], Forbidden),
        ("county_admin", orgs["city"], NotFound),  # above his scope
        ("outsider", orgs["county_a"], NotFound),  # the sibling county
    ]
    for persona, node, error in refusals:
        with pytest.raises(error):
            rankings.ranking_setting_update(
                actor=personas[persona], organization=node, members_visible=False
            )
    assert not AuditEntry.objects.filter(action="ranking_setting.update").exists()
    allowed = [
        ("operator", None),
        ("operator", orgs["branch_b"]),
        ("province_admin", orgs["county_a"]),
        ("county_admin", orgs["branch_a"]),
    ]
    for persona, node in allowed:
        rankings.ranking_setting_update(
            actor=personas[persona], organization=node, members_visible=False
        )
    assert AuditEntry.objects.filter(action="ranking_setting.update").count() == 4
    # Saving what is already set changes nothing and writes nothing.
    rankings.ranking_setting_update(
        actor=personas["operator"], organization=None, members_visible=False
    )
    assert AuditEntry.objects.filter(action="ranking_setting.update").count() == 4


def test_a_sub_platform_operator_cannot_switch_the_whole_platform(personas, rules):
    person = UserFactory.create()
    role_grant(user=person, organization=personas["orgs"]["province"], role="operator",
               granted_by=None)  # fmt: skip
    with pytest.raises(Forbidden):
        rankings.ranking_setting_update(actor=person, organization=None, members_visible=False)
    rankings.ranking_setting_update(
        actor=person, organization=fresh(personas["orgs"]["county_b"]), members_visible=False
    )


# --- who reads, and which names he sees ------------------------------------------------------


def test_members_read_rankings_of_their_own_organisation_chain_only(personas):
    orgs = personas["orgs"]
    for node in ("root", "province", "city", "county_a", "branch_a"):
        assert rankings.access_organization_for_rankings(personas["member"], orgs[node].pk)
    for node in ("county_b", "branch_b"):
        with pytest.raises(NotFound):
            rankings.access_organization_for_rankings(personas["member"], orgs[node].pk)
    with pytest.raises(Forbidden):
        rankings.access_organization_for_rankings(personas["stranger"], orgs["root"].pk)
    with pytest.raises(NotFound):
        rankings.access_organization_for_rankings(personas["county_admin"], orgs["branch_b"].pk)
    assert rankings.access_organization_for_rankings(personas["county_admin"], orgs["branch_a"].pk)


def test_members_see_full_names_of_their_own_organisation_and_masked_names_elsewhere(
    backend, personas, rules
):
    today = business_day()
    colleague = member_in(personas["orgs"]["branch_a"], "王同事")
    neighbour = member_in(personas["orgs"]["branch_b"], "陈邻居")
    for person, points in ((colleague, 5), (neighbour, 4), (personas["member"], 3)):
        earn(person, points, at(today))
    city = fresh(personas["orgs"]["city"])
    seen = {row.member_id: row.name for row in member_ranking(city, personas["member"]).rows}
    assert seen[colleague.pk] == "王同事"
    assert seen[neighbour.pk] == "陈**"
    assert seen[personas["member"].pk] == personas["member"].real_name
    by_admin = {
        row.member_id: row.name for row in member_ranking(city, personas["province_admin"]).rows
    }
    assert by_admin[neighbour.pk] == "陈邻居"
    by_county = {
        row.member_id: row.name for row in member_ranking(city, personas["county_admin"]).rows
    }
    assert (by_county[colleague.pk], by_county[neighbour.pk]) == ("王同事", "陈**")
    assert "phone" not in rankings.MemberRow.__dataclass_fields__  # never a phone number


def test_readers_of_a_cold_period_wait_for_one_rebuild(on_redis, monkeypatch):
    """A period nobody has read since Redis lost it is rebuilt once, however many read it at
    the same moment: the others wait under the period's lock and then find it ready."""
    span = rankings.period_span("day", business_day())
    rebuilds: list[str] = []

    def slow_rebuild(day: dt.date, *, periods: tuple[str, ...]) -> int:
        rebuilds.append(periods[0])
        time.sleep(0.3)  # long enough for every reader to arrive while it runs
        rankings.redis_client().set(rankings._ready_key(span), "1")
        return 1

    monkeypatch.setattr(rankings, "rankings_rebuild", slow_rebuild)
    readers = [threading.Thread(target=rankings._Redis()._ready, args=(span,)) for _ in range(5)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert rebuilds == ["day"]
