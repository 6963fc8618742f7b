"""The reader's caches (``xuexi/content/caching.py``, docs/content.md "Caching"): what an
editor's write changes shows at the next request — nothing is served from a stale list or
fragment — and a visitor's cached home still carries his own CSRF token."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from xuexi.accounts.models import User
from xuexi.accounts.tests.factories import UserFactory
from xuexi.content import caching
from xuexi.content.models import Item
from xuexi.content.services import column_update, item_create, item_update
from xuexi.content.tests.factories import Site, fresh, grant, make_site
from xuexi.organizations.models import Organization
from xuexi.organizations.services import membership_place
from xuexi.points.models import RuleSet
from xuexi.points.services import rulesets_install_default

pytestmark = pytest.mark.django_db


@pytest.fixture
def site() -> Site:
    if not RuleSet.objects.exists():
        rulesets_install_default()
    return make_site()


@pytest.fixture
def editor(site: Site) -> User:
    return grant(UserFactory.create(), site.root)


@pytest.fixture
def member(site: Site) -> User:
    branch = Organization.objects.add_child(
        fresh(site.province), {"name": "机关第一党支部", "kind": "branch", "code": "C-1-1"}
    )
    user = UserFactory.create(phone="13900000001", real_name="杨丽娟")
    membership_place(user=user, organization=branch)
    return user


def _publish(editor: User, site: Site, title: str, **data: Any) -> Item:
    return item_create(
        actor=editor,
        column=site.column,
        kind="article",
        data={"title": title, "body": f"<p>{title}的正文。</p>", **data},
        publish=True,
        published_at=timezone.now() - dt.timedelta(minutes=5),
    )


def _page(client: Client, url: str = "/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _visitor(url: str = "/") -> str:
    """The page as a new visitor (no cookies) gets it."""
    return _page(Client(), url)


def _seen_by_everyone(url: str, reader: Client) -> list[str]:
    return [_visitor(url), _page(reader, url)]


@pytest.fixture
def reader(client: Client, member: User) -> Client:
    client.force_login(member)
    client.get("/")  # the day's login point
    return client


def test_a_withdrawn_item_is_gone_from_every_cached_list_at_once(
    site: Site, editor: User, reader: Client
) -> None:
    item = _publish(editor, site, "撤回前的文章", featured=True, recommended=True)
    other = _publish(editor, site, "同栏目的另一篇")
    item_page = reverse("content:item", args=[other.pk])
    for html in [*_seen_by_everyone("/", reader), *_seen_by_everyone(item_page, reader)]:
        assert "撤回前的文章" in html  # in 焦点 / the feed / 热门, and in 相关推荐
    _visitor("/")  # and once more: now from the cache

    item_update(actor=editor, item=item, data={"status": "withdrawn", "featured": False})

    for html in [*_seen_by_everyone("/", reader), *_seen_by_everyone(item_page, reader)]:
        assert "撤回前的文章" not in html
    assert reader.get(reverse("content:item", args=[item.pk])).status_code == 404
    search = _page(reader, reverse("content:search") + "?q=撤回")
    assert "撤回前的文章" not in search


def test_an_edited_item_shows_its_new_text_at_once(
    site: Site, editor: User, reader: Client
) -> None:
    item = _publish(editor, site, "旧标题的文章", recommended=True)
    url = reverse("content:item", args=[item.pk])
    pages = [*_seen_by_everyone("/", reader), *_seen_by_everyone(url, reader)]
    assert all("旧标题的文章" in html for html in pages)
    assert "旧标题的文章的正文" in _visitor(url)
    assert "旧标题" in _page(reader, reverse("content:search") + "?q=旧标题")

    item_update(
        actor=editor, item=item, data={"title": "新标题的文章", "body": "<p>改过的正文。</p>"}
    )

    pages = [*_seen_by_everyone("/", reader), *_seen_by_everyone(url, reader)]
    assert all("新标题的文章" in html and "旧标题的文章" not in html for html in pages)
    assert "改过的正文" in _visitor(url)
    assert "旧标题的文章的正文" not in _visitor(url)
    assert "新标题" in _page(reader, reverse("content:search") + "?q=新标题")


def test_a_new_item_and_a_renamed_column_show_at_once(
    site: Site, editor: User, reader: Client
) -> None:
    _publish(editor, site, "第一篇")
    assert "第一篇" in _visitor("/")
    _publish(editor, site, "刚发布的第二篇")
    column_update(actor=editor, column=site.column, name="要闻速递")
    for html in _seen_by_everyone("/", reader):
        assert "刚发布的第二篇" in html
        assert "要闻速递" in html  # the column's tab


def test_the_lists_of_a_write_outside_the_services_show_within_the_ttl(
    site: Site, editor: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What no service announces (a scheduled item's time coming, a raw UPDATE) is read
    again when the list's time is up; the lists are never kept longer than that."""
    item = _publish(editor, site, "原来的标题")
    assert "原来的标题" in _visitor("/")
    Item.objects.filter(pk=item.pk).update(title="悄悄改的标题")
    assert "原来的标题" in _visitor("/")  # cached list: announced by no service
    caching.content_changed()  # what the end of LIST_SECONDS does to that entry
    assert "悄悄改的标题" in _visitor("/")
    assert caching.LIST_SECONDS <= 60


