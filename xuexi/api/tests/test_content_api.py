"""The content routes of API.md (Content, C3): channels, columns, items, search, favourites,
subscriptions and shares (the learning sessions are in test_learning_api.py)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
import time_machine
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from xuexi.accounts.models import User
from xuexi.accounts.services import token_issue
from xuexi.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from xuexi.api import content as content_api
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
from xuexi.content.tests.factories import Site, grant, make_item, make_site
from xuexi.core.audit import AuditEntry
from xuexi.points import scoring
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.tests.conftest import install

pytestmark = pytest.mark.django_db

SH = dt.timezone(dt.timedelta(hours=8))
TUESDAY = dt.datetime(2026, 3, 3, 10, 0, tzinfo=SH)
API = "/api/v1"
ERROR_SHAPE = {"code", "message", "details"}
SUMMARY_FIELDS = {
    "id", "kind", "title", "summary", "cover_url", "column", "account", "source",
    "published_at", "recommended", "featured", "duration", "read_count",
}  # fmt: skip
FULL_FIELDS = SUMMARY_FIELDS | {
    "status", "body", "author", "tags", "media_url", "media_type", "poster_url", "favourited",
    "subscribed", "updated_at",
}  # fmt: skip


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def site(clock: Any) -> Site:
    # The default rule set of the tests: 2021 (``subscribe`` and ``share`` pay 1, a day's cap
    # of 2 and 1; there is no ``favourite`` rule).
    RuleSet.objects.all().delete()
    spec = next(s for s in scoring.shipped() if s.code == "2021")
    install(spec.as_data(), spec.effective_from)
    return make_site()


@pytest.fixture
def member(site: Site, monkeypatch: pytest.MonkeyPatch) -> User:
    # No daily login point: each test pays exactly what it says.
    monkeypatch.setattr("xuexi.points.middleware.points_award_daily_login", lambda user: None)
    monkeypatch.setattr("xuexi.api.auth.points_award_daily_login", lambda user: None)
    return UserFactory.create(phone="13812340088")


@pytest.fixture
def api(client: Client, member: User) -> Client:
    client.force_login(member)
    return client


@pytest.fixture
def national_editor(site: Site) -> User:
    return grant(UserFactory.create(phone="13812340091"), site.root)


@pytest.fixture
def local_editor(site: Site) -> User:
    return grant(UserFactory.create(phone="13812340092"), site.province)


def as_user(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def item_at(
    column: Column,
    minutes_ago: int,
    title: str = "学习新思想",
    status: str = ItemStatus.PUBLISHED,
    **fields: Any,
) -> Item:
    """An item published ``minutes_ago`` before the test's clock (then given ``status``)."""
    item = make_item(column, title=title, **fields)
    item.published_at = TUESDAY - dt.timedelta(minutes=minutes_ago)
    item.status = status
    item.save(update_fields=["published_at", "status"])
    return item


def post(client: Client, path: str, body: Any = None, **extra: Any) -> Any:
    if body is None:
        return client.post(API + path, **extra)
    return client.post(API + path, body, content_type="application/json", **extra)


def patch(client: Client, path: str, body: Any) -> Any:
    return client.patch(API + path, body, content_type="application/json")


def get(client: Client, path: str, **extra: Any) -> Any:
    return client.get(API + path, **extra)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_SHAPE
    assert body["code"] == code
    assert body["message"]
    return body


def paid(member: User, rule: str) -> int:
    return sum(e.points for e in LedgerEntry.objects.filter(member=member, rule=rule))


# --- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/channels"),
        ("get", "/columns"),
        ("get", "/items"),
        ("get", "/items/1"),
        ("post", "/items"),
        ("patch", "/items/1"),
        ("get", "/search?q=学习"),
        ("post", "/items/1/favourite"),
        ("delete", "/items/1/favourite"),
        ("post", "/accounts/1/subscription"),
        ("delete", "/accounts/1/subscription"),
        ("post", "/items/1/shares"),
    ],
)
def test_anonymous_callers_get_401_in_the_error_shape(client, site, method, path):
    response = getattr(client, method)(API + path, {}, content_type="application/json")
    assert_error(response, 401, "not_authenticated")


