"""A member's reading journey in the browser, at phone (375×812) and PC (1440×900) size.

Signs in, reads the home (焦点, the tabs, 加载更多), opens 本地 (paid once a day), reads an
article until its learning session is valid and sees the points in the top bar, favourites and
shares it, subscribes to its 强国号, plays a video (muted) to a valid session, searches with
suggestions as he types, and finds it all again under 我的. A visitor then opens the share link
without signing in. Screenshots: ``test-artifacts/screenshots/reader-<width>-<step>.png``.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from xuexi.accounts.models import User
from xuexi.content import demo, views
from xuexi.content.models import (
    Account,
    AccountKind,
    Channel,
    ChannelKind,
    Column,
    Item,
    ItemKind,
    ItemStatus,
    Share,
)
from xuexi.content.sanitize import body_text, sanitize_body
from xuexi.content.search import segment
from xuexi.organizations.models import Organization
from xuexi.organizations.services import membership_place
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.services import rulesets_install_default
from xuexi.web.tests.test_browser_journeys import (  # the journeys' browser and visit fixtures
    PASSWORD,
    SCREENSHOTS,
    _allow_database_calls_beside_playwright,
    browser,
    visit,
)

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["_allow_database_calls_beside_playwright", "browser", "visit"]

BOTH_SIZES = pytest.mark.parametrize("size", ["phone", "pc"])
WIDTHS = {"phone": 375, "pc": 1440}
PHONES = {"phone": "13500135101", "pc": "13500135102"}
DEMO_VIDEO = Path(demo.MEDIA_DIR) / "demo-video.mp4"

BODY = (
    "<p>{place}坚持把学习贯彻党的创新理论作为首要任务，组织党员干部原原本本学、联系实际学。</p>"
    "<h2>学在经常 用在日常</h2>"
    "<p>各支部用好“三会一课”和主题党日，把集中学习与个人自学结合起来，"
    "今年以来开展专题学习{n}次，参学率保持在95%以上。</p>"
    "<blockquote><p>“学习平台上的文章短小精悍，每天学一点，收获很大。”</p>"
    "<p>——党员王建国</p></blockquote>"
    "<p>下一步，{place}将继续推动理论学习往深里走、往实里走，让学习成果转化为推动发展的实际成效。</p>"
)


@pytest.fixture(autouse=True)
def _quick_sessions(settings: Any) -> None:
    """A valid session after 3 s of verified time, beating every second (docs/configuration.md,
    "Learning sessions"), so that the journey reads and watches for seconds, not minutes."""
    settings.LEARNING_MIN_SECONDS = 3
    settings.LEARNING_MEDIA_MIN_SECONDS = 3
    settings.LEARNING_HEARTBEAT_SECONDS = 1
    settings.LEARNING_HEARTBEAT_TOLERANCE = 1


# --- the content ---------------------------------------------------------------------------------


def _cover(slug: str, text: str, colours: tuple[str, str], variant: int = 0) -> str:
    return default_storage.save(
        f"covers/journey/{slug}-{variant}.jpg",
        ContentFile(demo.picture(text, colours, variant=variant, label="学习平台")),
    )


def _publish(
    column: Column,
    title: str,
    *,
    hours_ago: float,
    account: Account | None = None,
    cover: str = "",
    kind: str = ItemKind.ARTICLE,
    **fields: Any,
) -> Item:
    body = sanitize_body(BODY.format(place=title[:3], n=int(hours_ago) % 9 + 3))
    return Item.objects.create(
        kind=kind,
        column=column,
        account=account,
        title=title,
        body=body,
        summary=body_text(body)[:120],
        source=fields.pop("source", "示范日报"),
        author=fields.pop("author", "李明"),
        cover=cover,
        status=ItemStatus.PUBLISHED,
        published_at=timezone.now() - dt.timedelta(hours=hours_ago),
        search_text=segment(title, body_text(body)),
        read_count=int(1000 / (hours_ago + 1)),
        **fields,
    )


def _content() -> dict[str, Any]:
    """A national channel with four columns, the province's local channel, a 强国号 and about
    forty items (the news column has more than a page)."""
    root = Organization.objects.add_root({"name": "全国学习平台", "kind": "platform", "code": "RJ"})
    province = Organization.objects.add_child(
        root, {"name": "示范省", "kind": "province", "code": "RJ-P"}
    )
    province = Organization.objects.get(pk=province.pk)
    branch = Organization.objects.add_child(
        province, {"name": "机关第一党支部", "kind": "branch", "code": "RJ-P-B"}
    )
    national = Channel.objects.create(kind=ChannelKind.NATIONAL, name="全国", platform=root)
    local = Channel.objects.create(kind=ChannelKind.LOCAL, name="示范省", platform=province)
    news = Column.objects.create(channel=national, name="重要新闻", slug="news", position=0)
    theory = Column.objects.create(channel=national, name="学习理论", slug="theory", position=1)
    rural = Column.objects.create(channel=national, name="乡村振兴", slug="rural", position=2)
    video = Column.objects.create(channel=national, name="视听学习", slug="video", position=3)
    local_news = Column.objects.create(channel=local, name="本地要闻", slug="local-news")
    account = Account.objects.create(
        kind=AccountKind.INSTITUTION,
        name="示范省委宣传部",
        organization=province,
        intro="传播党的声音，讲好示范故事。",
        avatar=default_storage.save(
            "accounts/journey/1.jpg",
            ContentFile(demo.picture("宣传", ("#c8161d", "#ef5350"), size=(160, 160))),
        ),
    )
    news_covers = [_cover("news", "重要新闻", ("#b71c1c", "#e53935"), v) for v in (0, 1)]
    theory_cover = _cover("theory", "学习理论", ("#8e1b1b", "#c62828"))
    rural_cover = _cover("rural", "乡村振兴", ("#2e7d32", "#9ccc65"))
    local_cover = _cover("local", "本地要闻", ("#c8161d", "#ef5350"))
    video_cover = _cover("video", "视听学习", ("#4a148c", "#ab47bc"))

    article = _publish(
        theory,
        "学思用贯通 知信行统一",
        hours_ago=2,
        account=account,
        cover=theory_cover,
        recommended=True,
        featured=True,
    )
    _publish(rural, "乡村振兴看松涛县｜李家村变了样", hours_ago=3, cover=rural_cover,
             recommended=True, featured=True)  # fmt: skip
    _publish(rural, "小产业带动乡村振兴", hours_ago=5, recommended=True)
    _publish(theory, "青年干部要在学习上下苦功", hours_ago=20, recommended=True,
             cover=theory_cover, account=account)  # fmt: skip
    _publish(theory, "以调查研究破解发展难题", hours_ago=30, recommended=True)
    for number in range(24):
        _publish(
            news,
            f"{['东州市', '西岭市', '南湖市'][number % 3]}推进基层治理现代化（{number + 1}）",
            hours_ago=6 + number * 7,
            cover=news_covers[number % 2] if number % 3 else "",
            recommended=number < 6,
            account=account if number % 4 == 0 else None,
        )
    for number in range(4):
        _publish(local_news, f"示范省本地要闻第{number + 1}则", hours_ago=4 + number * 9,
                 cover=local_cover)  # fmt: skip
    clip = default_storage.save("media/journey/clip.mp4", ContentFile(DEMO_VIDEO.read_bytes()))
    movie = _publish(
        video,
        "微视频｜周末的园林社区，来了一群大学生志愿者",
        hours_ago=1,
        kind=ItemKind.VIDEO,
        cover=video_cover,
        poster=video_cover,
        media=clip,
        media_type="video/mp4",
        duration=24,
        recommended=True,
    )
    return {"branch": branch, "article": article, "video": movie, "account": account}


def _files_from_storage(page: Any) -> None:
    """On SQLite, the browser gets the pictures and the video from here, not from the server.

    The in-memory test database is one connection that the live server's threads share, and
    every request of a signed-in browser saves its session: a page's pictures loading in
    parallel (or the video beside the learning heartbeats) then collide ("database table is
    locked"). Each file is answered as ``xuexi.content.views.serve_file`` answers it — ranges
    included — and the files themselves are exercised against the server in
    ``xuexi/content/tests/test_reader_pages.py``. On PostgreSQL the browser asks the server.
    """
    if connection.vendor != "sqlite":
        return
    files: dict[str, tuple[bytes, str]] = {}

    def add(url: str, field: Any, content_type: str = "") -> None:
        if field:
            with default_storage.open(field.name, "rb") as stored:
                data = stored.read()
            files[url] = (data, content_type or mimetypes.guess_type(field.name)[0] or "")

    for item in Item.objects.all():
        add(reverse("content:item_cover", args=[item.pk]), item.cover)
        add(reverse("content:item_poster", args=[item.pk]), item.poster or item.cover)
        add(reverse("content:item_media", args=[item.pk]), item.media, item.media_type)
    for account in Account.objects.all():
        add(reverse("content:account_avatar", args=[account.pk]), account.avatar)

    def answer(route: Any) -> None:
        found = files.get(urlsplit(route.request.url).path)
        if found is None:
            route.continue_()
            return
        data, content_type = found
        headers = {"Content-Type": content_type, "Accept-Ranges": "bytes"}
        wanted = views.byte_range(route.request.headers.get("range", ""), len(data))
        if wanted is None:
            route.fulfill(status=200, headers=headers, body=data)
            return
        first, last = wanted
        headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
        route.fulfill(status=206, headers=headers, body=data[first : last + 1])

    page.context.route(
        re.compile(r"/(items/\d+/(cover|poster|media)|accounts/\d+/avatar)$"), answer
    )


def _until(page: Any, script: str, seconds: float = 10) -> None:
    """Wait until ``script`` (a function) is true in the page. Not ``wait_for_function``: it
    evaluates its predicate with ``eval``, which the CSP (script-src 'self') refuses."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {script}"
        page.wait_for_timeout(100)


def _shot(v: Any, step: str) -> None:
    """A full-page screenshot once every lazy picture has loaded, and no sideways scrolling."""
    page = v.page
    height = page.evaluate("() => document.documentElement.scrollHeight")
    for top in range(0, height, 600):  # as a reader scrolls: lazy pictures load on the way
        page.evaluate(f"() => window.scrollTo(0, {top})")
        page.wait_for_timeout(50)
    _until(
        page,
        "() => Array.from(document.images)"
        ".every(image => image.complete || !image.getClientRects().length)",
    )
    page.evaluate("() => window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"reader-{WIDTHS[v.size]}-{step}.png"), full_page=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{step}: the page scrolls sideways by {overflow}px"


def _chip(page: Any) -> Any:
    return page.locator(".points-chip-value")


# --- the journey ---------------------------------------------------------------------------------


@BOTH_SIZES
def test_a_member_reads_watches_subscribes_searches_and_keeps(visit: Any, size: str) -> None:
    if not RuleSet.objects.exists():
        rulesets_install_default()
    assert RuleSet.objects.get().code == "2021"  # local_channel, subscribe, share pay 1 each
    cast = _content()
    member = User.objects.create_user(phone=PHONES[size], real_name="杨丽娟", password=PASSWORD)
    membership_place(user=member, organization=cast["branch"])
    v = visit("reader", size)
    page = v.page
    _files_from_storage(page)

    # Signing in lands on 学习: the greeting, 焦点 and the 推荐 feed.
    v.goto(reverse("accounts:login") + "?next=/")
    page.get_by_label("手机号").fill(PHONES[size])
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", name="杨丽娟，您好")).to_be_visible()
    tabs = page.get_by_role("navigation", name="栏目")
    expect(tabs.get_by_role("link", name="推荐")).to_have_attribute("aria-current", "page")
    expect(page.locator(".rd-focus-title")).to_have_text("学思用贯通 知信行统一")
    expect(_chip(page)).to_have_text("1/63")  # the day's login
    if size == "phone":
        box = tabs.get_by_role("link", name="推荐").bounding_box()
        assert box is not None
        assert box["height"] >= 44, box
    _shot(v, "01-home")

    # A column's tab, and 加载更多 appending the next page in place.
    tabs.get_by_role("link", name="重要新闻").click()
    expect(page).to_have_url(re.compile(r"\?tab=news$"))
    cards = page.locator(".rd-feed .rd-card")
    expect(cards).to_have_count(20)
    page.get_by_role("link", name="加载更多").click()
    expect(cards).to_have_count(24)
    expect(page).to_have_url(re.compile(r"\?tab=news$"))  # appended, not a new page
    expect(page.get_by_text("没有更多了")).to_be_visible()
    _shot(v, "02-tab-news-more")

    # 本地: the member's local channel; the day's first visit pays.
    tabs.get_by_role("link", name="本地").click()
    expect(page).to_have_url(re.compile(r"/local/$"))
    expect(page.get_by_text("示范省 · 本地频道")).to_be_visible()
    expect(page.get_by_text("浏览本地频道 积分 +1")).to_be_visible()
    expect(_chip(page)).to_have_text("2/63")
    _shot(v, "03-local")
    page.reload()
    expect(page.get_by_text("浏览本地频道 积分 +1")).to_have_count(0)
    assert LedgerEntry.objects.filter(member=member, rule="local_channel").count() == 1

    # An article, read to a valid session: the points show at once in the top bar.
    tabs.get_by_role("link", name="学习理论").click()
    page.get_by_role("link", name=re.compile("学思用贯通 知信行统一")).first.click()
    expect(page.get_by_role("heading", name="学思用贯通 知信行统一")).to_be_visible()
    expect(page.locator(".rd-learn-hint")).to_have_text("继续阅读即可获得积分")
    status = page.locator("[data-learning-status]")
    expect(status).to_have_text("本次学习有效，获得 1 分。", timeout=20_000)
    expect(_chip(page)).to_have_text("3/63")
    _shot(v, "04-article-valid")

    # 收藏 and 分享 on the page, without leaving it.
    favourite = page.get_by_role("button", name="收藏")
    favourite.click()
    expect(page.get_by_role("button", name="已收藏")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".rd-toast")).to_have_text("已收藏")
    page.get_by_role("button", name="分享").click()
    share_url = page.get_by_label("分享链接")
    expect(share_url).to_have_value(re.compile(r"/s/[\w-]+/$"))
    expect(page.get_by_role("button", name="复制链接")).to_be_visible()
    if size == "pc":
        expect(page.get_by_role("img", name="分享链接的二维码")).to_be_visible()
    expect(page.locator(".rd-toast")).to_have_text("分享链接已生成，积分 +1")
    expect(_chip(page)).to_have_text("4/63")
    shared = share_url.input_value()
    _shot(v, "05-favourite-share")

    # The 强国号 under the article: 订阅 pays once.
    account_card = page.locator(".rd-account-card")
    account_card.get_by_role("button", name="订阅").click()
    expect(account_card.get_by_role("button", name="已订阅")).to_be_visible()
    expect(account_card).to_contain_text("1 人订阅")
    expect(page.locator(".rd-toast")).to_have_text("订阅成功，积分 +1")
    expect(_chip(page)).to_have_text("5/63")
    _shot(v, "06-subscribed")
    account_card.get_by_role("link", name="示范省委宣传部").click()
    expect(page.get_by_role("heading", name="示范省委宣传部")).to_be_visible()
    expect(page.get_by_text("1 人订阅")).to_be_visible()
    _shot(v, "07-account")

    # 视频: the grid, then a video played (muted) to a valid session.
    v.main_nav_link("视频").click()
    expect(
        page.get_by_role("navigation", name="视听学习").get_by_role("link", name="视频")
    ).to_have_attribute("aria-current", "page")
    _shot(v, "08-videos")
    page.get_by_role("link", name=re.compile("周末的园林社区")).click()
    player = page.locator("video")
    expect(player).to_be_visible()
    expect(page.locator(".rd-learn-hint")).to_have_text("继续观看即可获得积分")
    player.evaluate("video => { video.muted = true; return video.play(); }")
    _until(page, "() => document.querySelector('video').currentTime > 1", seconds=15)
    expect(page.locator("[data-learning-status]")).to_have_text(
        "本次学习有效，获得 1 分。", timeout=20_000
    )
    _shot(v, "09-video-valid")

    # 搜索 from the top bar: suggestions while typing, one opened; then the results page.
    page.get_by_role("link", name="搜索").first.click()
    expect(page).to_have_url(re.compile(r"/search/$"))
    box = page.get_by_role("combobox", name="搜索内容")
    box.press_sequentially("乡村振", delay=180)
    suggestions = page.get_by_role("listbox", name="搜索建议")
    expect(suggestions).to_be_visible()
    expect(suggestions.get_by_role("option").first).to_contain_text("乡村振兴")
    expect(suggestions.locator("mark").first).to_have_text("乡村振")
    _shot(v, "10-suggestions")
    box.press("ArrowDown")
    expect(suggestions.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    suggestions.get_by_role("option", name=re.compile("李家村变了样")).click()
    expect(page.get_by_role("heading", name="乡村振兴看松涛县｜李家村变了样")).to_be_visible()
    expect(page.locator("[data-learning-text]")).to_contain_text("已学习")  # session started
    page.go_back()
    box = page.get_by_role("combobox", name="搜索内容")
    box.fill("乡村振兴")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q="))
    expect(page.get_by_role("heading", name="“乡村振兴”的搜索结果")).to_be_visible()
    expect(page.locator(".rd-hits mark").first).to_have_text("乡村振兴")
    _shot(v, "11-search-results")
    box = page.get_by_role("combobox", name="搜索内容")
    box.fill("航天发射")
    box.press("Enter")
    expect(page.get_by_text("没有找到与“航天发射”相关的内容")).to_be_visible()

    # 我的: 我的收藏, 学习记录, 我的订阅.
    v.main_nav_link("我的").click()
    page.get_by_role("link", name="我的收藏").click()
    expect(page.locator(".rd-card-title")).to_have_text(["学思用贯通 知信行统一"])
    _shot(v, "12-favourites")
    page.go_back()
    page.get_by_role("link", name="学习记录").click()
    expect(page.locator(".rd-card-title")).to_have_text(
        ["乡村振兴看松涛县｜李家村变了样", "微视频｜周末的园林社区，来了一群大学生志愿者",
         "学思用贯通 知信行统一"]
    )  # fmt: skip
    _shot(v, "13-history")
    page.go_back()
    page.get_by_role("link", name="我的订阅").click()
    expect(page.locator(".rd-accounts-card").first).to_contain_text("示范省委宣传部")
    expect(page.locator(".rd-list-card .rd-card").first).to_be_visible()
    _shot(v, "14-subscriptions")

    paid = dict(
        LedgerEntry.objects.filter(member=member).values_list("rule", "points").order_by("rule")
    )
    assert paid == {
        "chosen_reading": 1,
        "local_channel": 1,
        "login": 1,
        "share": 1,
        "subscribe": 1,
        "watch_video": 1,
    }

    # The share link opens without signing in: no session, no points, a way in.
    stranger = visit("reader-share", size)
    _files_from_storage(stranger.page)
    stranger.page.goto(shared)
    expect(stranger.page.get_by_role("heading", name="学思用贯通 知信行统一")).to_be_visible()
    expect(stranger.page.get_by_text("有人与您分享了这篇学习内容")).to_be_visible()
    expect(stranger.page.get_by_role("link", name="打开学习平台")).to_be_visible()
    expect(stranger.page.locator("[data-learning-item]")).to_have_count(0)
    _shot(stranger, "15-share-page")
    assert Share.objects.get(member=member).visits == 1
