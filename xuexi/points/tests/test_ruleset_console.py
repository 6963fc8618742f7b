"""The operators' console for points rule sets (积分规则): list, detail, scheduling a new set
from a future date, withdrawing one before its date — never retroactive, always audited.

Personas (root conftest): ``operator`` is the platform operator (operator on the root node);
the other administrators read rule sets but cannot change them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.urls import reverse

from xuexi.core.errors import Conflict, Forbidden, NotFound
from xuexi.core.models import AuditEntry
from xuexi.core.time import business_day
from xuexi.organizations.services import role_grant
from xuexi.points import forms as ruleset_forms
from xuexi.points import scoring, services
from xuexi.points.models import RuleSet
from xuexi.points.selectors import ruleset_in_force
from xuexi.points.tests.conftest import TEST_RULES, install

pytestmark = pytest.mark.django_db

LIST = reverse("console:points_rulesets")
NEW = reverse("console:points_ruleset_create")


def days(n: int) -> dt.date:
    return business_day() + dt.timedelta(days=n)


def detail_url(ruleset: RuleSet) -> str:
    return reverse("console:points_ruleset", args=[ruleset.pk])


def withdraw_url(ruleset: RuleSet) -> str:
    return reverse("console:points_ruleset_withdraw", args=[ruleset.pk])


def schedule(personas: dict[str, Any], effective_from: dt.date, code: str = "next") -> RuleSet:
    data = {**TEST_RULES, "ruleset": {**TEST_RULES["ruleset"], "code": code, "title": "下期规则"}}
    return services.ruleset_schedule(
        actor=personas["operator"], data=data, effective_from=effective_from
    )


def editor_body(
    *,
    code: str = "2030-01",
    title: str = "新一期积分规则",
    effective_from: dt.date | None = None,
    note: str = "",
    base: dict[str, Any] | None = None,
    text: str | None = None,
    rows: dict[str, dict[str, Any]] | None = None,
    go: str = "save",
) -> dict[str, Any]:
    """What the editor posts: the head, the table (one row per rule of ``base``, cells
    overridden by ``rows``), the JSON text (``base`` unless ``text``) and the hidden base."""
    base = ruleset_forms.editable_data(base if base is not None else TEST_RULES)
    initial = ruleset_forms.row_initial(base)
    body: dict[str, Any] = {
        "go": go,
        "code": code,
        "title": title,
        "effective_from": (effective_from or days(7)).isoformat(),
        "note": note,
        "rules": ruleset_forms.data_json(base) if text is None else text,
        "base": json.dumps(base, ensure_ascii=False),
        "rule-TOTAL_FORMS": str(len(initial)),
        "rule-INITIAL_FORMS": str(len(initial)),
        "rule-MIN_NUM_FORMS": "0",
        "rule-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(initial):
        row = {**row, **(rows or {}).get(row["code"], {})}
        for name, value in row.items():
            if name == "remove":
                if value:
                    body[f"rule-{index}-remove"] = "on"
                continue
            body[f"rule-{index}-{name}"] = "" if value is None else str(value)
    return body


def text_with(change: Any) -> str:
    """The test set's JSON text after ``change(data)`` edits it in place."""
    data = ruleset_forms.editable_data(TEST_RULES)
    change(data)
    return ruleset_forms.data_json(data)