def test_a_bearer_token_reads_and_acts(client, site, member):
    item = item_at(site.column, 5)
    token = post(client, "/auth/token", {"phone": member.phone, "password": DEFAULT_PASSWORD})
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token.json()['access_token']}"}
    listed = get(client, "/items", **bearer)
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["items"]] == [item.pk]
    assert get(client, f"/items/{item.pk}", **bearer).status_code == 200
    assert post(client, f"/items/{item.pk}/favourite", **bearer).status_code == 204
    assert Favourite.objects.filter(member=member, item=item).exists()
    wrong = {"HTTP_AUTHORIZATION": "Bearer not-a-token"}
    assert_error(get(client, "/items", **wrong), 401, "not_authenticated")


# --- channels and columns -----------------------------------------------------------------------


def test_channels_list_national_and_local_with_their_platform(api, site):
    site.local.position = 0
    site.national.position = 1
    site.local.save()
    site.national.save()
    body = get(api, "/channels").json()
    assert body == {
        "items": [
            {
                "id": site.local.pk,
                "kind": "local",
                "name": "示范省",
                "platform": {"id": site.province.pk, "name": "示范省学习平台"},
            },
            {
                "id": site.national.pk,
                "kind": "national",
                "name": "全国",
                "platform": {"id": site.root.pk, "name": "全国平台"},
            },
        ],
        "next_cursor": None,
    }


def test_columns_are_the_active_ones_in_order_with_their_parent(api, site):
    later = Column.objects.create(channel=site.national, name="学习理论", slug="theory", position=2)
    sub = Column.objects.create(
        channel=site.national, parent=later, name="理论文章", slug="theory-a", position=0
    )
    Column.objects.create(channel=site.national, name="停用", slug="off", is_active=False)
    body = get(api, f"/columns?channel={site.national.pk}").json()
    assert body["next_cursor"] is None
    assert [(c["id"], c["parent_id"]) for c in body["items"]] == [
        (site.column.pk, None),
        (sub.pk, later.pk),
        (later.pk, None),
    ]
    assert body["items"][1] == {
        "id": sub.pk,
        "name": "理论文章",
        "slug": "theory-a",
        "parent_id": later.pk,
        "channel_id": site.national.pk,
        "position": 0,
    }
    everything = [c["id"] for c in get(api, "/columns").json()["items"]]
    assert set(everything) == {site.column.pk, sub.pk, later.pk, site.local_column.pk}
    assert_error(get(api, "/columns?channel=999999"), 404, "not_found")
    assert_error(get(api, "/columns?channel=0"), 422, "validation_error")


# --- item lists ---------------------------------------------------------------------------------


def test_items_are_published_ones_newest_first_in_the_summary_shape(api, site):
    old = item_at(site.column, 60, title="旧闻", account=site.account, source="新华社")
    new = item_at(site.local_column, 5, title="新闻", recommended=True)
    make_item(site.column, title="草稿", published=False)
    item_at(site.column, 1, title="已撤回", status=ItemStatus.WITHDRAWN)
    scheduled = item_at(site.column, 0, title="定时发布")
    scheduled.published_at = TUESDAY + dt.timedelta(hours=1)
    scheduled.save()

    body = get(api, "/items").json()

    assert [row["id"] for row in body["items"]] == [new.pk, old.pk]
    assert body["next_cursor"] is None
    row = body["items"][1]
    assert set(row) == SUMMARY_FIELDS
    assert row["kind"] == "article"
    assert row["column"] == {"id": site.column.pk, "name": "重要新闻"}
    assert row["account"] == {"id": site.account.pk, "name": "示范省委宣传部"}
    assert row["source"] == "新华社"
    assert row["cover_url"] is None
    assert row["duration"] is None
    assert dt.datetime.fromisoformat(row["published_at"]) == TUESDAY - dt.timedelta(minutes=60)
    assert body["items"][0]["account"] is None
    assert body["items"][0]["recommended"] is True


