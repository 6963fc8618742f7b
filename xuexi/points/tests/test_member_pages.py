"""学习积分, 积分明细, the top bar's 今日 chip and the points on 我的, as a member sees them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from copy import deepcopy
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xuexi.accounts.models import User
from xuexi.accounts.tests.factories import UserFactory
from xuexi.points import scoring
from xuexi.points.context_processors import MemberPoints, member_points
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.services import points_award, points_reverse
from xuexi.points.tests.conftest import TEST_RULES, install
from xuexi.points.views import safe_link

pytestmark = pytest.mark.django_db

SH = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SH)  # challenge_quiz scores Tue, Fri, Sun only
TUESDAY = dt.datetime(2026, 3, 3, 10, 0, tzinfo=SH)

LINKS = {"login": "/", "read_article": "/", "chosen_reading": "/", "daily_quiz": "/quizzes/",
         "four_player": "/quizzes/", "challenge_quiz": "/quizzes/", "sport": "/",
         "subscribe": "https://example.com/elsewhere"}  # fmt: skip
LINKED_RULES: dict[str, Any] = deepcopy(TEST_RULES)
for _rule in LINKED_RULES["rules"]:
    if _rule["code"] in LINKS:
        _rule["link"] = LINKS[_rule["code"]]
DAILY_MAX = scoring.parse(LINKED_RULES).daily_max()

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


@pytest.fixture
def linked_rules(db: Any) -> RuleSet:
    """Only the test rule set (with 去看看 links) is in force."""
    RuleSet.objects.all().delete()
    return install(LINKED_RULES, dt.date(2020, 1, 1))


@pytest.fixture
def no_login_award(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages normally pay the day's login point on the first request: some tests want none."""
    monkeypatch.setattr("xuexi.points.middleware.points_award_daily_login", lambda user: None)


@pytest.fixture
def monday() -> Iterator[Any]:
    with time_machine.travel(MONDAY, tick=False) as clock:
        yield clock


@pytest.fixture
def member() -> User:
    return UserFactory.create(phone="13812340001", real_name="张学习")


def award(member: User, rule: str, source: str, at: dt.datetime, **kwargs: Any) -> int:
    return points_award(
        member=member, rule=rule, source_type="test", source_id=source, at=at, **kwargs
    ).points