def rule_of(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(rule for rule in data["rules"] if rule["code"] == code)


# --- reading: every administrator ---------------------------------------------------------------


def test_every_administrator_reads_the_list_newest_first_with_status_and_maximum(
    client, personas, rules
):
    install(TEST_RULES, dt.date(2019, 1, 1))
    future = schedule(personas, days(10))
    client.force_login(personas["branch_admin"])
    response = client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    # newest effective date first: the scheduled set, the one in force, the superseded one
    positions = [html.index(f'href="{detail_url(r)}"') for r in (future, rules)]
    assert positions == sorted(positions)
    assert html.index("test-2020-01-01") < html.index("test-2019-01-01")
    assert "当前生效" in html
    assert "待生效" in html
    assert "已停用" in html
    expected = scoring.parse(rules.data).daily_max()
    assert f"{expected} 分" in html
    assert "随系统发布" not in html  # installed by the test, not shipped
    assert personas["operator"].real_name in html  # who scheduled the future one
    assert NEW not in html  # reading only
    assert "只有平台运营人员可以新建或撤回积分规则" in html
    assert f'href="{LIST}" aria-current="page"' in html  # the console nav links here


def test_the_operator_sees_the_new_button(client, personas, rules):
    client.force_login(personas["operator"])
    html = client.get(LIST).content.decode()
    assert f'href="{NEW}"' in html


def test_the_list_reads_a_fixed_number_of_queries(
    client, personas, rules, django_assert_max_num_queries
):
    for n in range(1, 6):
        install(TEST_RULES, dt.date(2019, n, 1))
    client.force_login(personas["county_admin"])
    client.get(LIST)  # the day's login point, sessions
    with django_assert_max_num_queries(12):
        assert client.get(LIST).status_code == 200


def test_the_detail_shows_every_rule_in_chinese_with_the_daily_maximum(client, personas, rules):
    client.force_login(personas["outsider"])  # rule sets are platform-wide: any administrator
    response = client.get(detail_url(rules))
    assert response.status_code == 200
    html = response.content.decode()
    spec = scoring.parse(rules.data)
    assert f"{spec.daily_max()} 分" in html
    for text in (
        "测试规则",
        "当前生效",
        "每分钟 1 分",  # chosen_reading's unit points
        "reading（共 12 分）",
        "06:00–08:30 ×2",
        "周二、周五、周日",
        "每日仅前 2 次计分",
        "第 1 次：胜 3 分、负 1 分",
        "第 2 次：胜 2 分、负 1 分",
        "按结果：满分 2 分、未满分 1 分",
        "不计入每日最高",  # offline activity
        "每日共 12 分",
        "规则数据（JSON）",
    ):
        assert text in html, text
    assert "撤回" not in html.replace("可能已被撤回", "")  # no actions for a reader
    assert "以此为基础新建" not in html


def test_an_unknown_rule_set_is_404_and_a_member_is_refused(client, personas, rules):
    client.force_login(personas["county_admin"])
    assert client.get(reverse("console:points_ruleset", args=[999999])).status_code == 404
    client.force_login(personas["member"])
    assert client.get(LIST).status_code == 403
    assert client.get(detail_url(rules)).status_code == 403


def test_a_shipped_set_says_so(client, personas, rules):
    RuleSet.objects.filter(pk=rules.pk).update(shipped=True)
    client.force_login(personas["county_admin"])
    assert "随系统发布" in client.get(detail_url(rules)).content.decode()


# --- scheduling: operators only -----------------------------------------------------------------


def test_the_editor_starts_from_the_set_in_force_or_the_one_asked_for(client, personas, rules):
    older = install({**TEST_RULES, "rules": TEST_RULES["rules"][:3]}, dt.date(2019, 1, 1))
    client.force_login(personas["operator"])
    html = client.get(NEW).content.decode()
    assert "以「测试规则」" in html
    assert 'value="four_player"' in html  # a table row per rule
    assert f'min="{days(1).isoformat()}"' in html  # tomorrow at the earliest
    chosen = client.get(f"{NEW}?from={older.pk}").content.decode()
    assert 'value="four_player"' not in chosen
    assert 'value="login"' in chosen
    assert client.get(f"{NEW}?from=999999").status_code == 404


def test_an_operator_schedules_a_set_edited_in_the_table(client, personas, rules):
    client.force_login(personas["operator"])
    body = editor_body(
        effective_from=days(7),
        note="订阅改为每次 2 分",
        rows={"subscribe": {"points": 2, "daily_cap": 4}, "login": {"title": "每日登录"}},
    )
    response = client.post(NEW, body)
    assert response.status_code == 302, response.content.decode()[:2000]
    created = RuleSet.objects.get(code="2030-01")
    assert response["Location"] == detail_url(created)
    assert (created.title, created.effective_from, created.shipped) == (
        "新一期积分规则",
        days(7),
        False,
    )
    assert created.created_by == personas["operator"]
    assert rule_of(created.data, "subscribe") == {
        "code": "subscribe",
        "title": "订阅",
        "points": 2,
        "daily_cap": 4,
    }
    assert rule_of(created.data, "login")["title"] == "每日登录"
    assert created.data["ruleset"]["note"] == "订阅改为每次 2 分"
    # everything the table does not show is carried over unchanged
    assert rule_of(created.data, "four_player") == rule_of(
        ruleset_forms.editable_data(rules.data), "four_player"
    )
    entry = AuditEntry.objects.get(action="ruleset.schedule")
    assert entry.actor == personas["operator"]
    assert entry.organization == personas["orgs"]["root"]
    assert entry.target_id == str(created.pk)
    after = entry.after or {}
    assert after["code"] == "2030-01"
    assert after["effective_from"] == days(7).isoformat()
    assert after["daily_max"] == scoring.parse(created.data).daily_max()
    assert after["data"] == created.data
    page = client.get(response["Location"]).content.decode()
    assert "已排定「新一期积分规则」" in page
    assert "待生效" in page
    # not in force before its day, in force from it
    assert ruleset_in_force(days(6))[0].pk == rules.pk  # type: ignore[index]
    assert ruleset_in_force(days(7))[0].pk == created.pk  # type: ignore[index]


def test_edits_in_the_table_and_in_the_json_both_count(client, personas, rules):
    def change(data: dict[str, Any]) -> None:
        rule_of(data, "challenge_quiz")["weekdays"] = [1]
        data["rules"].append({"code": "comment", "title": "发表观点", "points": 1, "daily_cap": 1})

    client.force_login(personas["operator"])
    body = editor_body(text=text_with(change), rows={"subscribe": {"daily_cap": 3}})
    assert client.post(NEW, body).status_code == 302
    data = RuleSet.objects.get(code="2030-01").data
    assert rule_of(data, "challenge_quiz")["weekdays"] == [1]
    assert rule_of(data, "subscribe")["daily_cap"] == 3
    assert rule_of(data, "comment")["points"] == 1


def test_a_field_changed_differently_in_both_places_is_refused_on_its_cell(client, personas, rules):
    def change(data: dict[str, Any]) -> None:
        rule_of(data, "subscribe")["daily_cap"] = 5

    client.force_login(personas["operator"])
    body = editor_body(text=text_with(change), rows={"subscribe": {"daily_cap": 3}})
    response = client.post(NEW, body)
    assert response.status_code == 200
    html = response.content.decode()
    assert "JSON 中此项也改成了 5，请只在一处修改。" in html
    assert not RuleSet.objects.filter(code="2030-01").exists()
    assert not AuditEntry.objects.filter(action="ruleset.schedule").exists()


def test_the_same_change_in_both_places_is_taken_once(client, personas, rules):
    def change(data: dict[str, Any]) -> None:
        rule_of(data, "subscribe")["daily_cap"] = 3

    client.force_login(personas["operator"])
    body = editor_body(text=text_with(change), rows={"subscribe": {"daily_cap": 3}})
    assert client.post(NEW, body).status_code == 302
    assert rule_of(RuleSet.objects.get(code="2030-01").data, "subscribe")["daily_cap"] == 3


def test_a_rule_marked_stopped_is_left_out_even_with_bad_cells(client, personas, rules):
    client.force_login(personas["operator"])
    body = editor_body(rows={"sport": {"remove": True, "title": "", "daily_cap": "x"}})
    assert client.post(NEW, body).status_code == 302
    data = RuleSet.objects.get(code="2030-01").data
    assert "sport" not in {rule["code"] for rule in data["rules"]}


def test_checking_refills_the_editor_and_saves_nothing(client, personas, rules):
    def change(data: dict[str, Any]) -> None:
        data["rules"].append({"code": "comment", "title": "发表观点", "points": 1, "daily_cap": 1})

    client.force_login(personas["operator"])
    body = editor_body(
        go="check", code="", title="草稿", text=text_with(change), rows={"login": {"points": 2}}
    )
    response = client.post(NEW, body)
    assert response.status_code == 200
    html = response.content.decode()
    merged = ruleset_forms.editable_data(TEST_RULES)
    change(merged)
    rule_of(merged, "login")["points"] = 2
    expected_max = scoring.parse(
        {**merged, "ruleset": {"code": "x", "effective_from": "2030-01-01"}}
    ).daily_max()
    assert f"检查通过：共 {len(merged['rules'])} 项规则，每日最高 {expected_max} 分" in html
    assert 'value="comment"' in html  # the rule added in the JSON now has its table row
    assert 'value="草稿"' in html  # the head as typed, not judged (the code is empty)
    assert "这个字段是必须的" not in html
    assert not RuleSet.objects.filter(title="草稿").exists()
    assert not AuditEntry.objects.filter(action="ruleset.schedule").exists()


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (-1, "新规则只能从明天或以后生效"),
        (0, "新规则只能从明天或以后生效"),
        (10, "已有积分规则「下期规则」"),
    ],
    ids=["yesterday", "today", "a date already taken"],
)
def test_an_effective_date_before_tomorrow_or_taken_is_refused(
    client, personas, rules, offset, message
):
    schedule(personas, days(10))
    before = (RuleSet.objects.count(), AuditEntry.objects.count())
    client.force_login(personas["operator"])
    response = client.post(NEW, editor_body(effective_from=days(offset)))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert (RuleSet.objects.count(), AuditEntry.objects.count()) == before