def test_item_filters(api, site):
    sub = Column.objects.create(channel=site.national, parent=site.column, name="子栏目", slug="s")
    in_column = item_at(site.column, 1)
    in_sub = item_at(sub, 2)
    local = item_at(site.local_column, 3, recommended=True, account=site.account)
    video = item_at(site.column, 4, kind=ItemKind.VIDEO, featured=True, duration=95)

    def ids(query: str) -> list[int]:
        response = get(api, f"/items?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["items"]]

    assert ids(f"column={site.column.pk}") == [in_column.pk, in_sub.pk, video.pk]
    assert ids(f"column={sub.pk}") == [in_sub.pk]
    assert ids("kind=video") == [video.pk]
    assert ids(f"column={site.column.pk}&kind=article") == [in_column.pk, in_sub.pk]
    assert ids("recommended=true") == [local.pk]
    assert ids("featured=true") == [video.pk]
    assert ids(f"account={site.account.pk}") == [local.pk]
    assert ids(f"channel={site.local.pk}") == [local.pk]
    assert get(api, "/items?kind=video").json()["items"][0]["duration"] == 95

    sub.is_active = False
    sub.save()
    assert ids(f"column={site.column.pk}") == [in_column.pk, video.pk]
    assert_error(get(api, f"/items?column={sub.pk}"), 404, "not_found")
    for query in ("column=999999", "channel=999999", "account=999999"):
        assert_error(get(api, f"/items?{query}"), 404, "not_found")
    for query, field in (
        ("kind=podcast", "kind"),
        ("column=abc", "column"),
        (f"column={2**63}", "column"),
        ("recommended=maybe", "recommended"),
    ):
        body = assert_error(get(api, f"/items?{query}"), 422, "validation_error")
        assert field in body["details"]["fields"]


def test_the_item_list_pages_with_a_cursor(api, site):
    made = [item_at(site.column, minutes, title=f"第{minutes}条") for minutes in range(7)]
    # Two items at the same instant: the id breaks the tie, none is skipped or repeated.
    twin = item_at(site.local_column, 3, title="同时发布")
    seen: list[int] = []
    cursor, pages = "", 0
    while True:
        body = get(api, f"/items?limit=3&cursor={cursor}").json()
        assert len(body["items"]) <= 3
        seen += [row["id"] for row in body["items"]]
        pages += 1
        if not body["next_cursor"]:
            break
        cursor = body["next_cursor"]
    assert pages == 3
    expected = Item.objects.filter(pk__in=[*[i.pk for i in made], twin.pk]).order_by(
        "-published_at", "-id"
    )
    assert seen == [item.pk for item in expected]
    # A page of the largest size holds them all.
    assert len(get(api, "/items?limit=100").json()["items"]) == 8


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=" + base64.urlsafe_b64encode(json.dumps(["x", "y"]).encode()).decode(), "cursor"),
        ("cursor=" + base64.urlsafe_b64encode(json.dumps([1, 2]).encode()).decode(), "cursor"),
        ("cursor=" + base64.urlsafe_b64encode(json.dumps([1]).encode()).decode(), "cursor"),
    ],
)
def test_bad_list_queries_are_422_with_the_field(api, site, query, field):
    item_at(site.column, 1)
    body = assert_error(get(api, f"/items?{query}"), 422, "validation_error")
    assert field in body["details"]["fields"]


# --- one item -----------------------------------------------------------------------------------


def test_an_article_is_served_whole_and_its_visit_recorded(api, site, member):
    article = item_at(
        site.column,
        5,
        body='<p>乡村振兴<img src="/media/a.png" alt="图"></p>',
        account=site.account,
        author="记者 张三",
        tags="三农,乡村振兴",
        cover="covers/2026/03/c.png",
    )
    body = get(api, f"/items/{article.pk}").json()
    assert set(body) == FULL_FIELDS
    assert body["status"] == "published"
    assert body["body"] == '<p>乡村振兴<img src="/media/a.png" alt="图"></p>'
    assert body["author"] == "记者 张三"
    assert body["tags"] == ["三农", "乡村振兴"]
    assert body["cover_url"] == "http://testserver/media/covers/2026/03/c.png"
    assert (body["media_url"], body["media_type"], body["poster_url"]) == (None, None, None)
    assert (body["favourited"], body["subscribed"]) == (False, False)
    assert body["read_count"] == 1
    assert ReadingHistory.objects.get(member=member, item=article).visits == 1
    assert get(api, f"/items/{article.pk}").json()["read_count"] == 2

    Favourite.objects.create(member=member, item=article)
    Subscription.objects.create(member=member, account=site.account)
    body = get(api, f"/items/{article.pk}").json()
    assert (body["favourited"], body["subscribed"]) == (True, True)


