"""The rule engine's pure part and the shipped rule sets (PRODUCT.md §6). No database."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from xuexi.points import scoring
from xuexi.points.management.commands import rulesets as command
from xuexi.points.scoring import RuleSetInvalid, RuleSetSpec, RuleSpec

SHIPPED = sorted(scoring.SHIPPED_DIR.glob("*.toml"))

# PRODUCT.md §6: effective date → (code, daily maximum without administrators' awards).
SECTION_6 = {
    "2019-01-30": ("2019-01", 66),
    "2019-03-28": ("2019-03", 52),
    "2019-07-01": ("2019-07", 58),
    "2020-08-14": ("2020-08", 57),
    "2020-09-28": ("2020-09", 64),
    "2021-01-01": ("2021", 63),
    "2022-05-23": ("2022-05", 61),
    "2023-06-01": ("2023-06", 56),
}

# The titles of the real 我的积分 page.
TITLES = {
    "login": "登录",
    "read_article": "阅读文章",
    "article_time": "文章学习时长",
    "chosen_reading": "我要选读文章",
    "watch_video": "视听学习",
    "video_time": "视听学习时长",
    "watch_listen": "我要视听学习",
    "daily_quiz": "每日答题",
    "weekly_quiz": "每周答题",
    "special_quiz": "专项答题",
    "challenge_quiz": "挑战答题",
    "four_player": "四人赛",
    "duel": "双人对战",
    "subscribe": "订阅",
    "favourite": "收藏",
    "share": "分享",
    "comment": "发表观点",
    "local_channel": "本地频道",
    "sport": "强国运动",
    "offline_activity": "线下学习活动",
}

NOON = dt.time(10, 0)  # outside every 2019-01 active window


def shipped_set(day: str) -> RuleSetSpec:
    return scoring.load_file(scoring.SHIPPED_DIR / f"{day}.toml")


def rule_of(day: str, code: str) -> RuleSpec:
    rule = shipped_set(day).rule(code)
    assert rule is not None, f"{day} has no rule {code}"
    return rule


def minimal(**rule: Any) -> dict[str, Any]:
    """A one-rule set: login 1/1 unless ``rule`` says otherwise."""
    data: dict[str, Any] = {"code": "login", "title": "登录", "points": 1, "daily_cap": 1}
    data.update(rule)
    return {
        "ruleset": {"code": "draft", "title": "草稿", "effective_from": "2024-01-01"},
        "rules": [{k: v for k, v in data.items() if v is not None}],
    }


# -- the shipped sets ---------------------------------------------------------------------


def test_every_version_of_section_6_is_shipped() -> None:
    assert [path.stem for path in SHIPPED] == list(SECTION_6)
    specs = scoring.shipped()
    assert [spec.code for spec in specs] == [code for code, _ in SECTION_6.values()]
    assert [spec.effective_from for spec in specs] == sorted(spec.effective_from for spec in specs)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_set_parses_and_reproduces_its_maximum(path: Path) -> None:
    spec = scoring.load_file(path)
    code, maximum = SECTION_6[path.stem]
    assert spec.code == code
    assert spec.effective_from.isoformat() == path.stem
    assert spec.expected_daily_max == maximum
    assert spec.daily_max() == maximum
    assert spec.note.strip()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_set_uses_the_real_titles_and_links(path: Path) -> None:
    spec = scoring.load_file(path)
    for rule in spec.rules.values():
        assert rule.title == TITLES[rule.code]
        assert rule.link == "" or rule.link.startswith("/")
    offline = spec.rule("offline_activity")
    assert offline is not None
    assert (offline.points, offline.daily_cap) == (1, 20)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_daily_max_leaves_out_administrators_awards(path: Path) -> None:
    spec = scoring.load_file(path)
    assert spec.daily_max() == spec.expected_daily_max


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_as_data_round_trips_through_parse(path: Path) -> None:
    spec = scoring.load_file(path)
    assert scoring.parse(spec.as_data()) == spec


def test_rules_come_and_go_as_section_6_says() -> None:
    codes = {spec.code: set(spec.rules) for spec in scoring.shipped()}
    assert "challenge_quiz" not in codes["2019-03"]
    assert "challenge_quiz" in codes["2019-07"]
    assert {"four_player", "duel"} <= codes["2020-09"] - codes["2020-08"]
    assert "share" in codes["2021"]
    assert "share" not in codes["2022-05"]
    assert {"watch_listen", "sport"} <= codes["2023-06"]
    assert not {"watch_video", "video_time", "weekly_quiz"} & codes["2023-06"]


# -- raw_points --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "points"),
    [
        (dt.time(5, 59), 1),
        (dt.time(6, 0), 2),
        (dt.time(8, 29), 2),
        (dt.time(8, 30), 1),  # a window ends before its end time
        (dt.time(13, 0), 2),
        (dt.time(17, 0), 1),
        (dt.time(22, 29), 2),
        (dt.time(22, 30), 1),
    ],
)
def test_active_hours_double_an_article(moment: dt.time, points: int) -> None:
    assert rule_of("2019-01-30", "read_article").raw_points(moment=moment, index=1) == points


def test_active_hours_double_minutes_and_videos_not_quizzes() -> None:
    evening = dt.time(21, 0)
    assert rule_of("2019-01-30", "article_time").raw_points(moment=evening, index=1, units=8) == 4
    assert rule_of("2019-01-30", "video_time").raw_points(moment=evening, index=1, units=10) == 4
    assert rule_of("2019-01-30", "watch_video").raw_points(moment=evening, index=1) == 2
    quiz = rule_of("2019-01-30", "daily_quiz")
    assert quiz.raw_points(moment=evening, index=1, outcome="full") == 2
    assert not rule_of("2019-03-28", "read_article").multipliers


def test_minutes_round_down_to_whole_units() -> None:
    article_time = rule_of("2019-01-30", "article_time")  # 1 per 4 minutes
    assert article_time.raw_points(moment=NOON, index=1, units=7) == 1
    assert article_time.raw_points(moment=NOON, index=1, units=3) == 0
    assert article_time.raw_points(moment=NOON, index=1, units=8) == 2
    assert rule_of("2019-03-28", "video_time").raw_points(moment=NOON, index=1, units=8) == 2


def test_chosen_reading_pays_the_article_and_its_minutes() -> None:
    rule = rule_of("2020-08-14", "chosen_reading")
    assert rule.raw_points(moment=NOON, index=1, occurrences=1, units=3) == 4
    assert rule.raw_points(moment=NOON, index=2, occurrences=1, units=0) == 1


def test_four_player_pays_by_game_and_outcome_for_the_first_two_games() -> None:
    rule = rule_of("2020-09-28", "four_player")
    assert rule.raw_points(moment=NOON, index=1, outcome="win") == 3
    assert rule.raw_points(moment=NOON, index=1, outcome="loss") == 1
    assert rule.raw_points(moment=NOON, index=2, outcome="win") == 2
    assert rule.raw_points(moment=NOON, index=2, outcome="loss") == 1
    assert rule.raw_points(moment=NOON, index=3, outcome="win") == 0
    assert rule.daily_cap == 5


def test_duel_pays_the_first_game_only() -> None:
    rule = rule_of("2020-09-28", "duel")
    assert rule.raw_points(moment=NOON, index=1, outcome="win") == 2
    assert rule.raw_points(moment=NOON, index=1, outcome="loss") == 1
    assert rule.raw_points(moment=NOON, index=2, outcome="win") == 0


def test_quizzes_pay_by_outcome_in_2019_01_and_by_right_answers_later() -> None:
    daily = rule_of("2019-01-30", "daily_quiz")
    assert daily.raw_points(moment=NOON, index=1, outcome="full") == 2
    assert daily.raw_points(moment=NOON, index=2, outcome="partial") == 1
    assert daily.raw_points(moment=NOON, index=1, outcome="win") == 0
    special = rule_of("2019-01-30", "special_quiz")
    assert special.raw_points(moment=NOON, index=1, outcome="pass") == 8
    assert special.raw_points(moment=NOON, index=1) == 0  # failed
    assert (
        rule_of("2019-01-30", "weekly_quiz").raw_points(moment=NOON, index=1, outcome="partial")
        == 6
    )
    later = rule_of("2021-01-01", "special_quiz")
    assert later.raw_points(moment=NOON, index=1, units=7) == 7
    assert later.raw_points(moment=NOON, index=2, units=10) == 0  # one scoring set a day


def capped(award: int, remaining: int) -> int:
    return max(0, min(award, remaining))


def threshold_challenge(right: int) -> int:
    """The real rule: one challenge, 5 right → 3, 10 or more → 6."""
    return 6 if right >= 10 else 3 if right >= 5 else 0


@pytest.mark.parametrize(
    "day", ["2019-07-01", "2020-08-14", "2020-09-28", "2021-01-01", "2022-05-23"]
)
def test_challenge_per_five_equals_the_thresholds_once_capped(day: str) -> None:
    rule = rule_of(day, "challenge_quiz")
    assert rule.daily_cap is not None
    assert rule.daily_cap <= 6
    for right in range(40):
        linear = rule.raw_points(moment=NOON, index=1, units=right)
        for remaining in range(rule.daily_cap + 1):
            assert capped(linear, remaining) == capped(threshold_challenge(right), remaining)


def test_challenge_2023_pays_the_thresholds_under_its_cap_of_10() -> None:
    rule = rule_of("2023-06-01", "challenge_quiz")
    assert rule.daily_cap == 10
    for right in range(40):
        linear = rule.raw_points(moment=NOON, index=1, units=right)
        assert capped(linear, 10) == threshold_challenge(right)


def test_2023_rotates_battles_and_the_challenge_by_weekday() -> None:
    spec = shipped_set("2023-06-01")
    rotating = ("challenge_quiz", "four_player", "duel")
    monday = dt.date(2023, 6, 5)
    expected = ["four_player", "challenge_quiz", "duel", "four_player", "challenge_quiz", "duel"]
    expected.append("challenge_quiz")  # Sunday
    for offset, code in enumerate(expected):
        day = monday + dt.timedelta(days=offset)
        scoring_today = [c for c in rotating if spec.rules[c].scores_on(day)]
        assert scoring_today == [code], day
    assert spec.rules["login"].scores_on(monday)
    four_player = spec.rules["four_player"]
    assert four_player.raw_points(moment=NOON, index=1, outcome="win") == 10
    assert four_player.raw_points(moment=NOON, index=1, outcome="loss") == 8
    assert four_player.raw_points(moment=NOON, index=2, outcome="win") == 0


def test_sport_is_capped_per_week_and_counts_once_in_a_day() -> None:
    sport = rule_of("2023-06-01", "sport")
    assert (sport.daily_cap, sport.weekly_cap) == (None, 2)


# -- invalid sets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (minimal(code="reading"), "unknown rule code 'reading'"),
        (minimal(daily_cap=None), "rule login: needs a daily cap, a weekly cap or a cap group"),
        (minimal(points=None, by_outcome={"perfect": 2}), "rule login: unknown outcome 'perfect'"),
        (
            minimal(points=None, by_index={"1": {"draw": 2}}),
            "rule login: unknown outcome 'draw'",
        ),
        (minimal(cap_group="reading"), "rule login: cap group 'reading' has no cap in \\[caps\\]"),
        (
            minimal(multipliers=[{"start": "08:30", "end": "06:00", "factor": 2}]),
            "rule login: a multiplier window must end after it starts",
        ),
        (
            minimal(multipliers=[{"start": "6 am", "end": "08:30", "factor": 2}]),
            "rule login must be a time like 06:00",
        ),
        (minimal(points=0), "rule login: scores nothing"),
        (minimal(title=" "), "rule login: a title is required"),
        (minimal(weekdays=[0]), "rule login: weekdays are ISO numbers"),
        (minimal(daily_cap=0), "rule login: daily_cap must be a positive integer"),
        (minimal(unit_size=0, unit_points=1), "rule login: unit_size must be a positive integer"),
        (minimal(colour="red"), "rule login: unknown fields \\['colour'\\]"),
    ],
)
def test_invalid_rule_is_refused_with_a_clear_message(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleSetInvalid, match=rf"^draft: {message}"):
        scoring.parse(data)


def test_duplicate_rule_is_refused() -> None:
    data = minimal()
    data["rules"].append(dict(data["rules"][0]))
    with pytest.raises(RuleSetInvalid, match=r"^draft: rule login appears twice$"):
        scoring.parse(data)


def test_set_without_code_date_or_rules_is_refused() -> None:
    data = minimal()
    with pytest.raises(RuleSetInvalid, match="needs a code"):
        scoring.parse({**data, "ruleset": {"effective_from": "2024-01-01"}})
    with pytest.raises(RuleSetInvalid, match=r"^draft: effective_from must be a date$"):
        scoring.parse({**data, "ruleset": {"code": "draft", "effective_from": "2024-13-01"}})
    with pytest.raises(RuleSetInvalid, match=r"^draft: no rules$"):
        scoring.parse({**data, "rules": []})
    with pytest.raises(RuleSetInvalid, match=r"^draft: cap of group reading must be"):
        scoring.parse({**data, "caps": {"reading": 0}})


def test_shared_cap_counts_once_in_the_daily_maximum() -> None:
    data = minimal()
    data["caps"] = {"reading": 12}
    data["rules"] += [
        {"code": "read_article", "title": "阅读文章", "points": 1, "cap_group": "reading"},
        {"code": "article_time", "title": "文章学习时长", "unit_points": 1, "cap_group": "reading"},
    ]
    spec = scoring.parse(data)
    assert spec.daily_max() == 13
    assert spec.daily_cap_of(spec.rules["article_time"]) == 12
    assert scoring.parse(spec.as_data()) == spec


# -- manage.py rulesets --------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("rulesets", *args, stdout=out)
    return out.getvalue()


def test_check_passes_on_the_shipped_sets() -> None:
    output = run("check")
    for day, (code, maximum) in SECTION_6.items():
        line = next(line for line in output.splitlines() if line.startswith(day))
        assert code in line
        assert line.split()[-3:] == [str(maximum), str(maximum), "OK"]
    assert "8 个规则集全部通过核对" in output


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


DRAFT = """
[ruleset]
code = "draft"
title = "草稿"
effective_from = 2024-01-01
expected_daily_max = {maximum}