def test_a_code_already_used_is_refused(client, personas, rules):
    client.force_login(personas["operator"])
    response = client.post(NEW, editor_body(code=rules.code))
    assert response.status_code == 200
    assert f"编号 {rules.code} 已被使用" in response.content.decode()
    assert RuleSet.objects.count() == 1


def _set(code: str, **fields: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        rule_of(data, code).update(fields)

    return change


INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "empty title in the table": ({"rows": {"login": {"title": ""}}}, "这个字段是必须的"),
    "no cap at all": (
        {"rows": {"subscribe": {"daily_cap": None}}},
        "须设每日上限、每周上限或共享上限组。",
    ),
    "a cap group without a cap": (
        {"rows": {"login": {"cap_group": "nosuch"}}},
        "共享上限组 nosuch 没有在 caps 中设定上限",
    ),
    "a rule scoring nothing": (
        {"rows": {"subscribe": {"points": None}}},
        "不计任何积分",
    ),
    "a zero cap": ({"rows": {"login": {"daily_cap": 0}}}, "确保该值大于或等于1"),
    "broken JSON": ({"text": '{"caps": {}, "rules": [}'}, "JSON 格式有误：第 1 行"),
    "an unknown rule code": (
        {"text": text_with(lambda d: d["rules"].append({"code": "teleport", "title": "x"}))},
        "不认识的规则代码 teleport",
    ),
    "a weekday 8": ({"text": text_with(_set("challenge_quiz", weekdays=[8]))}, "计分日 weekdays"),
    "a window ending before it starts": (
        {
            "text": text_with(
                _set("read_article", multipliers=[{"start": "09:00", "end": "08:00", "factor": 2}])
            )
        },
        "结束时间须晚于开始时间",
    ),
    "an unknown outcome": (
        {"text": text_with(_set("daily_quiz", by_outcome={"draw": 1}))},
        "不认识的结果 draw",
    ),
    "an unknown field": (
        {"text": text_with(_set("login", bonus=3))},
        "规则 login：不认识的字段 bonus",
    ),
    "thresholds not rising": (
        {"text": text_with(_set("challenge_quiz", by_threshold=[[5, 3], [5, 6]]))},
        "按门槛计分的数量须逐项增加",
    ),
    "first_n of zero": (
        {"text": text_with(_set("four_player", first_n=0))},
        "规则 four_player：前 N 次计分必须是正整数。",
    ),
    "a rule twice": (
        {"text": text_with(lambda d: d["rules"].append(dict(d["rules"][0])))},
        "规则 login 出现了两次",
    ),
    "the head inside the JSON": (
        {"text": json.dumps({**TEST_RULES, "ruleset": {"code": "x"}}, ensure_ascii=False)},
        "不认识的项 ruleset",
    ),
    "no rules left": (
        {"text": '{"caps": {}, "rules": []}', "base": {"rules": []}},
        "至少要有一项规则",
    ),
    "a table edit of a rule deleted from the JSON": (
        {
            "text": text_with(lambda d: d["rules"].remove(rule_of(d, "sport"))),
            "rows": {"sport": {"points": 5}},
        },
        "这项规则已从 JSON 中删除",
    ),
}