def test_a_video_carries_its_media_view_duration_and_poster(api, site):
    video = item_at(
        site.column,
        5,
        kind=ItemKind.VIDEO,
        body="<p>简介</p>",
        media="media/2026/03/v.mp4",
        media_type="video/mp4",
        poster="posters/2026/03/p.png",
        duration=95,
    )
    body = get(api, f"/items/{video.pk}").json()
    assert body["media_url"] == f"http://testserver/items/{video.pk}/media"
    assert body["media_type"] == "video/mp4"
    assert body["poster_url"] == "http://testserver/media/posters/2026/03/p.png"
    assert body["duration"] == 95
    assert body["subscribed"] is None  # no account
    assert body["body"] == "<p>简介</p>"


def test_unpublished_items_are_404_for_members_and_readable_by_their_editors(
    client, site, member, national_editor, local_editor
):
    draft = make_item(site.column, title="草稿", published=False)
    withdrawn = item_at(site.column, 5, status=ItemStatus.WITHDRAWN)
    scheduled = item_at(site.column, 0)
    scheduled.published_at = TUESDAY + dt.timedelta(days=1)
    scheduled.save()
    as_user(client, member)
    for item in (draft, withdrawn, scheduled):
        assert_error(get(client, f"/items/{item.pk}"), 404, "not_found")
    assert_error(get(client, "/items/999999"), 404, "not_found")
    assert_error(get(client, f"/items/{2**63}"), 422, "validation_error")

    as_user(client, national_editor)
    body = get(client, f"/items/{draft.pk}").json()
    assert (body["status"], body["published_at"]) == ("draft", None)
    assert get(client, f"/items/{withdrawn.pk}").json()["status"] == "withdrawn"
    assert get(client, f"/items/{scheduled.pk}").json()["status"] == "published"
    assert not ReadingHistory.objects.filter(item=draft).exists()  # a preview is no visit

    as_user(client, local_editor)  # the national channel is outside his scope
    assert_error(get(client, f"/items/{draft.pk}"), 404, "not_found")


# --- editors' writes ----------------------------------------------------------------------------


XSS = (
    '<p onclick="steal()">正文<script>alert(1)</script>'
    '<a href="javascript:alert(1)">链接</a><img src="https://evil.example/x.png" onerror="x()">'
    "<iframe src=//evil></iframe></p>"
)


