"""An editor's content journey in the console, at phone and PC size (Playwright).

A national editor — an editing role on the root, no administrative role — signs in and opens
the console, which sends him to 内容管理. He tries to publish an empty form (the errors stand
next to their fields), writes an article, uploads a picture into its body, picks a cover,
publishes it and reads the stored, sanitised body; back on the list he recommends the article
and makes it a home-page focus (首页焦点), and glances at a video's form. In 栏目管理 he
creates a column in the dialog, moves it up and renames it; in 强国号 he opens one for a
provincial office and edits it.

Screenshots go to ``test-artifacts/screenshots/content-console-<375|1440>-<NN>-<step>.png``.
Uploaded pictures are served from the test's media folder by the URL configuration below
(Django serves no media outside DEBUG; production has the web server do it).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import include, path, re_path, reverse
from django.views.static import serve
from PIL import Image, ImageDraw

from xuexi.accounts.models import User
from xuexi.content.models import (
    Account,
    AccountKind,
    Channel,
    ChannelKind,
    Column,
    Item,
    ItemStatus,
)
from xuexi.content.sanitize import sanitize_body
from xuexi.core.time import now
from xuexi.organizations.models import Organization, Role
from xuexi.organizations.services import role_grant
from xuexi.web.tests.test_browser_journeys import BOTH_SIZES, PASSWORD, expect, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["visit"]  # the fixture, shared by name

EDITOR_PHONE = {"phone": "13200132001", "pc": "13200132002"}
TITLE = "村里的合作社开起来了"


def _media(request: HttpRequest, path: str) -> HttpResponseBase:
    return serve(request, path, document_root=str(django_settings.MEDIA_ROOT))


# This module is also the URL configuration of its tests: the site plus /media/.
urlpatterns = [
    re_path(r"^media/(?P<path>.*)$", _media),
    path("", include("config.urls")),
]


@pytest.fixture(autouse=True)
def _serve_media(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__


def _picture(folder: Path, name: str, size: tuple[int, int], colours: tuple[str, str]) -> Path:
    """A picture with a soft gradient and a few shapes (what an editor might upload)."""
    image = Image.new("RGB", size, colours[0])
    draw = ImageDraw.Draw(image)
    width, height = size
    top, bottom = Image.new("RGB", (1, 1), colours[0]), Image.new("RGB", (1, 1), colours[1])
    a, b = top.getpixel((0, 0)), bottom.getpixel((0, 0))
    assert isinstance(a, tuple)
    assert isinstance(b, tuple)
    for y in range(height):
        share = y / max(1, height - 1)
        colour = tuple(round(a[i] + (b[i] - a[i]) * share) for i in range(3))
        draw.line([(0, y), (width, y)], fill=colour)
    draw.rectangle([width * 0.1, height * 0.55, width * 0.9, height * 0.85], fill="#f7e7c6")
    draw.polygon(
        [(width * 0.1, height * 0.55), (width * 0.5, height * 0.3), (width * 0.9, height * 0.55)],
        fill="#c8161d",
    )
    draw.ellipse([width * 0.72, height * 0.08, width * 0.86, height * 0.08 + width * 0.14],
                 fill="#ffd666")  # fmt: skip
    target = folder / name
    image.save(target, "JPEG", quality=85)
    return target


def _world(size: str) -> dict[str, Any]:
    """The national platform and 示范省 with their channels and columns, a 强国号, a few items
    in several states, and the editor."""
    p = "CC" + size[:2].upper()
    root = Organization.objects.add_root({"name": "全国学习平台", "kind": "platform", "code": p})
    root = Organization.objects.get(pk=root.pk)
    province = Organization.objects.add_child(
        root, {"name": "示范省", "kind": "province", "code": f"{p}-1"}
    )
    national = Channel.objects.create(kind=ChannelKind.NATIONAL, name="全国频道", platform=root)
    local = Channel.objects.create(kind=ChannelKind.LOCAL, name="示范省", platform=province)
    news = Column.objects.create(channel=national, name="重要新闻", slug="news", position=0)
    theory = Column.objects.create(channel=national, name="学习理论", slug="theory", position=1)
    Column.objects.create(
        channel=national, parent=theory, name="理论文章", slug="theory-articles", position=0
    )
    Column.objects.create(channel=national, name="乡村振兴", slug="rural", position=2)
    local_news = Column.objects.create(channel=local, name="本地要闻", slug="local", position=0)
    account = Account.objects.create(
        kind=AccountKind.INSTITUTION,
        name="示范省委宣传部",
        organization=province,
        intro="发布全省宣传思想文化工作动态",
        subscriber_count=1280,
    )
    moment = now()
    rows: list[tuple[str, Column, str, int | None, dict[str, Any]]] = [
        ("全国两会特别报道：代表委员热议高质量发展", news, "published", -3, {"read_count": 5621}),
        ("深入学习贯彻党的创新理论", theory, "published", -2,
         {"recommended": True, "read_count": 2380}),
        ("示范省秋粮收购进度过半", local_news, "published", -1,
         {"account": account, "read_count": 734}),
        ("明日上线：红色家书诵读", local_news, "published", 20, {}),
        ("基层治理的新探索（草稿）", news, "draft", None, {}),
    ]  # fmt: skip
    for title, column, status, when, extra in rows:
        Item.objects.create(
            kind="article",
            column=column,
            title=title,
            body=sanitize_body("<p>示例正文。</p>"),
            status=status,
            published_at=moment + dt.timedelta(hours=when) if when is not None else None,
            created_at=moment + dt.timedelta(minutes=len(title)) - dt.timedelta(days=1),
            **extra,
        )
    editor = User.objects.create_user(
        phone=EDITOR_PHONE[size], real_name="王编辑", password=PASSWORD
    )
    role_grant(user=editor, organization=root, role=Role.EDITOR, granted_by=None)
    return {"root": root, "province": province, "national": national, "account": account}


@BOTH_SIZES
def test_an_editor_writes_publishes_and_features_an_article(
    visit: Any, size: str, tmp_path: Path
) -> None:
    world = _world(size)
    body_picture = _picture(tmp_path, "co-op.jpg", (960, 540), ("#fde9d9", "#f3b8a0"))
    cover = _picture(tmp_path, "cover.jpg", (640, 360), ("#e3f0ff", "#a9c8f0"))
    v = visit("content-console", size)
    page = v.page

    # Sign in; the console sends an editor who is no administrator to 内容管理.
    v.sign_in(EDITOR_PHONE[size], "王编辑")
    v.goto(reverse("console:index"))
    expect(page).to_have_url(re.compile(r"/console/content/$"))
    expect(page.get_by_role("heading", name="内容管理", level=1)).to_be_visible()
    menu = page.get_by_role("navigation", name="管理菜单")
    expect(menu.get_by_role("link")).to_have_text(["内容管理", "栏目管理", "强国号"])
    expect(menu.get_by_role("link", name="内容管理")).to_have_attribute("aria-current", "page")
    rows = page.locator(".content-table tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.filter(has_text="明日上线").locator(".badge")).to_have_text("定时")
    expect(rows.filter(has_text="基层治理").locator(".badge")).to_have_text("草稿")
    v.shot_from_top("01-items")

    # The filters: the scheduled ones.
    page.get_by_label("状态").select_option(label="定时")
    page.get_by_role("button", name="查询").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_text("共 1 条")).to_be_visible()
    v.shot_from_top("02-items-scheduled")
    page.get_by_role("link", name="重置").click()

    # A new article: publishing an empty form says what is missing, next to each field.
    page.get_by_role("link", name="新建内容").click()
    expect(page.get_by_role("heading", name="新建内容", level=1)).to_be_visible()
    expect(page.get_by_label("文章")).to_be_checked()
    v.shot_from_top("03-new-form")
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.locator("#id_title_error")).to_have_text("请填写标题。")
    expect(page.locator("#id_column_error")).to_have_text("请选择栏目。")
    v.shot_from_top("04-form-errors")

    # Fill it in, and upload a picture into the body (the form stays as typed).
    page.get_by_label("栏目").select_option(label="乡村振兴")
    page.get_by_label("发布号（强国号）").select_option(label="示范省委宣传部")
    page.get_by_label("标题", exact=True).fill(TITLE)
    page.get_by_label("来源").fill("示范省委宣传部")
    page.get_by_label("作者").fill("记者 李明")
    page.get_by_label("标签").fill("乡村振兴，合作社")
    page.get_by_label("正文（HTML）").fill(
        "<h2>从“单打独斗”到“抱团发展”</h2>\n"
        "<p>清晨六点，东湖村的合作社仓库已经忙碌起来。去年，村里 <strong>126 户</strong>"
        "农户入社，统一购种、统一销售。</p>\n"
        "<blockquote>“以前卖粮看天，现在心里有底。”——社员老陈</blockquote>\n"
        "<ul><li>入社农户：126 户</li><li>户均增收：4300 元</li></ul>\n"
        '<p onclick="alert(1)">下一步，合作社计划建设冷库。<script>alert(2)</script></p>'
    )
    page.get_by_label("正文图片").set_input_files(str(body_picture))
    page.get_by_role("button", name="上传并插入正文").click()
    expect(page.get_by_text("图片已上传，并插入到正文末尾")).to_be_visible()
    expect(page.get_by_label("标题", exact=True)).to_have_value(TITLE)
    expect(page.get_by_label("正文（HTML）")).to_have_value(
        re.compile(r'<p><img src="/media/body/\d{4}/\d{2}/[0-9a-f]+\.jpg" alt=""></p>$')
    )
    v.shot_from_top("05-body-image-uploaded")

    # The cover is chosen again (files never survive a round trip), then publish.
    page.get_by_label("封面图片").set_input_files(str(cover))
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.get_by_text(f"已保存并发布「{TITLE}」。")).to_be_visible()
    expect(page.get_by_role("heading", name="编辑内容", level=1)).to_be_visible()
    preview = page.locator(".content-preview-body")
    expect(preview.get_by_role("heading", name="从“单打独斗”到“抱团发展”")).to_be_visible()
    expect(preview.locator("img")).to_have_count(1)
    assert preview.locator("img").evaluate("img => img.naturalWidth") == 960  # served
    expect(page.locator(".content-cover-preview")).to_be_visible()
    assert "onclick" not in preview.inner_html()
    assert "script" not in preview.inner_html()
    item = Item.objects.get(title=TITLE)
    assert item.status == ItemStatus.PUBLISHED
    assert item.account == world["account"]
    v.shot_from_top("06-published-preview")

    # Back on the list: recommend it, then make it a home-page focus.
    page.get_by_role("link", name="返回列表").click()
    row = page.locator(".content-table tbody tr", has_text=TITLE)
    expect(row.locator(".badge").first).to_have_text("已发布")
    row.get_by_role("button", name="推荐", exact=True).click()
    expect(page.get_by_text(f"已推荐「{TITLE}」。")).to_be_visible()
    row = page.locator(".content-table tbody tr", has_text=TITLE)
    expect(row.get_by_role("button", name="取消推荐")).to_be_visible()
    v.shot_from_top("07-recommended")
    row.get_by_role("button", name="设为焦点").click()
    expect(page.get_by_text(f"已将「{TITLE}」设为首页焦点。")).to_be_visible()
    row = page.locator(".content-table tbody tr", has_text=TITLE)
    expect(row.locator(".badge")).to_have_text(["已发布", "推荐", "焦点"])
    item.refresh_from_db()
    assert (item.recommended, item.featured) == (True, True)
    v.shot_from_top("08-featured")

    # A video's form: the body gives way to the file and poster, with their limits.
    page.get_by_role("link", name="新建内容").click()
    page.get_by_role("radio", name="视频").check()
    expect(page.get_by_label("正文（HTML）")).to_be_hidden()
    expect(page.get_by_label("音视频文件")).to_be_visible()
    expect(page.get_by_text("视频：MP4，最大 200 MB；音频：MP3 或 M4A，最大 50 MB")).to_be_visible()
    v.shot_from_top("09-video-form")

    # 栏目管理: a new column in the dialog, then moved up one place.
    menu.get_by_role("link", name="栏目管理").click()
    expect(page.get_by_role("heading", name="栏目管理", level=1)).to_be_visible()
    names = page.locator(".column-table tbody .column-name")
    expect(names).to_have_text(["重要新闻", "学习理论", "└理论文章", "乡村振兴"])
    v.shot_from_top("10-columns")
    page.get_by_role("link", name="新建栏目").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="新建栏目")).to_be_visible()
    dialog.get_by_label("栏目名称").fill("学习新语")
    dialog.get_by_label("标识").fill("new-words")
    v.shot_from_top("11-column-dialog", full_page=False)
    dialog.get_by_role("button", name="新建").click()
    expect(page.get_by_text("已新建栏目「学习新语」。")).to_be_visible()
    expect(names).to_have_text(["重要新闻", "学习理论", "└理论文章", "乡村振兴", "学习新语"])
    page.get_by_role("button", name="上移「学习新语」").click()
    expect(page.get_by_text("已将「学习新语」上移。")).to_be_visible()
    expect(names).to_have_text(["重要新闻", "学习理论", "└理论文章", "学习新语", "乡村振兴"])
    v.shot_from_top("12-column-moved")

    # Rename it in the dialog.
    page.get_by_role("link", name="修改「学习新语」").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="修改栏目")).to_be_visible()
    expect(dialog.get_by_label("启用（停用后栏目不再向学员展示，已有内容保留）")).to_be_checked()
    dialog.get_by_label("栏目名称").fill("学习新语录")
    v.shot_from_top("13-column-rename-dialog", full_page=False)
    dialog.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存栏目「学习新语录」。")).to_be_visible()

    # The other channel, as a tab.
    page.get_by_role("navigation", name="频道").get_by_role("link", name="示范省").click()
    expect(names).to_have_text(["本地要闻"])

    # 强国号: the list and the form.
    menu.get_by_role("link", name="强国号").click()
    expect(page.get_by_role("heading", name="强国号", level=1)).to_be_visible()
    expect(page.locator(".account-table tbody tr")).to_have_count(1)
    v.shot_from_top("14-accounts")
    page.get_by_role("link", name="新建强国号").click()
    page.get_by_label("名称").fill("示范省文明办")
    page.get_by_label("主办组织编码").fill(world["province"].code)
    page.get_by_label("简介").fill("新时代文明实践的新鲜事")
    page.get_by_label("头像").set_input_files(str(cover))
    v.shot_from_top("15-account-form")
    page.get_by_role("button", name="新建").click()
    expect(page.get_by_text("已新建强国号「示范省文明办」。")).to_be_visible()
    expect(page.locator(".account-table tbody tr")).to_have_count(2)
    v.shot_from_top("16-accounts-after")
    page.get_by_role("link", name="编辑「示范省文明办」").click()
    expect(page.get_by_role("heading", name="编辑强国号", level=1)).to_be_visible()
    expect(page.get_by_label("主办组织编码")).to_have_value(world["province"].code)
    expect(page.locator(".account-avatar-preview")).to_be_visible()
    v.shot_from_top("17-account-edit")