@pytest.mark.parametrize("case", INVALID)
def test_invalid_rules_are_refused_in_chinese_and_nothing_is_saved(client, personas, rules, case):
    overrides, message = INVALID[case]
    client.force_login(personas["operator"])
    response = client.post(NEW, editor_body(**overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html, case
    assert 'class="field-error"' in html
    for english in ("must be", "unknown", "is required", "needs a"):
        assert english not in html, (case, english)
    assert not RuleSet.objects.filter(code="2030-01").exists()
    assert not AuditEntry.objects.filter(action="ruleset.schedule").exists()


def test_a_table_error_is_shown_on_its_cell_and_summed_up_above(client, personas, rules):
    client.force_login(personas["operator"])
    html = client.post(NEW, editor_body(rows={"subscribe": {"daily_cap": None}})).content.decode()
    message = "须设每日上限、每周上限或共享上限组。"
    summary = html.index(f"常用设置：订阅 · 每日上限：{message}")  # seen on a phone too
    cell = html.index('name="rule-')
    on_cell = html.index(message, cell)
    assert summary < cell < on_cell < html.index('name="rules"')
    assert "规则 subscribe：" not in html  # the cell needs no rule name


def test_a_tampered_table_is_refused_without_an_error_page(client, personas, rules):
    client.force_login(personas["operator"])
    body = editor_body()
    for key in [k for k in body if k.startswith("rule-")]:
        del body[key]  # no management form at all
    response = client.post(NEW, body)
    assert response.status_code == 200
    too_many = {**editor_body(), "rule-TOTAL_FORMS": "5000"}
    assert client.post(NEW, too_many).status_code == 200
    assert RuleSet.objects.count() == 1


def test_without_a_readable_base_the_table_wins_over_the_json(client, personas, rules):
    client.force_login(personas["operator"])
    body = {**editor_body(rows={"login": {"title": "每日登录"}}), "base": "not json"}
    assert client.post(NEW, body).status_code == 302
    assert rule_of(RuleSet.objects.get(code="2030-01").data, "login")["title"] == "每日登录"


@pytest.mark.parametrize("persona", ["province_admin", "county_admin", "branch_admin", "member"])
def test_only_platform_operators_open_or_post_the_editor(client, personas, rules, persona):
    client.force_login(personas[persona])
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, editor_body()).status_code == 403
    assert RuleSet.objects.count() == 1


def test_an_operator_below_the_root_is_not_a_platform_operator(client, personas, rules):
    user = personas["province_admin"]
    role_grant(
        user=user, organization=personas["orgs"]["province"], role="operator", granted_by=None
    )
    assert not services.user_can_edit_rulesets(user)
    client.force_login(user)
    assert client.get(NEW).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, rules):
    for url in (LIST, NEW, detail_url(rules), withdraw_url(rules)):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/" in response["Location"], url