def test_an_editor_creates_an_article_stored_sanitised(client, site, national_editor):
    as_user(client, national_editor)
    audit_before = AuditEntry.objects.count()
    response = post(
        client,
        "/items",
        {
            "column_id": site.column.pk,
            "kind": "article",
            "title": " 推进  乡村振兴 ",
            "body": XSS,
            "tags": ["三农", "乡村振兴"],
            "source": "新华社",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FULL_FIELDS
    assert (body["title"], body["status"], body["published_at"]) == ("推进 乡村振兴", "draft", None)
    stored = Item.objects.get(pk=body["id"])
    for bad in ("onclick", "<script", "javascript:", "evil", "onerror", "<iframe", "alert"):
        assert bad not in stored.body
        assert bad not in body["body"]
    assert "正文" in stored.body
    assert body["summary"] == "正文链接"  # from the body's opening
    assert (body["tags"], body["source"]) == (["三农", "乡村振兴"], "新华社")
    assert stored.created_by == national_editor
    assert AuditEntry.objects.count() == audit_before + 1
    assert AuditEntry.objects.latest("id").action == "content.item_create"


def test_an_article_published_at_creation_is_seen_by_members(client, site, national_editor):
    as_user(client, national_editor)
    response = post(
        client,
        "/items",
        {
            "column_id": site.local_column.pk,
            "kind": "article",
            "title": "发布",
            "body": "<p>正文</p>",
            "summary": "摘要",
            "publish": True,
            "account_id": site.account.pk,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["summary"]) == ("published", "摘要")
    assert dt.datetime.fromisoformat(body["published_at"]) == TUESDAY
    assert body["account"] == {"id": site.account.pk, "name": site.account.name}
    client.force_login(UserFactory.create())
    assert [row["id"] for row in get(client, "/items").json()["items"]] == [body["id"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "长" * 121}, "title"),
        ({"summary": "长" * 301}, "summary"),
        ({"kind": "video"}, "kind"),
        ({"column_id": 0}, "column_id"),
        ({"column_id": "x"}, "column_id"),
        ({"title": None}, "title"),
        ({"title": "标\x00题"}, "title"),
        ({"tags": "三农"}, "tags"),
        ({"tags": [f"t{n}" for n in range(21)]}, "tags"),
        ({"publish": True, "body": "<script>x</script>"}, "body"),
        ({"publish": "often"}, "publish"),
    ],
)
def test_bad_item_input_is_422_and_writes_nothing(client, site, national_editor, change, field):
    as_user(client, national_editor)
    data = {"column_id": site.column.pk, "kind": "article", "title": "标题", "body": "<p>x</p>"}
    body = assert_error(post(client, "/items", {**data, **change}), 422, "validation_error")
    assert field in body["details"]["fields"], body
    assert not Item.objects.exists()


def test_a_missing_title_is_422_and_a_non_json_body_400(client, site, national_editor):
    as_user(client, national_editor)
    body = assert_error(
        post(client, "/items", {"column_id": site.column.pk}), 422, "validation_error"
    )
    assert "title" in body["details"]["fields"]
    response = client.post(f"{API}/items", "title=x", content_type="application/json")
    assert_error(response, 400, "bad_request")


def test_writes_are_refused_outside_the_editing_scope(
    client, site, member, local_editor, national_editor
):
    national = item_at(site.column, 5)
    data = {"column_id": site.column.pk, "kind": "article", "title": "标题"}
    audit_before = AuditEntry.objects.count()

    as_user(client, member)
    assert_error(post(client, "/items", data), 403, "forbidden")
    assert_error(patch(client, f"/items/{national.pk}", {"recommended": True}), 403, "forbidden")

    as_user(client, local_editor)
    assert_error(post(client, "/items", data), 404, "not_found")
    assert_error(patch(client, f"/items/{national.pk}", {"recommended": True}), 404, "not_found")
    local = item_at(site.local_column, 5)
    move = {"column_id": site.column.pk}
    assert_error(patch(client, f"/items/{local.pk}", move), 404, "not_found")
    other = Account.objects.create(
        kind=AccountKind.INSTITUTION, name="全国号", organization=site.root
    )
    with_account = {**data, "column_id": site.local_column.pk, "account_id": other.pk}
    assert_error(post(client, "/items", with_account), 404, "not_found")

    assert AuditEntry.objects.count() == audit_before
    assert Item.objects.count() == 2
    national.refresh_from_db()
    local.refresh_from_db()
    assert (national.recommended, local.column_id) == (False, site.local_column.pk)

    as_user(client, national_editor)  # the root's editor edits the local channel as well
    moved = patch(client, f"/items/{local.pk}", move)
    assert moved.status_code == 200
    assert moved.json()["column"]["id"] == site.column.pk


def test_patch_publishes_withdraws_and_recommends(client, site, national_editor, member):
    draft = make_item(site.column, title="草稿", published=False)
    as_user(client, national_editor)
    path = f"/items/{draft.pk}"

    published = patch(client, path, {"publish": True})
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "published"
    assert dt.datetime.fromisoformat(published.json()["published_at"]) == TUESDAY

    recommended = patch(client, path, {"recommended": True, "featured": True}).json()
    assert (recommended["recommended"], recommended["featured"]) == (True, True)
    as_user(client, member)
    assert [row["id"] for row in get(client, "/items?recommended=true").json()["items"]] == [
        draft.pk
    ]

    as_user(client, national_editor)
    body = assert_error(patch(client, path, {"publish": False}), 422, "validation_error")
    assert "featured" in body["details"]["fields"]  # a featured item stays published
    withdrawn = patch(client, path, {"publish": False, "featured": False}).json()
    assert withdrawn["status"] == "withdrawn"
    as_user(client, member)
    assert_error(get(client, path), 404, "not_found")
    assert get(client, "/items").json()["items"] == []

    as_user(client, national_editor)
    assert patch(client, path, {"status": "published"}).json()["status"] == "published"
    assert patch(client, path, {"status": "draft"}).json()["status"] == "draft"
    # ``publish: false`` on an item that is not published changes nothing (and writes nothing).
    assert patch(client, path, {"publish": False}).json()["status"] == "draft"
    assert AuditEntry.objects.filter(action="content.item_update").count() == 5


def test_patch_edits_text_sanitises_and_keeps_what_is_not_sent(client, site, national_editor):
    item = item_at(site.column, 5, title="原标题", author="张三", tags="甲,乙")
    as_user(client, national_editor)
    response = patch(
        client,
        f"/items/{item.pk}",
        {"title": "新标题", "body": XSS, "summary": None, "tags": ["丙"], "source": "人民日报"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["summary"], body["tags"]) == ("新标题", "", ["丙"])
    assert (body["author"], body["source"]) == ("张三", "人民日报")
    assert "script" not in body["body"]
    assert "onclick" not in Item.objects.get(pk=item.pk).body

    audit_before = AuditEntry.objects.count()
    unchanged = patch(client, f"/items/{item.pk}", {})
    assert unchanged.status_code == 200
    assert unchanged.json()["title"] == "新标题"
    assert AuditEntry.objects.count() == audit_before  # nothing sent, nothing written


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"status": "deleted"}, "status"),
        ({"status": "draft", "publish": True}, "publish"),
        ({"status": "published", "publish": False}, "publish"),
        ({"featured": True}, "featured"),  # a draft cannot be featured
        ({"publish": True, "body": ""}, "body"),
        ({"column_id": -1}, "column_id"),
        ({"recommended": "sure"}, "recommended"),
        ({"author": "作" * 61}, "author"),
    ],
)
def test_bad_patches_are_422_and_change_nothing(client, site, national_editor, change, field):
    draft = make_item(site.column, title="草稿", published=False)
    as_user(client, national_editor)
    audit_before = AuditEntry.objects.count()
    body = assert_error(patch(client, f"/items/{draft.pk}", change), 422, "validation_error")
    assert field in body["details"]["fields"], body
    assert AuditEntry.objects.count() == audit_before
    draft.refresh_from_db()
    assert (draft.title, draft.status, draft.featured) == ("草稿", ItemStatus.DRAFT, False)


