"""The reader's pages (issue 5, items 4 and 8): the home feed and its tabs, item pages and their
media, share pages, search, 强国号 pages, 视听学习 and 我的收藏 / 学习记录 / 我的订阅 — who may open
them, what they show, what their forms write and pay, and how many queries they cost."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from xuexi.accounts.models import User
from xuexi.accounts.tests.factories import UserFactory
from xuexi.content import views
from xuexi.content.caching import content_changed
from xuexi.content.models import (
    Account,
    AccountKind,
    Column,
    Favourite,
    Item,
    ItemKind,
    ItemStatus,
    ReadingHistory,
    Share,
    Subscription,
)
from xuexi.content.tests.factories import Site, fresh, make_item, make_site
from xuexi.organizations.models import Organization
from xuexi.organizations.services import membership_place
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.services import rulesets_install_default

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
MEDIA_BYTES = bytes(range(256)) * 40  # 10,240 bytes, each position recognisable


# --- the cast ------------------------------------------------------------------------------------


@pytest.fixture
def rules() -> RuleSet:
    """The default rule set (2021–22): subscribe, share and local_channel pay; favourite does
    not exist."""
    if not RuleSet.objects.exists():
        rulesets_install_default()
    return RuleSet.objects.get()


@pytest.fixture
def site(rules: RuleSet) -> Site:
    return make_site()


def _branch(site: Site) -> Organization:
    return Organization.objects.add_child(
        fresh(site.province), {"name": "机关第一党支部", "kind": "branch", "code": "C-1-1"}
    )


@pytest.fixture
def member(site: Site) -> User:
    user = UserFactory.create(phone="13900000001", real_name="杨丽娟")
    membership_place(user=user, organization=_branch(site))
    return user


@pytest.fixture
def reader(client: Client, member: User) -> Client:
    client.force_login(member)
    client.get("/")  # the day's login point is paid on the first page, not in the counts below
    return client


def _item(
    column: Column,
    title: str,
    *,
    minutes_ago: float = 0,
    kind: str = ItemKind.ARTICLE,
    **fields: Any,
) -> Item:
    item = make_item(column, title=title, kind=kind, **fields)
    Item.objects.filter(pk=item.pk).update(
        published_at=timezone.now() - dt.timedelta(minutes=minutes_ago, seconds=1)
    )
    item.refresh_from_db()
    return item


def _png(name: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 9), "red").save(buffer, "PNG")
    return default_storage.save(name, ContentFile(buffer.getvalue()))


def _video(site: Site, title: str = "视频｜乡村振兴新图景", **fields: Any) -> Item:
    name = default_storage.save("media/test/clip.mp4", ContentFile(MEDIA_BYTES))
    return _item(
        site.column,
        title,
        kind=ItemKind.VIDEO,
        media=name,
        media_type="video/mp4",
        duration=24,
        cover=_png("covers/test/clip.png"),
        **fields,
    )


def _ledger(member: User, rule: str) -> int:
    return LedgerEntry.objects.filter(member=member, rule=rule).count()


def _html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    html: str = response.content.decode()
    assert not INLINE_SCRIPT.search(html), "inline <script> is blocked by script-src 'self'"
    assert not INLINE_HANDLER.search(html), "inline event handlers are blocked by the CSP"
    return html


def _cards(html: str) -> list[str]:
    return re.findall(r'<h3 class="rd-card-title">(.*?)</h3>', html)


def _next(html: str) -> str | None:
    match = re.search(r'href="([^"]+)" data-more-link', html)
    return match.group(1).replace("&amp;", "&") if match else None


# --- who may open what ---------------------------------------------------------------------------


def test_the_public_pages_answer_a_visitor(client: Client, site: Site) -> None:
    article = _item(site.column, "学习贯彻新时代中国特色社会主义思想", account=site.account)
    video = _video(site)
    share = Share.objects.create(item=article)
    for url in [
        "/",
        "/?tab=news",
        "/?tab=local",
        reverse("content:item", args=[article.pk]),
        reverse("content:item", args=[video.pk]),
        reverse("content:account", args=[site.account.pk]),
        reverse("content:share", args=[share.token]),
    ]:
        _html(client.get(url))


def test_the_member_pages_answer_a_member(reader: Client, site: Site) -> None:
    article = _item(site.column, "学习贯彻新时代中国特色社会主义思想", account=site.account)
    video = _video(site)
    _item(site.local_column, "本地要闻一则")
    for url in [
        "/",
        "/?tab=news",
        reverse("content:local"),
        reverse("content:item", args=[article.pk]),
        reverse("content:item", args=[video.pk]),
        reverse("content:account", args=[site.account.pk]),
        reverse("content:search"),
        reverse("content:search") + "?q=学习",
        reverse("content:favourites"),
        reverse("content:history"),
        reverse("content:subscriptions"),
        reverse("web:videos"),
        reverse("web:videos") + "?kind=audio",
        reverse("web:me"),
    ]:
        _html(reader.get(url))


@pytest.mark.parametrize(
    "name", ["content:local", "content:search", "content:favourites", "content:history"]
)
def test_a_visitor_is_sent_to_sign_in_for_a_members_page(
    client: Client, site: Site, name: str
) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_visitor_can_act_on_nothing(client: Client, site: Site) -> None:
    item = _item(site.column, "一篇文章")
    for url in [
        reverse("content:favourite", args=[item.pk]),
        reverse("content:share_create", args=[item.pk]),
        reverse("content:subscribe", args=[site.account.pk]),
    ]:
        response = client.post(url, {"action": "add"})
        assert response.status_code == 302
        assert "/login/" in response["Location"]
    assert client.get(reverse("content:suggest") + "?q=学习").status_code == 401
    assert not Favourite.objects.exists()
    assert not Share.objects.exists()
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("state", ["draft", "withdrawn", "scheduled"])
def test_items_members_may_not_see_are_not_found(reader: Client, site: Site, state: str) -> None:
    item = _video(site, "尚未发布的视频")
    if state == "scheduled":  # published, but its time has not come
        Item.objects.filter(pk=item.pk).update(published_at=timezone.now() + dt.timedelta(days=1))
    else:
        Item.objects.filter(pk=item.pk).update(status=state)
    for name in ("content:item", "content:item_media", "content:item_cover"):
        assert reader.get(reverse(name, args=[item.pk])).status_code == 404, name
    for name in ("content:favourite", "content:share_create"):
        assert reader.post(reverse(name, args=[item.pk]), {"action": "add"}).status_code == 404
    assert "尚未发布的视频" not in reader.get("/").content.decode()
    assert not Favourite.objects.exists()
    assert not Share.objects.exists()


# --- the home feed -------------------------------------------------------------------------------


def test_the_home_has_tabs_for_recommended_each_top_column_and_local(
    client: Client, site: Site
) -> None:
    theory = Column.objects.create(channel=site.national, name="学习理论", slug="theory")
    Column.objects.create(channel=site.national, name="党史故事", slug="stories", parent=theory)
    Column.objects.create(channel=site.national, name="停用栏目", slug="off", is_active=False)
    html = _html(client.get("/"))
    tabs = re.findall(r'<a class="rd-tab[^"]*" href="([^"]*)"[^>]*>(.*?)</a>', html)
    assert [label for _url, label in tabs] == ["推荐", "重要新闻", "学习理论", "本地"]
    assert tabs[1][0] == "/?tab=news"
    assert tabs[3][0] == "/?tab=local"  # a visitor's 本地 stays on the home


def test_a_members_local_tab_is_the_local_page(reader: Client, site: Site) -> None:
    html = _html(reader.get("/"))
    assert f'href="{reverse("content:local")}">本地</a>' in html
    assert 'aria-current="page">推荐</a>' in html


def test_recommended_shows_the_recommended_items_newest_first(client: Client, site: Site) -> None:
    _item(site.column, "旧的推荐", minutes_ago=60, recommended=True)
    _item(site.column, "普通文章", minutes_ago=30)
    _item(site.local_column, "新的推荐", minutes_ago=5, recommended=True)
    assert _cards(_html(client.get("/"))) == ["新的推荐", "旧的推荐"]


def test_without_recommendations_recommended_shows_the_newest(client: Client, site: Site) -> None:
    _item(site.column, "较早", minutes_ago=60)
    _item(site.column, "最新", minutes_ago=1)
    assert _cards(_html(client.get("/"))) == ["最新", "较早"]


def test_featured_items_lead_the_recommended_tab_only(client: Client, site: Site) -> None:
    _item(site.column, "焦点一", featured=True, recommended=True)
    _item(site.column, "推荐二", minutes_ago=5, recommended=True)
    html = _html(client.get("/"))
    assert '<h3 class="rd-focus-title">焦点一</h3>' in html
    assert _cards(html) == ["推荐二"]  # not twice on one page
    assert "rd-focus" not in _html(client.get("/?tab=news"))


def test_a_column_tab_shows_its_items_and_its_sub_columns(client: Client, site: Site) -> None:
    theory = Column.objects.create(channel=site.national, name="学习理论", slug="theory")
    stories = Column.objects.create(
        channel=site.national, name="党史故事", slug="stories", parent=theory
    )
    _item(theory, "理论文章", minutes_ago=10)
    _item(stories, "党史故事一则", minutes_ago=5)
    _item(site.column, "重要新闻一则")
    html = _html(client.get("/?tab=theory"))
    assert _cards(html) == ["党史故事一则", "理论文章"]
    assert 'aria-current="page">学习理论</a>' in html


def test_the_local_tab_shows_the_members_own_local_channel(
    reader: Client, client: Client, site: Site, member: User
) -> None:
    other_province = Organization.objects.add_child(
        fresh(site.root), {"name": "另一省", "kind": "platform", "code": "C-2"}
    )
    other = site.local.__class__.objects.create(
        kind="local", name="另一省", platform=other_province, position=0
    )
    other_column = Column.objects.create(channel=other, name="要闻", slug="news")
    _item(other_column, "另一省要闻")
    _item(site.local_column, "示范省要闻")
    site.local.__class__.objects.filter(pk=site.local.pk).update(position=1)  # 另一省 first
    html = _html(reader.get(reverse("content:local")))
    assert _cards(html) == ["示范省要闻"]
    assert "示范省 · 本地频道" in html
    visitor = Client()
    assert _cards(_html(visitor.get("/?tab=local"))) == ["另一省要闻"]  # the first local channel


def test_the_feed_pages_by_cursor_without_repeating_or_skipping(client: Client, site: Site) -> None:
    moment = timezone.now() - dt.timedelta(hours=1)
    for number in range(45):
        item = make_item(site.column, title=f"文章{number:02d}")
        # Three items a minute: ties on the time are broken by the id.
        Item.objects.filter(pk=item.pk).update(
            published_at=moment - dt.timedelta(minutes=number // 3)
        )
    seen: list[str] = []
    url: str | None = "/?tab=news"
    pages = 0
    while url:
        html = _html(client.get(url))
        seen += _cards(html)
        url = _next(html)
        pages += 1
    assert pages == 3
    assert len(seen) == 45
    assert len(set(seen)) == 45
    assert "没有更多了" in html


def test_more_cards_come_as_a_fragment_for_reader_js(client: Client, site: Site) -> None:
    for number in range(25):
        _item(site.column, f"文章{number:02d}", minutes_ago=number)
    next_url = _next(_html(client.get("/?tab=news")))
    assert next_url is not None
    response = client.get(next_url, HTTP_X_READER_FRAGMENT="1")
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert fragment.strip().startswith('<div class="rd-feed-block" data-feed-block>')
    assert len(_cards(fragment)) == 5
    assert "X-Reader-Fragment" in response["Vary"]


def test_a_tampered_cursor_is_a_clear_error(client: Client, site: Site) -> None:
    _item(site.column, "文章")
    for cursor in ["not-a-cursor", "WyJub3QgYSB0aW1lIiwgMV0"]:  # ["not a time", 1]
        response = client.get(f"/?tab=news&cursor={cursor}")
        assert response.status_code == 422
        assert "分页游标无效" in response.content.decode()


def test_cards_show_source_relative_time_and_the_kind_with_duration(
    client: Client, site: Site
) -> None:
    _item(site.column, "三小时前的文章", minutes_ago=180, source="示范日报")
    _video(site, recommended=False)
    html = _html(client.get("/?tab=news"))
    assert "示范日报" in html
    assert ">3小时前</time>" in html or ">昨天</time>" in html  # just after midnight
    assert '<span class="rd-duration">' in html
    assert "00:24" in html
    assert reverse("content:item_cover", args=[Item.objects.get(kind="video").pk]) in html


# --- 本地频道 pays once a day --------------------------------------------------------------------


def test_the_local_channel_pays_once_a_day_through_the_page(
    reader: Client, site: Site, member: User
) -> None:
    assert _ledger(member, "local_channel") == 0
    html = _html(reader.get(reverse("content:local")))
    assert "浏览本地频道 积分 +1" in html
    _html(reader.get(reverse("content:local")))
    _html(reader.get("/?tab=local"))
    assert _ledger(member, "local_channel") == 1


def test_a_prefetch_or_a_next_page_of_the_local_channel_pays_nothing(
    reader: Client, site: Site, member: User
) -> None:
    for number in range(22):
        _item(site.local_column, f"本地{number}", minutes_ago=number)
    reader.get(reverse("content:local"), HTTP_SEC_PURPOSE="prefetch")
    reader.get(reverse("content:local"), HTTP_X_READER_FRAGMENT="1")
    assert _ledger(member, "local_channel") == 0
    first = _html(reader.get("/?tab=news"))
    assert _ledger(member, "local_channel") == 0
    assert first
    cursor_page = _next(_html(reader.get(reverse("content:local"))))
    assert _ledger(member, "local_channel") == 1
    assert cursor_page is not None
    assert cursor_page.startswith(reverse("content:local") + "?cursor=")


def test_a_visitor_looking_at_the_local_tab_pays_nobody(client: Client, site: Site) -> None:
    _html(client.get("/?tab=local"))
    assert not LedgerEntry.objects.filter(rule="local_channel").exists()


# --- the item page -------------------------------------------------------------------------------


def test_a_member_gets_the_learning_element_and_a_visitor_a_prompt(
    reader: Client, site: Site, member: User
) -> None:
    item = _item(site.column, "一篇文章")
    url = reverse("content:item", args=[item.pk])
    html = _html(reader.get(url))
    assert f'data-learning-item="{item.pk}"' in html
    assert "data-learning-progress" in html
    assert "继续阅读即可获得积分" in html
    assert "/static/web/learning.js" in html
    assert 'name="csrfmiddlewaretoken"' in html
    anonymous = _html(Client().get(url))
    assert "data-learning-item" not in anonymous
    assert "learning.js" not in anonymous
    assert "登录后学习可获得积分" in anonymous
    # Opening the page records nothing: the session's start does (learning.js).
    assert not ReadingHistory.objects.exists()
    assert Item.objects.get(pk=item.pk).read_count == 0


def test_the_body_is_served_as_stored_and_everything_else_escaped(
    client: Client, site: Site
) -> None:
    item = _item(
        site.column,
        "<script>alert(1)</script>标题",
        body="<h2>小标题</h2><p>正文<strong>重点</strong></p><blockquote><p>引语</p></blockquote>"
        '<p><img src="/media/a.png" onerror="x()"></p><script>alert(2)</script>',
        source="<b>来源</b>",
    )
    html = _html(client.get(reverse("content:item", args=[item.pk])))
    assert "<h2>小标题</h2>" in html
    assert "<strong>重点</strong>" in html
    assert "<blockquote><p>引语</p></blockquote>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;标题" in html
    assert "&lt;b&gt;来源&lt;/b&gt;" in html
    assert "alert(2)" not in html


def test_a_video_page_plays_the_media_view_with_a_poster(reader: Client, site: Site) -> None:
    video = _video(site)
    html = _html(reader.get(reverse("content:item", args=[video.pk])))
    assert '<video controls playsinline preload="metadata"' in html
    assert f'poster="{reverse("content:item_poster", args=[video.pk])}"' in html
    media = reverse("content:item_media", args=[video.pk])
    assert f'<source src="{media}" type="video/mp4">' in html
    assert "继续观看即可获得积分" in html


def test_the_item_page_shows_the_account_with_its_subscribe_button_and_related_items(
    reader: Client, site: Site
) -> None:
    item = _item(site.column, "主文章", account=site.account)
    for number in range(6):
        _item(site.column, f"相关{number}", minutes_ago=number + 1)
    _item(site.local_column, "别的栏目")
    html = _html(reader.get(reverse("content:item", args=[item.pk])))
    assert "示范省委宣传部" in html
    assert reverse("content:subscribe", args=[site.account.pk]) in html
    related = html.split("相关推荐", 1)[1]
    assert _cards(related) == ["相关0", "相关1", "相关2", "相关3"]


# --- 收藏, 订阅, 分享 ----------------------------------------------------------------------------


def test_the_action_forms_need_the_csrf_token(member: User, site: Site) -> None:
    item = _item(site.column, "文章", account=site.account)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    page = _html(strict.get(reverse("content:item", args=[item.pk])))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    url = reverse("content:favourite", args=[item.pk])
    assert strict.post(url, {"action": "add"}).status_code == 403
    assert not Favourite.objects.exists()
    response = strict.post(url, {"action": "add", "csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302
    assert Favourite.objects.filter(member=member, item=item).exists()


def test_favouriting_is_idempotent_and_pays_nothing_under_the_2021_rules(
    reader: Client, site: Site, member: User
) -> None:
    item = _item(site.column, "值得收藏的文章")
    url = reverse("content:favourite", args=[item.pk])
    page = reverse("content:item", args=[item.pk])
    for _attempt in range(2):
        response = reader.post(url, {"action": "add", "next": page})
        assert response.status_code == 302
        assert response["Location"] == page
    assert Favourite.objects.filter(member=member, item=item).count() == 1
    assert _ledger(member, "favourite") == 0  # no such rule in 2021–22
    html = _html(reader.get(page))
    assert 'aria-pressed="true"' in html
    assert "已收藏" in html
    assert _cards(_html(reader.get(reverse("content:favourites")))) == ["值得收藏的文章"]
    answer = reader.post(url, {"action": "remove"}, HTTP_ACCEPT="application/json").json()
    assert answer == {"message": "已取消收藏", "active": False, "points": 0}
    reader.post(url, {"action": "remove"})
    assert not Favourite.objects.exists()


def test_subscribing_pays_once_and_counts_the_subscribers(
    reader: Client, site: Site, member: User
) -> None:
    url = reverse("content:subscribe", args=[site.account.pk])
    first = reader.post(url, {"action": "add"}, HTTP_ACCEPT="application/json").json()
    assert first == {"message": "订阅成功，积分 +1", "active": True, "count": 1, "points": 1}
    again = reader.post(url, {"action": "add"}, HTTP_ACCEPT="application/json").json()
    assert again == {"message": "订阅成功", "active": True, "count": 1, "points": 0}
    assert Subscription.objects.filter(member=member).count() == 1
    assert _ledger(member, "subscribe") == 1
    html = _html(reader.get(reverse("content:account", args=[site.account.pk])))
    assert "1 人订阅" in html
    assert 'aria-pressed="true"' in html
    reader.post(url, {"action": "remove"})
    reader.post(url, {"action": "remove"})
    assert Account.objects.get(pk=site.account.pk).subscriber_count == 0
    assert not Subscription.objects.exists()
    reader.post(url, {"action": "add"})
    assert _ledger(member, "subscribe") == 1  # once per account, ever


def test_a_form_goes_back_only_to_this_site(reader: Client, site: Site) -> None:
    item = _item(site.column, "文章")
    response = reader.post(
        reverse("content:favourite", args=[item.pk]),
        {"action": "add", "next": "https://evil.example/phish"},
    )
    assert response["Location"] == reverse("content:item", args=[item.pk])


def test_member_actions_are_rate_limited(
    reader: Client, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "ACTIONS_PER_MINUTE", 2)
    item = _item(site.column, "文章")
    url = reverse("content:favourite", args=[item.pk])
    for _attempt in range(2):
        assert reader.post(url, {"action": "add"}).status_code == 302
    refused = reader.post(url, {"action": "add"}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"


def test_sharing_makes_a_link_pays_once_a_day_and_shows_it_with_a_qr_code(
    reader: Client, site: Site, member: User
) -> None:
    item = _item(site.column, "值得分享的文章")
    url = reverse("content:share_create", args=[item.pk])
    response = reader.post(url)
    share = Share.objects.get(member=member, item=item)
    assert response.status_code == 302
    page = reverse("content:item", args=[item.pk])
    assert response["Location"] == f"{page}?share={share.token}#share"
    html = _html(reader.get(response["Location"]))
    assert f'value="http://testserver/s/{share.token}/"' in html
    assert f'src="/s/{share.token}/qr.svg"' in html
    again = reader.post(url, HTTP_ACCEPT="application/json").json()
    assert again == {
        "message": "分享链接已生成",
        "url": f"http://testserver/s/{share.token}/",
        "qr": f"/s/{share.token}/qr.svg",
        "points": 0,  # once per item and day
    }
    assert Share.objects.count() == 1
    assert _ledger(member, "share") == 1
    qr = reader.get(again["qr"])
    assert qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content


def test_someone_elses_share_token_does_not_open_the_panel(reader: Client, site: Site) -> None:
    item = _item(site.column, "文章")
    share = Share.objects.create(item=item, member=UserFactory.create())
    html = _html(reader.get(f"{reverse('content:item', args=[item.pk])}?share={share.token}"))
    assert "data-share-panel hidden" in html
    assert f"/s/{share.token}/" not in html


# --- share pages ---------------------------------------------------------------------------------


def test_a_share_page_is_readable_without_signing_in_and_counts_the_visit(
    client: Client, site: Site
) -> None:
    item = _item(site.column, "分享的文章", body="<p>分享的正文。</p>")
    share = Share.objects.create(item=item)
    html = _html(client.get(reverse("content:share", args=[share.token])))
    assert "分享的文章" in html
    assert "<p>分享的正文。</p>" in html
    assert "打开学习平台" in html
    assert "data-learning-item" not in html
    assert '<meta name="robots" content="noindex">' in html
    client.get(reverse("content:share", args=[share.token]))
    assert Share.objects.get(pk=share.pk).visits == 2
    assert not ReadingHistory.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_an_unknown_or_withdrawn_share_is_a_friendly_not_found(client: Client, site: Site) -> None:
    response = client.get(reverse("content:share", args=["nosuchtoken"]))
    assert response.status_code == 404
    assert "该分享链接无效，或分享的内容已撤回。" in response.content.decode()
    assert "返回首页" in response.content.decode()
    item = _item(site.column, "撤回的文章")
    share = Share.objects.create(item=item)
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.WITHDRAWN)
    assert client.get(reverse("content:share", args=[share.token])).status_code == 404
    assert client.get(reverse("content:share_qr", args=[share.token])).status_code == 404


# --- the media view: HTTP ranges -----------------------------------------------------------------


@pytest.fixture
def media_url(site: Site) -> str:
    return reverse("content:item_media", args=[_video(site).pk])


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_the_whole_file_says_it_takes_ranges(client: Client, media_url: str) -> None:
    response = client.get(media_url)
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(MEDIA_BYTES))
    assert response["Cache-Control"].startswith("private, max-age=")
    assert _body(response) == MEDIA_BYTES


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),  # the first bytes
        ("bytes=5000-5999", 5000, 5999),  # the middle
        ("bytes=-500", 9740, 10239),  # the last 500
        ("bytes=10000-", 10000, 10239),  # open-ended
        ("bytes=10000-99999", 10000, 10239),  # past the end: up to the end
        ("bytes=-99999", 0, 10239),  # a suffix longer than the file
        ("bytes=10239-10239", 10239, 10239),  # the last byte
    ],
)
def test_a_range_is_answered_with_206_and_content_range(
    client: Client, media_url: str, header: str, first: int, last: int
) -> None:
    response = client.get(media_url, HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(MEDIA_BYTES)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert _body(response) == MEDIA_BYTES[first : last + 1]


@pytest.mark.parametrize(
    "header", ["bytes=abc", "bytes=-", "bytes=0-99,200-299", "items=0-99", "bytes=500-100"]
)
def test_a_range_this_view_does_not_take_gets_the_whole_file(
    client: Client, media_url: str, header: str
) -> None:
    response = client.get(media_url, HTTP_RANGE=header)
    assert response.status_code == 200
    assert "Content-Range" not in response
    assert _body(response) == MEDIA_BYTES


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-0"])
def test_an_unsatisfiable_range_is_416(client: Client, media_url: str, header: str) -> None:
    response = client.get(media_url, HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(MEDIA_BYTES)}"


def test_a_stale_if_range_gets_the_whole_file_and_a_matching_etag_304(
    client: Client, media_url: str
) -> None:
    etag = client.get(media_url)["ETag"]
    stale = client.get(media_url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"other"')
    assert stale.status_code == 200
    fresh_range = client.get(media_url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert fresh_range.status_code == 206
    assert client.get(media_url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_head_request_answers_the_headers(client: Client, media_url: str) -> None:
    response = client.head(media_url, HTTP_RANGE="bytes=0-99")
    assert response.status_code == 206
    assert response["Content-Length"] == "100"
    assert response.content == b""


def test_behind_the_proxy_nginx_sends_the_file(
    client: Client, media_url: str, settings: Any
) -> None:
    settings.CONTENT_MEDIA_ACCEL_REDIRECT = "/protected-media/"
    response = client.get(media_url, HTTP_RANGE="bytes=0-99")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/protected-media/media/test/clip.mp4"
    assert response["Content-Type"] == "video/mp4"
    assert response.content == b""


def test_an_article_has_no_media_and_a_missing_file_is_not_found(
    client: Client, site: Site
) -> None:
    article = _item(site.column, "文章")
    assert client.get(reverse("content:item_media", args=[article.pk])).status_code == 404
    broken = _item(
        site.column,
        "文件丢了",
        kind=ItemKind.AUDIO,
        media="media/none.mp3",
        media_type="audio/mpeg",
    )
    assert client.get(reverse("content:item_media", args=[broken.pk])).status_code == 404


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-0", 1, (0, 0)),
        ("bytes=3-", 10, (3, 9)),
        ("bytes=-3", 10, (7, 9)),
        (" bytes=1-2 ", 10, (1, 2)),
        ("bytes=2-1", 10, None),
        ("bytes=1-2, 4-5", 10, None),
        ("", 10, None),
    ],
)
def test_byte_range_reads_one_range(
    header: str, size: int, expected: tuple[int, int] | None
) -> None:
    assert views.byte_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-1", 0), ("bytes=-0", 10)])
def test_byte_range_refuses_what_lies_outside_the_file(header: str, size: int) -> None:
    with pytest.raises(views.Unsatisfiable):
        views.byte_range(header, size)


# --- search --------------------------------------------------------------------------------------


def test_search_finds_items_and_marks_the_words(reader: Client, site: Site) -> None:
    _item(
        site.column,
        "乡村振兴<b>新图景</b>",
        body="<p>各地推进乡村振兴，产业兴旺。</p>",
    )
    _item(site.column, "生态文明建设", body="<p>绿水青山就是金山银山。</p>")
    html = _html(reader.get(reverse("content:search") + "?q=乡村振兴"))
    assert "<mark>乡村振兴</mark>&lt;b&gt;新图景&lt;/b&gt;" in html
    assert "各地推进<mark>乡村振兴</mark>" in html
    assert "生态文明建设" not in html
    assert 'value="乡村振兴"' in html


def test_search_without_results_says_so_and_without_a_query_invites_one(
    reader: Client, site: Site
) -> None:
    _item(site.column, "生态文明建设")
    empty = _html(reader.get(reverse("content:search") + "?q=航天"))
    assert "没有找到与“航天”相关的内容" in empty
    assert "换个关键词试试" in empty
    prompt = _html(reader.get(reverse("content:search")))
    assert "输入关键词，搜索学习内容" in prompt
    too_long = _html(reader.get(reverse("content:search") + "?q=" + "学" * 60))
    assert "搜索没有完成" in too_long
    assert "搜索内容不能超过 50 个字。" in too_long


def test_search_filters_by_kind_and_pages(reader: Client, site: Site) -> None:
    for number in range(23):
        _item(site.column, f"学习资料{number:02d}", minutes_ago=number)
    _video(site, "学习视频")
    videos = _html(reader.get(reverse("content:search") + "?q=学习&kind=video"))
    assert [re.sub(r"</?mark>", "", t) for t in _cards(videos)] == ["学习视频"]
    first = _html(reader.get(reverse("content:search") + "?q=学习"))
    assert len(_cards(first)) == 20
    next_url = _next(first)
    assert next_url is not None
    more = reader.get(next_url, HTTP_X_READER_FRAGMENT="1").content.decode()
    assert len(_cards(more)) == 4


def test_suggestions_come_as_json_with_marked_titles(reader: Client, site: Site) -> None:
    item = _item(site.column, "乡村振兴<i>看变化</i>")
    answer = reader.get(reverse("content:suggest") + "?q=乡村").json()
    assert answer["suggestions"] == [
        {
            "id": item.pk,
            "title": "乡村振兴<i>看变化</i>",
            "title_html": "<mark>乡村</mark>振兴&lt;i&gt;看变化&lt;/i&gt;",
            "url": reverse("content:item", args=[item.pk]),
        }
    ]
    assert reader.get(reverse("content:suggest") + "?q=").json()["suggestions"] == []
    refused = reader.get(reverse("content:suggest") + "?q=" + "学" * 60)
    assert refused.status_code == 422
    assert refused.json()["message"] == "搜索内容不能超过 50 个字。"


# --- 强国号, 视听学习, 我的 ----------------------------------------------------------------------


def test_an_account_page_lists_its_items_and_an_inactive_one_is_gone(
    client: Client, site: Site
) -> None:
    _item(site.column, "宣传部的文章", account=site.account)
    _item(site.column, "别人的文章")
    html = _html(client.get(reverse("content:account", args=[site.account.pk])))
    assert "示范省委宣传部" in html
    assert _cards(html) == ["宣传部的文章"]
    assert "0 人订阅" in html
    Account.objects.filter(pk=site.account.pk).update(is_active=False)
    assert client.get(reverse("content:account", args=[site.account.pk])).status_code == 404


def test_videos_and_audio_each_have_their_tab(reader: Client, site: Site) -> None:
    _video(site, "一段视频")
    _item(site.column, "一段音频", kind=ItemKind.AUDIO, duration=30)
    _item(site.column, "一篇文章")
    videos = _html(reader.get(reverse("web:videos")))
    assert re.findall(r'<h3 class="rd-tile-title">(.*?)</h3>', videos) == ["一段视频"]
    audio = _html(reader.get(reverse("web:videos") + "?kind=audio"))
    assert re.findall(r'<h3 class="rd-tile-title">(.*?)</h3>', audio) == ["一段音频"]
    assert "00:30" in audio


def test_history_lists_what_sessions_recorded_and_hides_withdrawn_items(
    reader: Client, site: Site, member: User
) -> None:
    read = _item(site.column, "读过的文章")
    gone = _item(site.column, "撤回的文章")
    ReadingHistory.objects.create(member=member, item=read, visits=3)
    ReadingHistory.objects.create(member=member, item=gone)
    Item.objects.filter(pk=gone.pk).update(status=ItemStatus.WITHDRAWN)
    html = _html(reader.get(reverse("content:history")))
    assert _cards(html) == ["读过的文章"]
    assert "共 3 次" in html


def test_subscriptions_list_the_accounts_their_items_and_accounts_to_discover(
    reader: Client, site: Site, member: User
) -> None:
    other = Account.objects.create(
        kind=AccountKind.INSTITUTION, name="示范三农", organization=site.province
    )
    _item(site.column, "宣传部的文章", account=site.account)
    _item(site.column, "三农的文章", account=other)
    Subscription.objects.create(member=member, account=site.account)
    html = _html(reader.get(reverse("content:subscriptions")))
    subscribed, rest = html.split("订阅动态", 1)
    assert "示范省委宣传部" in subscribed
    assert "取消订阅" in subscribed
    updates, discover = rest.split("发现强国号", 1)
    assert _cards(updates) == ["宣传部的文章"]
    assert "示范三农" in discover
    assert "示范省委宣传部" not in discover


def test_empty_lists_say_what_to_do(reader: Client, site: Site) -> None:
    assert "还没有收藏" in _html(reader.get(reverse("content:favourites")))
    assert "还没有学习记录" in _html(reader.get(reverse("content:history")))
    assert "还没有订阅强国号" in _html(reader.get(reverse("content:subscriptions")))


def test_me_links_to_the_readers_pages(reader: Client) -> None:
    html = _html(reader.get(reverse("web:me")))
    for name in ("content:favourites", "content:history", "content:subscriptions"):
        assert f'href="{reverse(name)}"' in html


# --- presentation helpers ------------------------------------------------------------------------

AT = dt.datetime(2024, 11, 20, 12, 0, tzinfo=dt.UTC)  # 20:00 in Beijing


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (AT - dt.timedelta(seconds=30), "刚刚"),
        (AT + dt.timedelta(seconds=30), "刚刚"),
        (AT - dt.timedelta(minutes=5), "5分钟前"),
        (AT - dt.timedelta(hours=3), "3小时前"),
        (AT - dt.timedelta(hours=21), "昨天"),  # 23:00 the day before, Beijing time
        (AT - dt.timedelta(days=9), "11-11"),
        (AT - dt.timedelta(days=400), "2023-10-17"),
    ],
)
def test_relative_time_reads_like_a_feed(moment: dt.datetime, text: str) -> None:
    assert views.relative_time(moment, AT) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, ""), (24, "00:24"), (200, "03:20"), (3723, "1:02:03")]
)
def test_durations_read_like_a_player(seconds: int, text: str) -> None:
    assert views.duration_text(seconds) == text


# --- queries stay flat as content grows ----------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _grow(site: Site, count: int, start: int) -> None:
    for number in range(start, start + count):
        _item(
            site.column,
            f"文章{number}",
            minutes_ago=number,
            recommended=True,
            featured=number < 5,
            account=site.account,
            cover=_png(f"covers/test/{number}.png") if number % 2 else "",
        )
        _item(site.local_column, f"本地{number}", minutes_ago=number, recommended=True)


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_the_home_feed_costs_the_same_queries_however_many_items(
    client: Client,
    member: User,
    site: Site,
    who: str,
    django_assert_max_num_queries: Any,
) -> None:
    if who == "member":
        client.force_login(member)
    _grow(site, 5, 0)
    client.get("/")
    content_changed()  # the lists read from the database, not from the cache
    few = _queries(client, "/")
    _grow(site, 40, 5)
    content_changed()
    with django_assert_max_num_queries(few):
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(few):
        assert client.get("/?tab=news").status_code == 200


def test_the_item_page_costs_the_same_queries_however_many_items(
    reader: Client, site: Site, django_assert_max_num_queries: Any
) -> None:
    item = _item(site.column, "主文章", account=site.account)
    _grow(site, 2, 0)
    url = reverse("content:item", args=[item.pk])
    few = _queries(reader, url)
    _grow(site, 30, 2)
    content_changed()
    with django_assert_max_num_queries(few):
        assert reader.get(url).status_code == 200