# --- withdrawing ------------------------------------------------------------------------------


def test_an_operator_withdraws_a_scheduled_set_before_its_date(client, personas, rules):
    future = schedule(personas, days(3))
    client.force_login(personas["operator"])
    detail = client.get(detail_url(future)).content.decode()
    assert f'href="{withdraw_url(future)}"' in detail
    confirm = client.get(withdraw_url(future))
    assert confirm.status_code == 200
    assert "确定撤回「下期规则」吗" in confirm.content.decode()
    response = client.post(withdraw_url(future))
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not RuleSet.objects.filter(pk=future.pk).exists()
    assert ruleset_in_force(days(3))[0].pk == rules.pk  # type: ignore[index]
    entry = AuditEntry.objects.get(action="ruleset.withdraw")
    assert (entry.actor, entry.organization) == (personas["operator"], personas["orgs"]["root"])
    assert entry.target_id == str(future.pk)
    before = entry.before or {}
    assert before["code"] == "next"
    assert before["data"] == future.data
    assert "已撤回「下期规则」" in client.get(LIST).content.decode()


@pytest.mark.parametrize("which", ["in force", "superseded", "shipped"])
def test_shipped_in_force_and_past_sets_are_never_withdrawn(client, personas, rules, which):
    if which == "in force":
        target = rules
    elif which == "superseded":
        target = install(TEST_RULES, dt.date(2019, 1, 1))
    else:
        target = schedule(personas, days(5))
        RuleSet.objects.filter(pk=target.pk).update(shipped=True)
    client.force_login(personas["operator"])
    assert f'href="{withdraw_url(target)}"' not in client.get(detail_url(target)).content.decode()
    page = client.get(withdraw_url(target)).content.decode()
    assert "不能撤回" in page
    assert "确认撤回" not in page
    response = client.post(withdraw_url(target))
    assert response.status_code == 200
    assert "不能撤回" in response.content.decode()
    assert RuleSet.objects.filter(pk=target.pk).exists()
    assert not AuditEntry.objects.filter(action="ruleset.withdraw").exists()


def test_the_withdrawal_service_refuses_everyone_but_operators_and_a_second_try(personas, rules):
    future = schedule(personas, days(4))
    with pytest.raises(Forbidden):
        services.ruleset_withdraw(actor=personas["province_admin"], ruleset=future)
    services.ruleset_withdraw(actor=personas["operator"], ruleset=future)
    with pytest.raises(NotFound):
        services.ruleset_withdraw(actor=personas["operator"], ruleset=future)
    with pytest.raises(Conflict):
        services.ruleset_withdraw(actor=personas["operator"], ruleset=rules)
    assert AuditEntry.objects.filter(action="ruleset.withdraw").count() == 1