def test_editor_writes_are_rate_limited(client, site, national_editor, monkeypatch):
    monkeypatch.setattr(content_api, "EDITS_PER_MINUTE", 2)
    item = item_at(site.column, 5)
    as_user(client, national_editor)
    for _ in range(2):
        assert patch(client, f"/items/{item.pk}", {"recommended": True}).status_code == 200
    response = patch(client, f"/items/{item.pk}", {"recommended": False})
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    assert Item.objects.get(pk=item.pk).recommended is True


# --- search -------------------------------------------------------------------------------------


def test_search_finds_published_items_best_first_with_marks(api, site):
    in_body = item_at(site.column, 1, title="农业现代化", body="<p>全面推进乡村振兴。</p>")
    in_title = item_at(site.column, 60, title="乡村振兴<新篇章>", body="<p>内容</p>")
    make_item(site.column, title="乡村振兴草稿", published=False)
    item_at(site.column, 2, title="无关", body="<p>城市更新</p>")

    response = get(api, "/search?q=乡村振兴")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["id"] for row in body["items"]] == [in_title.pk, in_body.pk]
    assert body["next_cursor"] is None
    assert "乡村" in body["words"]
    first = body["items"][0]
    assert set(first) == SUMMARY_FIELDS | {"title_html", "snippet_html"}
    assert first["title"] == "乡村振兴<新篇章>"
    assert first["title_html"] == "<mark>乡村振兴</mark>&lt;新篇章&gt;"
    assert "<mark>" in body["items"][1]["snippet_html"]
    assert [row["id"] for row in get(api, "/search?q=乡村振兴&kind=video").json()["items"]] == []


def test_search_pages_with_its_cursor(api, site):
    for number in range(5):
        item_at(site.column, number, title=f"乡村振兴第{number}篇")
    first = get(api, "/search?q=乡村&limit=3").json()
    assert len(first["items"]) == 3
    second = get(api, f"/search?q=乡村&limit=3&cursor={first['next_cursor']}").json()
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None
    ids = {row["id"] for row in first["items"] + second["items"]}
    assert len(ids) == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=", "q"),
        ("q=%20%20", "q"),
        ("q=" + "长" * 51, "q"),
        ("", "q"),
        ("q=%00", "q"),
        ("q=乡村&kind=podcast", "kind"),
        ("q=乡村&limit=101", "limit"),
        ("q=乡村&cursor=bad", "cursor"),
    ],
)
def test_bad_searches_are_422(api, site, query, field):
    body = assert_error(get(api, f"/search?{query}"), 422, "validation_error")
    assert field in body["details"]["fields"]


