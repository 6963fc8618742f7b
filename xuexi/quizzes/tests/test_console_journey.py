"""An operator's journey through the quiz console, at phone and PC size (Playwright).

A platform operator signs in and opens 答题 › 题库 from the console's menu. He writes a
fill-in question (the form shows only the blanks part once 填空题 is chosen), tries a
single-choice one without an answer (the reason stands beside the options), edits his fill-in
question into a second version, imports a file of four questions (one wrong first: the preview
names the row; then the corrected file, confirmed), and builds a special paper by searching,
ticking and drawing questions at random, then publishes it.

Screenshots go to ``test-artifacts/screenshots/quiz-console-<375|1440>-<NN>-<step>.png``; no page
may scroll sideways and no page may log a script or CSP error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from xuexi.accounts.models import User
from xuexi.organizations.models import Organization, Role
from xuexi.organizations.services import role_grant
from xuexi.quizzes.models import Category, Paper, Question, QuestionType
from xuexi.quizzes.tests.factories import bank
from xuexi.quizzes.tests.test_excel import GOOD_ROWS, xlsx
from xuexi.web.tests.test_browser_journeys import BOTH_SIZES, PASSWORD, expect, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["visit"]  # the fixture, shared by name

OPERATOR_PHONE = {"phone": "13300133001", "pc": "13300133002"}


def _world(size: str) -> User:
    root = Organization.objects.add_root(
        {"name": "全国学习平台", "kind": "platform", "code": "QJ" + size[:2].upper()}
    )
    bank(16)  # 理论学习 and 党史, every type
    operator = User.objects.create_user(
        phone=OPERATOR_PHONE[size], real_name="王运营", password=PASSWORD
    )
    role_grant(user=operator, organization=root, role=Role.OPERATOR, granted_by=None)
    return operator


@BOTH_SIZES
def test_an_operator_writes_imports_and_publishes_a_special_paper(
    visit: Any, size: str, tmp_path: Path
) -> None:
    _world(size)
    v = visit("quiz-console", size)
    page = v.page

    v.sign_in(OPERATOR_PHONE[size], "王运营")
    v.goto(reverse("console:index"))
    menu = page.get_by_role("navigation", name="管理菜单")
    menu.get_by_role("link", name="题库", exact=True).click()
    expect(page.get_by_role("heading", name="题库", level=1)).to_be_visible()
    expect(page.get_by_text("共 16 道")).to_be_visible()
    v.shot_from_top("01-bank")

    # A fill-in question: choosing 填空题 leaves only the blanks part on the form.
    page.get_by_role("link", name="新建题目").click()
    page.locator("label.segmented-option", has_text="填空题").click()
    expect(page.get_by_label("各空答案")).to_be_visible()
    expect(page.get_by_label("选项A", exact=True)).to_be_hidden()
    page.get_by_label("分类").select_option(label="理论学习")
    page.get_by_label("题干").fill("坚持____发展理念，推动____发展。")
    page.get_by_label("各空答案").fill("新\n高质量|高品质")
    page.get_by_label("解析").fill("完整、准确、全面贯彻新发展理念，推动高质量发展。")
    v.shot_from_top("02-new-fill")
    page.get_by_role("button", name="保存并启用").click()
    expect(page.get_by_text(re.compile(r"已新建题目 \d+ 并启用。"))).to_be_visible()
    fill = Question.objects.get(type=QuestionType.FILL, current__stem__startswith="坚持")
    assert fill.current is not None
    assert fill.current.answer == [["新"], ["高质量", "高品质"]]

    # A single-choice question without a right option: the reason stands by the options.
    v.goto(reverse("console:quizzes_question_create"))
    page.get_by_label("分类").select_option(label="党史")
    page.get_by_label("题干").fill("中国共产党第一次全国代表大会在哪里召开？")
    page.get_by_label("选项A", exact=True).fill("上海")
    page.get_by_label("选项B", exact=True).fill("北京")
    page.get_by_role("button", name="保存并启用").click()
    expect(page.get_by_text("请勾选正确的选项。")).to_be_visible()
    expect(page.get_by_label("选项A", exact=True)).to_have_value("上海")
    v.shot_from_top("03-answer-missing")

    # Editing the fill-in question makes version 2.
    v.goto(reverse("console:quizzes_question_edit", args=[fill.pk]))
    page.get_by_label("题干").fill("完整、准确、全面贯彻____发展理念，推动____发展。")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_text("已保存，生成第 2 版")).to_be_visible()
    expect(page.locator(".bank-version")).to_have_count(2)
    v.shot_from_top("04-second-version")

    # An import: a wrong row is named in the preview; the corrected file goes in.
    menu = page.get_by_role("navigation", name="管理菜单")
    menu.get_by_role("link", name="导入导出").click()
    wrong = tmp_path / "新题.xlsx"
    rows = [dict(row, stem=f"{row['stem']}（导入）") for row in GOOD_ROWS]
    wrong.write_bytes(xlsx([*rows[:3], {**rows[3], "answer": ""}]))
    page.get_by_label("题目文件", exact=True).set_input_files(str(wrong))
    page.get_by_role("button", name="上传并检查").click()
    expect(page.get_by_role("heading", name="导入预览", level=1)).to_be_visible()
    expect(page.get_by_text("请为每个空填写答案")).to_be_visible()
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    v.shot_from_top("05-preview-error")
    right = tmp_path / "新题-改.xlsx"
    right.write_bytes(xlsx(rows))
    page.get_by_role("link", name="重新上传").click()
    page.get_by_label("题目文件", exact=True).set_input_files(str(right))
    page.get_by_role("button", name="上传并检查").click()
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_text("导入完成：新增 4 道，修改 0 道，未变 0 道。")).to_be_visible()
    assert Question.objects.filter(current__stem__endswith="（导入）").count() == 4
    v.shot_from_top("06-imported")

    # A special paper: search and tick two questions, draw eight more, publish.
    v.goto(reverse("console:quizzes_specials"))
    page.get_by_role("link", name="新建专项答题").click()
    page.get_by_label("名称").fill("贯彻新发展理念专项答题")
    page.get_by_placeholder("按题干查找已启用的题目").fill("新发展理念")
    page.get_by_role("button", name="查找", exact=True).click()
    picks = page.locator(".bank-picker-list input[type=checkbox]")
    picks.nth(0).check()
    picks.nth(1).check()
    page.get_by_role("button", name="加入所选").click()
    expect(page.locator(".bank-chosen-item")).to_have_count(2)
    expect(page.get_by_label("名称")).to_have_value("贯彻新发展理念专项答题")
    page.locator("#pick-category").select_option(label="全部分类")
    page.get_by_placeholder("按题干查找已启用的题目").fill("")
    page.get_by_label("随机抽取").select_option("8")
    page.get_by_role("button", name="抽取", exact=True).click()
    expect(page.locator(".bank-chosen-item")).to_have_count(10)
    v.shot_from_top("07-paper-form")
    page.get_by_role("button", name="保存并发布").click()
    expect(page.get_by_text("已保存并发布「贯彻新发展理念专项答题」。")).to_be_visible()
    row = page.locator(".bank-paper-table tbody tr", has_text="贯彻新发展理念专项答题")
    expect(row.locator(".badge")).to_have_text("进行中")
    v.shot_from_top("08-papers")
    paper = Paper.objects.get(title="贯彻新发展理念专项答题")
    assert (paper.is_published, paper.slots.count(), paper.time_limit) == (True, 10, 600)
    assert Category.objects.count() == 2