def test_a_set_becomes_unwithdrawable_on_its_day(personas, rules):
    future = schedule(personas, days(1))
    assert services.ruleset_withdrawable(future)
    assert not services.ruleset_withdrawable(future, today=days(1))


@pytest.mark.parametrize("persona", ["province_admin", "county_admin", "member"])
def test_non_operators_cannot_withdraw(client, personas, rules, persona):
    future = schedule(personas, days(3))
    client.force_login(personas[persona])
    assert client.get(withdraw_url(future)).status_code == 403
    assert client.post(withdraw_url(future)).status_code == 403
    assert RuleSet.objects.filter(pk=future.pk).exists()


# --- the engine's messages in Chinese (no database) -----------------------------------------------


BAD_RULES: list[dict[str, Any]] = [
    {"code": "teleport", "title": "x", "points": 1, "daily_cap": 1},
    {"code": "login", "points": 1, "daily_cap": 1},
    {"code": "login", "title": "登录", "points": 1},
    {"code": "login", "title": "登录", "points": 1, "daily_cap": 0},
    {"code": "login", "title": "登录", "points": -1, "daily_cap": 1},
    {"code": "login", "title": "登录", "daily_cap": 1},
    {"code": "login", "title": "登录", "points": 1, "cap_group": "none"},
    {"code": "login", "title": "登录", "points": 1, "daily_cap": 1, "weekdays": [0]},
    {"code": "login", "title": "登录", "points": 1, "daily_cap": 1, "multipliers": {}},
    {"code": "login", "title": "登录", "points": 1, "daily_cap": 1, "multipliers": [1]},
    {"code": "login", "title": "登录", "points": 1, "daily_cap": 1,
     "multipliers": [{"start": "late", "end": "08:00", "factor": 2}]},
    {"code": "login", "title": "登录", "points": 1, "daily_cap": 1,
     "multipliers": [{"start": "06:00", "end": "08:00", "factor": 0}]},
    {"code": "duel", "title": "对战", "daily_cap": 2, "by_index": {"0": {"win": 1}}},
    {"code": "duel", "title": "对战", "daily_cap": 2, "by_index": {"1": {"draw": 1}}},
    {"code": "duel", "title": "对战", "daily_cap": 2, "by_index": []},
    {"code": "daily_quiz", "title": "答题", "daily_cap": 2, "by_outcome": {"full": -2}},
    {"code": "daily_quiz", "title": "答题", "daily_cap": 2, "by_threshold": 5},
    {"code": "daily_quiz", "title": "答题", "daily_cap": 2, "by_threshold": [[0, 1]]},
    {"code": "login", "title": "登录", "points": 1, "daily_cap": 1, "unit_size": 0},
]  # fmt: skip


@pytest.mark.parametrize("rule", BAD_RULES)
def test_every_refusal_of_the_engine_reads_in_chinese(rule):
    data = {"ruleset": {"code": "c", "effective_from": "2030-01-01"}, "rules": [rule]}
    with pytest.raises(scoring.RuleSetInvalid) as refused:
        scoring.parse(data)
    problem = ruleset_forms.explain(refused.value, set_code="c")
    assert not problem.message.startswith("规则数据有误"), str(refused.value)
    assert not any(word in problem.message for word in ("must", "unknown", "needs")), (
        problem.message
    )


def test_the_engine_refusals_of_a_whole_set_read_in_chinese():
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ruleset": {"code": "c", "effective_from": "2030-01-01"}, "rules": []}, "至少要有"),
        (
            {"ruleset": {"code": "c", "effective_from": "2030-01-01"}, "caps": {"g": 0},
             "rules": [{"code": "login", "title": "登录", "points": 1, "daily_cap": 1}]},
            "共享上限组 g 的上限必须是正整数",
        ),
    ]  # fmt: skip
    for data, message in cases:
        with pytest.raises(scoring.RuleSetInvalid) as refused:
            scoring.parse(data)
        assert message in ruleset_forms.explain(refused.value, set_code="c").message


def test_an_unknown_engine_message_is_still_shown_after_a_chinese_lead():
    assert ruleset_forms.explain("something new").message == "规则数据有误：something new"


def test_the_json_text_has_one_rule_per_line_and_reads_back():
    data = ruleset_forms.editable_data(TEST_RULES)
    text = ruleset_forms.data_json(data)
    assert text.count("\n") == len(data["rules"]) + 5
    assert json.loads(text) == data
    assert json.loads(ruleset_forms.data_json({"caps": {}, "rules": []})) == {
        "caps": {},
        "rules": [],
    }