def test_search_is_rate_limited_per_member(client, site, member, monkeypatch):
    monkeypatch.setattr(content_api, "SEARCHES_PER_MINUTE", 3)
    as_user(client, member)
    for _ in range(3):
        assert get(client, "/search?q=学习").status_code == 200
    response = get(client, "/search?q=学习")
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    client.force_login(UserFactory.create())  # another member has his own count
    assert get(client, "/search?q=学习").status_code == 200


# --- favourites, subscriptions, shares ----------------------------------------------------------


def test_favourites_are_idempotent_and_pay_nothing_under_2021(api, site, member):
    item = item_at(site.column, 5)
    path = f"/items/{item.pk}/favourite"
    for _ in range(2):
        response = post(api, path)
        assert response.status_code == 204
        assert response.content == b""
    assert Favourite.objects.filter(member=member).count() == 1
    assert paid(member, "favourite") == 0  # the 2021 rules have no ``favourite``
    assert get(api, f"/items/{item.pk}").json()["favourited"] is True
    for _ in range(2):
        assert api.delete(API + path).status_code == 204
    assert not Favourite.objects.filter(member=member).exists()


def test_favourites_of_unpublished_items(api, site, member):
    draft = make_item(site.column, title="草稿", published=False)
    assert_error(post(api, f"/items/{draft.pk}/favourite"), 404, "not_found")
    assert_error(api.delete(f"{API}/items/{draft.pk}/favourite"), 404, "not_found")
    assert_error(post(api, "/items/999999/favourite"), 404, "not_found")
    # An item withdrawn after it was favourited can still be taken out of the favourites.
    item = item_at(site.column, 5)
    assert post(api, f"/items/{item.pk}/favourite").status_code == 204
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.WITHDRAWN)
    assert api.delete(f"{API}/items/{item.pk}/favourite").status_code == 204
    assert not Favourite.objects.exists()


def test_subscribing_pays_once_per_account(api, site, member):
    path = f"/accounts/{site.account.pk}/subscription"
    for _ in range(3):
        assert post(api, path).status_code == 204
    assert paid(member, "subscribe") == 1
    assert Account.objects.get(pk=site.account.pk).subscriber_count == 1
    assert api.delete(API + path).status_code == 204
    assert api.delete(API + path).status_code == 204
    assert Account.objects.get(pk=site.account.pk).subscriber_count == 0
    assert post(api, path).status_code == 204  # again: subscribed, nothing paid again
    assert paid(member, "subscribe") == 1
    assert Subscription.objects.filter(member=member).count() == 1


def test_subscriptions_to_unknown_or_inactive_accounts(api, site):
    assert_error(post(api, "/accounts/999999/subscription"), 404, "not_found")
    assert_error(api.delete(f"{API}/accounts/999999/subscription"), 404, "not_found")
    assert_error(post(api, "/accounts/0/subscription"), 422, "validation_error")
    Account.objects.filter(pk=site.account.pk).update(is_active=False)
    assert_error(post(api, f"/accounts/{site.account.pk}/subscription"), 409, "account_inactive")
    assert not Subscription.objects.exists()


def test_a_share_answers_an_absolute_link_and_pays_once_a_day(api, site, member, clock):
    item = item_at(site.column, 5)
    first = post(api, f"/items/{item.pk}/shares")
    assert first.status_code == 201, first.content
    share = Share.objects.get()
    assert first.json() == {"url": f"http://testserver/s/{share.token}", "points_awarded": 1}
    again = post(api, f"/items/{item.pk}/shares")
    assert again.json() == {"url": first.json()["url"], "points_awarded": 0}
    assert Share.objects.count() == 1
    assert paid(member, "share") == 1

    clock.shift(dt.timedelta(days=1))
    api.force_login(member)  # yesterday's web session has gone idle
    third = post(api, f"/items/{item.pk}/shares").json()
    assert third["points_awarded"] == 1
    assert third["url"] != first.json()["url"]