def test_a_visitors_home_comes_from_the_cache_with_his_own_csrf_token(
    site: Site, editor: User
) -> None:
    _publish(editor, site, "给访客看的文章")
    first = Client(enforce_csrf_checks=True)
    _page(first)
    second = Client(enforce_csrf_checks=True)
    with CaptureQueriesContext(connection) as queries:
        html = _page(second)
    assert len(queries) == 0  # the whole page from the cache
    assert "给访客看的文章" in html
    assert caching_placeholder() not in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None
    assert second.cookies["csrftoken"].value  # the cookie his token is checked against
    switched = second.post(
        "/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token.group(1)}
    )
    assert switched.status_code == 302
    assert "Welcome" in _page(second) or "给访客看的文章" in _page(second)


def caching_placeholder() -> str:
    from xuexi.content.views import CSRF_PLACEHOLDER

    return CSRF_PLACEHOLDER


def test_cached_fragments_follow_the_language(site: Site, editor: User) -> None:
    _publish(editor, site, "双语页面的文章", recommended=True)
    chinese = _visitor("/")
    english_client = Client(HTTP_ACCEPT_LANGUAGE="en")
    english = _page(english_client)
    assert "热门" in chinese
    assert "热门" not in english
    assert "热门" in _visitor("/")


def test_a_member_never_gets_a_visitors_cached_page(
    site: Site, editor: User, reader: Client
) -> None:
    _publish(editor, site, "谁都能看的文章")
    assert "欢迎来到学习平台" in _visitor("/")
    html = _page(reader)
    assert "杨丽娟" in html
    assert "欢迎来到学习平台" not in html


@pytest.mark.parametrize("who", ["visitor", "member"])
def test_a_warm_home_reads_only_the_members_own_rows(
    client: Client, member: User, site: Site, editor: User, who: str
) -> None:
    """Lists and fragments come from the cache: a visitor's warm home reads nothing from the
    database, a member's only what is his (session, user, membership and place, points)."""
    for number in range(25):
        _publish(editor, site, f"文章{number}", recommended=True, featured=number < 5)
    if who == "member":
        client.force_login(member)
    client.get("/")
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    tables = {
        found
        for query in queries.captured_queries
        for found in re.findall(r'FROM "(\w+)"', query["sql"])
    }
    if who == "visitor":
        assert len(queries) == 0
    else:
        assert not {t for t in tables if t.startswith("content_")}, tables
        assert len(queries) <= 8