def text_of(html: str) -> str:
    """The page's visible text, tags stripped and whitespace folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def get(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert not INLINE_HANDLER.search(html)
    return html


# --- 学习积分 ------------------------------------------------------------------------------


def test_today_shows_each_rule_with_its_progress_and_the_way_to_earn_it(
    client: Client, linked_rules: RuleSet, member: User, monday: Any
) -> None:
    award(member, "read_article", "a1", MONDAY.replace(hour=7))  # 06:00–08:30 counts double
    award(member, "daily_quiz", "q1", MONDAY, outcome="full")
    award(member, "sport", "s1", MONDAY)
    client.force_login(member)

    html = get(client, reverse("points:today"))  # the visit pays the day's login point
    text = text_of(html)
    assert "学习积分" in text
    assert f"今日 {1 + 2 + 2 + 1}/{DAILY_MAX}" in text  # the chip
    assert "Lv.1" in text
    assert "1 天" in text  # streak

    rows: dict[str, str] = {}
    for row in re.findall(r'<li class="rule-row[^"]*">(.*?)</li>', html, re.S):
        code = re.search(r'id="rule-(\w+)"', row)
        assert code is not None
        rows[code.group(1)] = text_of(row)
    assert set(rows) == {rule["code"] for rule in LINKED_RULES["rules"]}
    assert "已获 1 分 / 每日上限 1 分" in rows["login"]
    assert "已完成" in rows["login"]
    assert "去看看" not in rows["login"]  # the cap is reached
    assert "已获 2 分 / 每日上限 12 分" in rows["read_article"]  # the shared reading cap
    assert "去看看" in rows["read_article"]
    assert "已获 2 分 / 每日上限 5 分" in rows["daily_quiz"]
    assert "去答题" in rows["daily_quiz"]
    assert "本周已获 1 分 / 每周上限 2 分" in rows["sport"]
    assert "今日不计分" in rows["challenge_quiz"]  # Tuesdays, Fridays and Sundays only
    assert "去答题" not in rows["challenge_quiz"]
    assert "去看看" not in rows["offline_activity"]  # no link: no button
    assert "去看看" not in rows["subscribe"]  # a link off the site is dropped
    assert "example.com" not in html

    assert 'href="/quizzes/"' in html
    assert re.search(r'<li class="rule-row is-done">.*?id="rule-login"', html, re.S)
    assert re.search(r'<li class="rule-row is-off">.*?id="rule-challenge_quiz"', html, re.S)
    # Rules that do not score today go last.
    assert html.index('id="rule-challenge_quiz"') > html.index('id="rule-offline_activity"')
    # 我的 is the current tab.
    assert re.search(r'<a class="tab is-active"[^>]*href="/me/"', html)


def test_a_rule_scoring_today_has_its_button_again(
    client: Client, linked_rules: RuleSet, member: User
) -> None:
    with time_machine.travel(TUESDAY, tick=False):
        client.force_login(member)
        html = get(client, reverse("points:today"))
    row = re.search(r'id="rule-challenge_quiz".*?</li>', html, re.S)
    assert row is not None
    assert "去答题" in row.group(0)
    assert "今日不计分" not in row.group(0)


def test_weekly_caps_show_the_week_and_mark_the_rule_done(
    client: Client, linked_rules: RuleSet, member: User, monday: Any
) -> None:
    award(member, "sport", "s-sun", MONDAY - dt.timedelta(days=1))  # last week: not counted
    award(member, "sport", "s1", MONDAY)
    award(member, "sport", "s2", MONDAY + dt.timedelta(hours=1))
    client.force_login(member)
    html = get(client, reverse("points:today"))
    row = re.search(
        r'<li class="rule-row([^"]*)">(?:(?!</li>).)*id="rule-sport".*?</li>', html, re.S
    )
    assert row is not None
    assert row.group(1) == " is-done"
    assert "本周已获 2 分 / 每周上限 2 分" in text_of(row.group(0))
    assert "今日已获 2 分" in text_of(row.group(0))


def test_today_without_a_rule_set_says_so(
    client: Client, db: Any, member: User, no_login_award: None
) -> None:
    RuleSet.objects.all().delete()
    client.force_login(member)
    html = get(client, reverse("points:today"))
    assert "积分规则尚未配置" in html
    assert "points-chip" not in html  # no maximum to show against


def test_the_points_pages_ask_anonymous_visitors_to_sign_in(client: Client, db: Any) -> None:
    for name in ("points:today", "points:ledger"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


# --- 积分明细 ------------------------------------------------------------------------------


def test_totals_and_streak_over_several_days(
    client: Client, linked_rules: RuleSet, member: User, monday: Any, no_login_award: None
) -> None:
    day = dt.timedelta(days=1)
    award(member, "daily_quiz", "q-0", MONDAY, outcome="full")  # today: 2
    award(member, "daily_quiz", "q-1", MONDAY - day, outcome="full")  # 2
    award(member, "subscribe", "s-2", MONDAY - 2 * day)  # 1
    award(member, "offline_activity", "o-3", MONDAY - 3 * day, occurrences=5, note="党课")  # 5
    # A gap on day 4 ends the streak; day 5 still counts in the 30 days.
    award(member, "daily_quiz", "q-5", MONDAY - 5 * day, outcome="partial")  # 1
    award(member, "daily_quiz", "q-40", MONDAY - 40 * day, outcome="full")  # 2: January
    award(member, "offline_activity", "o-ly", dt.datetime(2025, 12, 20, 9, tzinfo=SH),
          occurrences=20)  # fmt: skip  # last year: 20
    client.force_login(member)

    html = get(client, reverse("points:ledger"))
    grid = re.search(r'<dl class="totals-grid">(.*?)</dl>', html, re.S)
    assert grid is not None
    label = r"(今日|近30天|今年|累计|连续学习|等级) (\S+)"
    totals = dict(re.findall(label, text_of(grid.group(1))))
    assert totals == {
        "今日": "2",
        "近30天": str(2 + 2 + 1 + 5 + 1),
        "今年": str(2 + 2 + 1 + 5 + 1 + 2),
        "累计": str(2 + 2 + 1 + 5 + 1 + 2 + 20),
        "连续学习": "4",
        "等级": "Lv.1",
    }
    assert "累计 100 分升至 Lv.2，还差 67 分" in text_of(html)

    points = MemberPoints(member, MONDAY.date())
    assert (points.today, points.last_30_days, points.this_year, points.total) == (2, 11, 13, 33)
    assert (points.streak_days, points.level, points.next_level_points) == (4, 1, 100)


def test_the_ledger_lists_entries_newest_first_with_title_note_time_and_points(
    client: Client, linked_rules: RuleSet, member: User, monday: Any, no_login_award: None
) -> None:
    award(member, "daily_quiz", "q1", MONDAY - dt.timedelta(days=1), outcome="full")
    award(member, "offline_activity", "o1", MONDAY.replace(hour=9), occurrences=3,
          note="主题党日：学习新思想")  # fmt: skip
    client.force_login(member)
    html = get(client, reverse("points:ledger"))
    text = text_of(html).split("共 2 条记录")[1]  # the entries, below the filters
    assert text.index("线下学习活动") < text.index("每日答题")  # newest first
    assert "主题党日：学习新思想" in text
    assert "今天 星期一 线下学习活动 主题党日：学习新思想 09:00 +3" in text  # Beijing time
    assert "昨天 星期日 每日答题 10:00 +2" in text
    assert 'datetime="2026-03-02T09:00:00+08:00"' in html
    assert "+3" in text
    assert "+2" in text
    assert "今天" in text
    assert "昨天" in text


def test_a_correction_shows_in_grey_with_its_reason(
    client: Client, linked_rules: RuleSet, member: User, monday: Any, no_login_award: None
) -> None:
    award(member, "subscribe", "s1", MONDAY)
    entry = LedgerEntry.objects.get(member=member)
    points_reverse(actor=None, entry=entry, reason="重复订阅，撤销积分")
    client.force_login(member)
    html = get(client, reverse("points:ledger"))
    row = re.search(r'<li class="ledger-row is-correction">.*?</li>', html, re.S)
    assert row is not None
    row_text = text_of(row.group(0))
    assert "-1" in row_text
    assert "更正" in row_text
    assert "计入" not in row_text  # corrected on the day it was paid
    assert "重复订阅，撤销积分" in row_text
    assert f"今日 0/{DAILY_MAX}" in text_of(html)


def test_a_later_correction_sits_on_its_own_day_and_says_which_day_it_counts_for(
    client: Client, linked_rules: RuleSet, member: User, monday: Any, no_login_award: None
) -> None:
    award(member, "subscribe", "s1", MONDAY - dt.timedelta(days=1))
    entry = LedgerEntry.objects.get(member=member)
    points_reverse(actor=None, entry=entry, reason="误订阅")  # today
    client.force_login(member)
    text = text_of(get(client, reverse("points:ledger"))).split("共 2 条记录")[1]
    assert "今天 星期一 订阅 更正 误订阅 10:00 计入 2026年3月1日 -1" in text
    assert "昨天 星期日 订阅 10:00 +1" in text


def test_the_ledger_filters_by_rule_and_range(
    client: Client, linked_rules: RuleSet, member: User, monday: Any, no_login_award: None
) -> None:
    award(member, "daily_quiz", "q0", MONDAY, outcome="full")
    award(member, "subscribe", "s0", MONDAY)
    award(member, "daily_quiz", "q3", MONDAY - dt.timedelta(days=3), outcome="full")
    award(member, "daily_quiz", "q20", MONDAY - dt.timedelta(days=20), outcome="full")
    award(member, "daily_quiz", "q90", MONDAY - dt.timedelta(days=90), outcome="full")
    client.force_login(member)
    url = reverse("points:ledger")

    def count(query: str) -> int:
        match = re.search(r"共 (\d+) 条记录", text_of(get(client, f"{url}?{query}")))
        return int(match.group(1)) if match else 0

    assert count("") == 5
    assert count("range=today") == 2
    assert count("range=7d") == 3
    assert count("range=30d") == 4
    assert count("range=all") == 5
    assert count("rule=daily_quiz") == 4
    assert count("rule=daily_quiz&range=7d") == 2
    assert count("rule=subscribe&range=7d") == 1
    assert count("rule=nonsense&range=forever") == 5  # unknown filters fall back to everything

    html = get(client, f"{url}?rule=daily_quiz&range=7d")
    assert 'class="range-chip is-active" href="?range=7d&amp;rule=daily_quiz"' in html
    assert '<option value="daily_quiz" selected>' in html
    assert 'href="?range=30d&amp;rule=daily_quiz"' in html  # the chips keep the rule


def test_the_ledger_pages_keep_the_filters(
    client: Client, linked_rules: RuleSet, member: User, monday: Any, no_login_award: None
) -> None:
    for number in range(25):
        award(member, "offline_activity", f"o{number}",
              MONDAY - dt.timedelta(days=number % 10, minutes=number))  # fmt: skip
    client.force_login(member)
    url = reverse("points:ledger")
    first = get(client, f"{url}?range=30d")
    assert first.count('<li class="ledger-row') == 20
    assert "第 1 / 2 页" in first
    assert 'href="?range=30d&amp;page=2"' in first
    second = get(client, f"{url}?range=30d&page=2")
    assert second.count('<li class="ledger-row') == 5
    assert "第 2 / 2 页" in second
    assert get(client, f"{url}?page=99").count('<li class="ledger-row') == 5  # the last page


def test_an_empty_ledger_says_how_to_earn_points(
    client: Client, linked_rules: RuleSet, member: User, monday: Any, no_login_award: None
) -> None:
    client.force_login(member)
    text = text_of(get(client, reverse("points:ledger")))
    assert "还没有积分记录" in text
    assert "看看今天怎么得分" in text
    assert "没有符合条件" not in text


def test_a_filter_that_finds_nothing_offers_everything(
    client: Client, linked_rules: RuleSet, member: User, monday: Any, no_login_award: None
) -> None:
    award(member, "subscribe", "s0", MONDAY - dt.timedelta(days=10))
    client.force_login(member)
    text = text_of(get(client, reverse("points:ledger") + "?range=today"))
    assert "没有符合条件的积分记录" in text
    assert "查看全部记录" in text


def test_an_older_rule_keeps_its_title_in_the_ledger(
    client: Client, linked_rules: RuleSet, member: User, monday: Any, no_login_award: None
) -> None:
    # An entry under a rule that today's set no longer has: the title still reads in Chinese.
    LedgerEntry.objects.create(member=member, rule="watch_video", points=1, day=MONDAY.date(),
                               at=MONDAY, source_type="test", source_id="v1",
                               ruleset=linked_rules)  # fmt: skip
    client.force_login(member)
    assert "视听学习" in text_of(get(client, reverse("points:ledger")))


# --- The chip, 我的, and what they cost -------------------------------------------------------


def test_the_chip_shows_today_on_every_member_page_and_links_to_the_points_page(
    client: Client, linked_rules: RuleSet, member: User, monday: Any
) -> None:
    award(member, "daily_quiz", "q0", MONDAY, outcome="full")
    client.force_login(member)
    for url in ("/", "/videos/", "/quizzes/", "/me/", "/points/", "/points/ledger/"):
        html = get(client, url)
        chip = re.search(r'<a class="points-chip" href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)
        assert chip is not None, url
        assert chip.group(1) == "/points/"
        assert text_of(chip.group(2)).strip() == f"今日 3/{DAILY_MAX}"


def test_no_chip_for_anonymous_visitors(client: Client, linked_rules: RuleSet) -> None:
    assert "points-chip" not in get(client, "/")


def test_me_shows_the_ring_totals_and_the_entries(
    client: Client, linked_rules: RuleSet, member: User, monday: Any
) -> None:
    award(member, "daily_quiz", "q0", MONDAY, outcome="full")
    award(member, "daily_quiz", "q1", MONDAY - dt.timedelta(days=1), outcome="full")
    client.force_login(member)
    html = get(client, reverse("web:me"))
    text = text_of(html)
    assert "points-ring-fill" in html
    assert re.search(r"今日积分 3 上限 " + str(DAILY_MAX), text)
    assert "Lv.1" in text
    assert re.search(r"累计积分 5", text)
    assert re.search(r"连续学习 2 天", text)
    assert 'href="/points/"' in html
    assert 'href="/points/ledger/"' in html
    assert f"今日 3/{DAILY_MAX}" in text


def test_the_context_processor_reads_nothing_until_a_page_shows_points(
    linked_rules: RuleSet,
    member: User,
    monday: Any,
    django_assert_num_queries: Any,
    django_assert_max_num_queries: Any,
) -> None:
    award(member, "daily_quiz", "q0", MONDAY, outcome="full")
    request = RequestFactory().get("/")
    request.user = member
    with django_assert_num_queries(0):
        context = member_points(request)
    with django_assert_max_num_queries(2):  # the day's maximum (then cached) and today's total
        points = context["member_points"]()
        assert points is not None
        assert (points.today, points.daily_max) == (2, DAILY_MAX)
    with django_assert_max_num_queries(1):  # the maximum is cached: one indexed read
        fresh = member_points(request)["member_points"]()
        assert fresh is not None
        assert fresh.today == 2
        assert fresh.daily_max == DAILY_MAX
    assert context["member_points"]() is points  # one object per request


def test_the_pages_cost_a_fixed_handful_of_queries(
    client: Client,
    linked_rules: RuleSet,
    member: User,
    monday: Any,
    django_assert_max_num_queries: Any,
) -> None:
    for number in range(30):
        award(member, "offline_activity", f"o{number}", MONDAY - dt.timedelta(days=number))
    client.force_login(member)
    get(client, "/")  # the day's login point is paid on the first visit
    with CaptureQueriesContext(connection) as shell:
        get(client, "/privacy/")  # the shell (session, user) and the chip's one read
    base = len(shell) - 1
    # rule set, today's and this week's counters, total, streak
    with django_assert_max_num_queries(base + 5):
        get(client, reverse("points:today"))
    # rule set, the three periods in one read, count, page, total, streak
    with django_assert_max_num_queries(base + 6):
        get(client, reverse("points:ledger") + "?range=30d")


def test_only_links_on_this_site_are_followed() -> None:
    assert safe_link("/quizzes/") == "/quizzes/"
    assert safe_link("") == ""
    assert safe_link("//evil.example/") == ""
    assert safe_link("https://evil.example/") == ""
    assert safe_link("javascript:alert(1)") == ""