def test_shares_of_unpublished_items_are_404(api, site):
    draft = make_item(site.column, title="草稿", published=False)
    assert_error(post(api, f"/items/{draft.pk}/shares"), 404, "not_found")
    assert not Share.objects.exists()


def test_member_actions_are_rate_limited(api, site, monkeypatch):
    monkeypatch.setattr(content_api, "ACTIONS_PER_MINUTE", 2)
    item = item_at(site.column, 5)
    assert post(api, f"/items/{item.pk}/favourite").status_code == 204
    assert post(api, f"/accounts/{site.account.pk}/subscription").status_code == 204
    response = post(api, f"/items/{item.pk}/shares")
    assert_error(response, 429, "rate_limited")
    assert response.has_header("Retry-After")
    assert not Share.objects.exists()


def test_the_openapi_document_lists_the_content_routes(client, db):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    assert {"get"} <= set(paths[f"{API}/channels"])
    assert {"get"} <= set(paths[f"{API}/columns"])
    assert {"get", "post"} <= set(paths[f"{API}/items"])
    assert {"get", "patch"} <= set(paths[f"{API}/items/{{item_id}}"])
    assert {"get"} <= set(paths[f"{API}/search"])
    assert {"post", "delete"} <= set(paths[f"{API}/items/{{item_id}}/favourite"])
    assert {"post", "delete"} <= set(paths[f"{API}/accounts/{{account_id}}/subscription"])
    assert {"post"} <= set(paths[f"{API}/items/{{item_id}}/shares"])


# --- fuzzing with credentials (SECURITY S16) -----------------------------------------------------
#
# test_fuzz.py fuzzes every operation without credentials (so these answer 401 there); here the
# content operations are fuzzed as a signed-in editor of the root, over real channels, columns
# and items, on whichever database the suite runs.

fuzz_schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application()
).include(tag="内容")


@dataclass
class FuzzWorld:
    token: str
    ids: dict[str, list[int]]  # real ids of each kind of object

    def steer(self, case: Any) -> None:
        """Point generated ids that are valid numbers at real objects, so that the fuzzing
        reaches past the 404s into the writes; anything else is left as generated."""

        def real(kind: str, value: Any) -> Any:
            number = value
            digits = isinstance(value, str) and value.isascii() and value.isdigit()
            if digits or (isinstance(value, float) and value.is_integer()):
                number = int(value)
            if type(number) is int and 1 <= number <= content_api.MAX_ID:
                return self.ids[kind][number % len(self.ids[kind])]
            return value

        for name, kind in (("item_id", "item"), ("account_id", "account")):
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = real(kind, case.path_parameters[name])
        for name in ("column", "channel", "account"):
            if case.query and name in case.query:
                case.query[name] = real(name, case.query[name])
        if isinstance(case.body, dict):
            for name, kind in (("column_id", "column"), ("account_id", "account")):
                if name in case.body:
                    case.body[name] = real(kind, case.body[name])


@pytest.fixture
def fuzz_world(db: Any, monkeypatch: pytest.MonkeyPatch) -> FuzzWorld:
    for limit in ("SEARCHES_PER_MINUTE", "ACTIONS_PER_MINUTE", "EDITS_PER_MINUTE"):
        monkeypatch.setattr(content_api, limit, 10**6)
    site = make_site()
    items = [
        make_item(site.column, title=f"乡村振兴第{number}篇", account=site.account)
        for number in range(3)
    ]
    items.append(make_item(site.local_column, title="视频", kind=ItemKind.VIDEO, media="m/v.mp4"))
    items.append(make_item(site.column, title="草稿", published=False))
    editor = grant(UserFactory.create(phone="13812340099"), site.root)
    return FuzzWorld(
        token=token_issue(user=editor).access_token,
        ids={
            "item": [item.pk for item in items],
            "column": [site.column.pk, site.local_column.pk],
            "channel": [site.national.pk, site.local.pk],
            "account": [site.account.pk],
        },
    )


@pytest.mark.django_db(transaction=True)
@fuzz_schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_content_operations_never_fail_for_a_signed_in_editor(case, fuzz_world):
    fuzz_world.steer(case)
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_world.token}"}, checks=[not_a_server_error]
    )
    if response.status_code >= 400:
        assert set(response.json()) == ERROR_SHAPE, (case.method, case.path, response.text[:200])