[[rules]]
code = "login"
title = "登录"
points = 1
daily_cap = 1
"""


def test_check_fails_on_a_broken_file(tmp_path: Path) -> None:
    path = write(tmp_path, "draft.toml", DRAFT.format(maximum=1).replace("daily_cap = 1", ""))
    with pytest.raises(CommandError, match="1 个规则集未通过核对"):
        run("check", "--file", str(path))
    rows = command.check_rows([path], shipped=False)
    assert rows[0].status == command.INVALID
    assert rows[0].problems == [
        "规则集无效：draft: rule login: needs a daily cap, a weekly cap or a cap group"
    ]


def test_check_fails_on_a_maximum_that_does_not_match(tmp_path: Path) -> None:
    path = write(tmp_path, "draft.toml", DRAFT.format(maximum=2))
    with pytest.raises(CommandError):
        run("check", "--file", str(path))
    (row,) = command.check_rows([path], shipped=False)
    assert row.status == command.MISMATCH
    assert row.problems == ["引擎算出的每日上限 1 分，与预期的 2 分不符"]
    assert run("check", "--file", str(write(tmp_path, "ok.toml", DRAFT.format(maximum=1))))


def test_check_reports_toml_errors_and_misnamed_shipped_files(tmp_path: Path) -> None:
    broken = write(tmp_path, "2024-01-01.toml", "[ruleset\ncode = 1")
    misnamed = write(tmp_path, "latest.toml", DRAFT.format(maximum=1))
    rows = {row.path.name: row for row in command.check_rows([broken, misnamed], shipped=True)}
    assert rows["2024-01-01.toml"].problems[0].startswith("TOML 语法错误")
    assert rows["latest.toml"].problems == [
        "文件名应为生效日期 2024-01-01.toml，而不是 latest.toml"
    ]


def test_list_prints_without_failing(tmp_path: Path) -> None:
    path = write(tmp_path, "draft.toml", "[ruleset]\n")
    assert "INVALID" in run("list", "--file", str(path))


def test_manage_py_exit_status(tmp_path: Path) -> None:
    path = write(tmp_path, "draft.toml", DRAFT.format(maximum=1).replace('"login"', '"logon"'))
    manage = Path(settings.BASE_DIR) / "manage.py"
    good = subprocess.run(
        [sys.executable, str(manage), "rulesets", "check"], capture_output=True, text=True
    )
    assert good.returncode == 0, good.stderr
    bad = subprocess.run(
        [sys.executable, str(manage), "rulesets", "check", "--file", str(path)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert "unknown rule code 'logon'" in bad.stdout
