"""The demo's learning content: channels and columns, 强国号 accounts, ~320 original items with
playable media and covers, the members' subscriptions, favourites and history — sanitised,
indexed, deterministic and seeded once.

The organisations' demo and the content are seeded once for the module (~2 s on SQLite) inside
a transaction rolled back at the end, with the media in a folder of the module's own; each test
runs in its own savepoint within it. Instead of the points' 30 days (~5 s), two bulk members get
a few hand-made demo logins: their reading history must follow them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.test import override_settings
from PIL import Image

from xuexi.accounts.models import User
from xuexi.content import demo as content_demo
from xuexi.content.media import check_media
from xuexi.content.models import (
    Account,
    AccountKind,
    Channel,
    ChannelKind,
    Column,
    Favourite,
    Item,
    ItemKind,
    ItemStatus,
    ReadingHistory,
    Subscription,
)
from xuexi.content.sanitize import body_text, sanitize_body
from xuexi.content.search import segment, words
from xuexi.core.time import BUSINESS_TZ, business_day, now
from xuexi.organizations import demo as organizations_demo
from xuexi.organizations.models import Organization, OrganizationKind
from xuexi.points.demo import DEMO_SOURCE_TYPE
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.tests.conftest import TEST_RULES, install

pytestmark = pytest.mark.django_db

SEARCH_TERMS = ("乡村振兴", "生态环境", "科技创新", "党史", "志愿服务", "基层治理")
LOGIN_DAYS_AGO = (2, 4)


@dataclass(frozen=True)
class Seeded:
    summary: content_demo.ContentDemoSummary
    at: dt.datetime
    media: Path
    logins: dict[int, list[dt.datetime]]  # bulk member id → his hand-made demo logins
    ledger: int  # ledger entries before the content was seeded


def _logins(at: dt.datetime) -> dict[int, list[dt.datetime]]:
    """Demo logins in the evening 2 and 4 days ago for two long-registered bulk members."""
    ruleset = RuleSet.objects.order_by("pk").first() or install(TEST_RULES, dt.date(2020, 1, 1))
    members = User.objects.filter(
        phone__startswith=organizations_demo.MEMBER_PHONE_PREFIX,
        registered_at__lte=at - dt.timedelta(days=10),
    ).order_by("phone")[:2]
    logins: dict[int, list[dt.datetime]] = {}
    for member in members:
        for days in LOGIN_DAYS_AGO:
            day = business_day(at) - dt.timedelta(days=days)
            moment = dt.datetime.combine(day, dt.time(19, 30), tzinfo=BUSINESS_TZ)
            LedgerEntry.objects.create(
                member=member,
                rule="login",
                points=1,
                day=day,
                at=moment,
                source_type=DEMO_SOURCE_TYPE,
                source_id=f"{day.isoformat()}-01",
                ruleset=ruleset,
            )
            logins.setdefault(member.pk, []).append(moment)
    return logins


@pytest.fixture(scope="module")
def seeded(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    media = tmp_path_factory.mktemp("demo-media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(media)),
        transaction.atomic(),
    ):
        organizations_demo.demo_seed()
        at = now()
        logins = _logins(at)
        ledger = LedgerEntry.objects.count()
        summary = content_demo.seed_content(at=at)
        connection.check_constraints()
        yield Seeded(summary, at, media, logins, ledger)
        transaction.set_rollback(True)


@pytest.fixture
def demo_media(seeded: Seeded, settings: Any) -> Path:
    """The module's media folder as MEDIA_ROOT (each test otherwise gets an empty one)."""
    settings.MEDIA_ROOT = str(seeded.media)
    return seeded.media


def _province() -> Organization:
    return Organization.objects.get(code=organizations_demo.PROVINCE_CODE)


def test_a_national_channel_and_the_provinces_local_channel_with_ordered_columns(
    seeded: Seeded,
) -> None:
    national = Channel.objects.get(kind=ChannelKind.NATIONAL)
    assert national.platform.code == organizations_demo.PLATFORM_CODE
    assert national.platform.is_root()
    local = Channel.objects.get(kind=ChannelKind.LOCAL)
    # The demo tree has no platform node of its own for the province: the province is it.
    assert local.platform == _province()
    assert local.platform.kind == OrganizationKind.PROVINCE
    assert local.name == "示范省"

    top = Column.objects.filter(parent__isnull=True)
    assert top.filter(channel=national).count() >= 12
    assert top.filter(channel=local).count() >= 4
    names = list(top.filter(channel=national).values_list("name", flat=True))
    assert names[:2] == ["重要新闻", "学习理论"]  # ordered by position
    for column in Column.objects.all():
        siblings = Column.objects.filter(channel=column.channel, parent=column.parent)
        assert len(set(siblings.values_list("position", flat=True))) == siblings.count()
        if column.parent is not None:
            assert column.parent.channel == column.channel
    with_children = Column.objects.filter(children__isnull=False).distinct()
    assert set(with_children.values_list("name", flat=True)) == {"党史学习", "视听学习", "基层动态"}
    cities = Organization.objects.filter(kind=OrganizationKind.CITY).values_list("name", flat=True)
    grassroots = Column.objects.get(channel=local, name="基层动态")
    assert set(grassroots.children.values_list("name", flat=True)) == set(cities)


def test_about_three_hundred_items_in_a_dozen_columns_with_videos_and_audio(
    seeded: Seeded,
) -> None:
    assert Item.objects.count() >= 250
    per_column = Item.objects.values("column").annotate(n=Count("id"))
    assert len(per_column) >= 12
    assert min(row["n"] for row in per_column) >= 4
    assert Item.objects.filter(kind=ItemKind.ARTICLE).count() >= 200
    assert 15 <= Item.objects.filter(kind=ItemKind.VIDEO).count() <= 30
    assert 8 <= Item.objects.filter(kind=ItemKind.AUDIO).count() <= 15
    assert Item.objects.filter(column__channel__kind=ChannelKind.LOCAL).count() >= 60
    summary = seeded.summary
    assert summary.articles + summary.videos + summary.audio == Item.objects.count()
    assert summary.history == ReadingHistory.objects.count() > 0


def test_videos_and_audio_point_at_readable_files_stored_once_per_kind(
    seeded: Seeded, demo_media: Path
) -> None:
    media = Item.objects.exclude(kind=ItemKind.ARTICLE)
    assert media.values("media").distinct().count() == 2
    checked = {}
    for item in media:
        assert item.media.name.startswith("media/demo/")
        if item.media.name not in checked:
            data = default_storage.open(item.media.name, "rb").read()
            assert len(data) < 300 * 1024  # the shipped files are small
            checked[item.media.name] = check_media(
                SimpleUploadedFile(Path(item.media.name).name, data), item.kind
            )
        assert checked[item.media.name].duration == item.duration >= 1
        assert checked[item.media.name].content_type == item.media_type
        assert item.cover
    for video in media.filter(kind=ItemKind.VIDEO):
        with Image.open(default_storage.open(video.poster.name, "rb")) as poster:
            assert poster.format == "JPEG"


def test_covers_and_avatars_are_small_jpegs_drawn_by_the_project(
    seeded: Seeded, demo_media: Path
) -> None:
    covers = set(Item.objects.exclude(cover="").values_list("cover", flat=True))
    assert len(covers) >= 12
    assert Item.objects.filter(kind=ItemKind.ARTICLE, cover="").exists()  # not every article
    for name in covers:
        data = default_storage.open(name, "rb").read()
        assert len(data) < 40 * 1024
        with Image.open(io.BytesIO(data)) as image:
            assert (image.format, image.size) == ("JPEG", content_demo.COVER_SIZE)
    for account in Account.objects.all():
        with Image.open(default_storage.open(account.avatar.name, "rb")) as image:
            assert image.size == content_demo.AVATAR_SIZE


def test_pictures_are_deterministic_and_drawn_without_the_cjk_font_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn = content_demo.picture("乡村振兴", ("#2e7d32", "#9ccc65"), label="学习平台")
    assert drawn == content_demo.picture("乡村振兴", ("#2e7d32", "#9ccc65"), label="学习平台")
    monkeypatch.setattr(content_demo, "FONT_PATHS", ("/nonexistent/NotoSansCJK.ttc",))
    monkeypatch.setattr(content_demo, "_fonts", {})
    plain = content_demo.picture("乡村振兴", ("#2e7d32", "#9ccc65"), label="学习平台")
    with Image.open(io.BytesIO(plain)) as image:
        assert (image.format, image.size) == ("JPEG", content_demo.COVER_SIZE)


def test_accounts_belong_to_demo_organisations_and_publish(seeded: Seeded) -> None:
    province = _province()
    accounts = list(Account.objects.select_related("organization"))
    assert 6 <= len(accounts) <= 10
    kinds = {account.kind for account in accounts}
    assert kinds == {AccountKind.INSTITUTION, AccountKind.LOCAL_PLATFORM}
    subscriptions = dict(
        Subscription.objects.values_list("account").annotate(n=Count("id")).order_by()
    )
    for account in accounts:
        assert account.organization.path.startswith(province.path)
        assert 10 <= len(account.intro) <= 200
        assert account.avatar.name
        assert Item.objects.published().filter(account=account).count() >= 3
        assert account.subscriber_count == subscriptions.get(account.pk, 0) > 0
        published = Item.objects.filter(account=account)
        assert set(published.values_list("source", flat=True)) == {account.name}
    owners = {account.organization.name for account in accounts}
    assert {"示范省", "省委宣传部", "东州市", "晨光区"} <= owners


def test_every_item_is_stored_sanitised_and_indexed_as_the_services_do(seeded: Seeded) -> None:
    for item in Item.objects.all():
        assert sanitize_body(item.body) == item.body, item.title
        assert item.search_text == segment(
            item.title, item.summary, body_text(item.body), item.tags
        )
        assert 0 < len(item.title) <= 120
        assert 0 < len(item.summary) <= 300
        assert len(item.tags) <= 200
        assert item.tags.split(",")[0]
        assert "" not in item.tags.split(",")
        assert item.source
        assert item.author
    articles = Item.objects.filter(kind=ItemKind.ARTICLE)
    for article in articles:
        assert article.body.count("<p>") >= 3, article.title
        assert len(body_text(article.body)) >= 120
    for tag in ("<h3>", "<blockquote>", "<ol>", "<ul>"):
        assert articles.filter(body__contains=tag).count() >= 10, tag


def test_no_two_items_read_the_same(seeded: Seeded) -> None:
    articles = list(Item.objects.filter(kind=ItemKind.ARTICLE).values_list("body", flat=True))
    assert len(set(articles)) == len(articles)
    titles = list(Item.objects.values_list("title", flat=True))
    assert len(set(titles)) == len(titles)
    bodies = list(Item.objects.values_list("body", flat=True))
    assert len(set(bodies)) == len(bodies)


def test_publishing_spreads_over_sixty_days_with_drafts_scheduled_and_withdrawn_items(
    seeded: Seeded,
) -> None:
    at = seeded.at
    drafts = Item.objects.filter(status=ItemStatus.DRAFT)
    assert drafts.count() == 3
    assert not drafts.filter(published_at__isnull=False).exists()
    scheduled = Item.objects.filter(status=ItemStatus.PUBLISHED, published_at__gt=at)
    assert scheduled.count() == 3
    tomorrow = business_day(at) + dt.timedelta(days=1)
    assert {business_day(item.published_at) for item in scheduled} == {tomorrow}
    assert not Item.objects.published().filter(pk__in=scheduled).exists()
    assert Item.objects.filter(status=ItemStatus.WITHDRAWN).count() == 3

    live = Item.objects.published()
    assert live.count() == Item.objects.count() - 9
    oldest = live.order_by("published_at").first()
    assert oldest is not None
    assert oldest.published_at is not None
    assert oldest.published_at >= at - dt.timedelta(days=content_demo.DEMO_DAYS + 1)
    assert live.filter(published_at__gte=at - dt.timedelta(days=2)).count() >= 5
    moments = [moment for moment in live.values_list("published_at", flat=True) if moment]
    assert len({business_day(moment) for moment in moments}) >= 50
    hours = {moment.astimezone(BUSINESS_TZ).hour for moment in moments}
    assert min(hours) >= 7
    assert max(hours) <= 21

    featured = Item.objects.filter(featured=True)
    assert featured.count() == 5
    assert set(featured.values_list("status", flat=True)) == {ItemStatus.PUBLISHED}
    assert live.filter(featured=True).count() == 5
    assert not featured.filter(cover="").exists()
    assert 20 <= live.filter(recommended=True).count() <= 80
    assert not Item.objects.exclude(status=ItemStatus.PUBLISHED).filter(recommended=True).exists()


def test_read_counts_are_plausible(seeded: Seeded) -> None:
    live = Item.objects.published()
    assert not live.filter(read_count=0).exists()
    assert not Item.objects.filter(status=ItemStatus.DRAFT, read_count__gt=0).exists()
    assert live.aggregate(top=Max("read_count"))["top"] < 100_000
    visits = dict(ReadingHistory.objects.values_list("item").annotate(v=Sum("visits")).order_by())
    for item_id, read_count in live.values_list("id", "read_count"):
        assert read_count >= visits.get(item_id, 0)


@pytest.mark.parametrize("term", SEARCH_TERMS)
def test_recurring_terms_are_found_by_search_in_many_items(seeded: Seeded, term: str) -> None:
    wanted = words(term)
    found = [
        text
        for text in Item.objects.values_list("search_text", flat=True)
        if set(wanted) <= set(text.split())
    ]
    assert len(found) >= 8, (term, wanted, len(found))


def test_the_demo_member_has_subscriptions_favourites_and_recent_history(seeded: Seeded) -> None:
    member = User.objects.get(phone="13800000005")
    subscribed = set(
        Subscription.objects.filter(member=member).values_list("account__name", flat=True)
    )
    assert {"示范省学习平台", "晨光区融媒体中心"} <= subscribed
    history = ReadingHistory.objects.filter(member=member).select_related("item")
    assert history.count() >= 20
    days = {business_day(row.first_at) for row in history}
    assert len(days) >= 8  # the last ten evenings (no points demo here)
    assert max(days) == business_day(seeded.at) - dt.timedelta(days=1)
    assert history.filter(item__kind__in=[ItemKind.VIDEO, ItemKind.AUDIO]).exists()
    for row in history:
        assert row.item.published_at is not None
        assert row.item.published_at <= row.first_at <= row.last_at <= seeded.at
        assert row.visits >= 1
    favourites = Favourite.objects.filter(member=member)
    assert favourites.count() == content_demo.DEMO_FAVOURITES["13800000005"]
    assert set(favourites.values_list("item", flat=True)) <= set(
        history.values_list("item", flat=True)
    )


def test_bulk_members_read_when_they_logged_in_and_no_points_are_written(seeded: Seeded) -> None:
    for member_id, moments in seeded.logins.items():
        history = ReadingHistory.objects.filter(member_id=member_id)
        days = {business_day(row.first_at) for row in history}
        assert days == {business_day(moment) for moment in moments}
        for row in history:
            assert any(moment < row.first_at < moment + dt.timedelta(hours=2) for moment in moments)
    readers = set(ReadingHistory.objects.values_list("member_id", flat=True))
    demo_ids = set(User.objects.filter(phone__startswith="1380000000").values_list("pk", flat=True))
    assert readers == set(seeded.logins) | demo_ids
    assert Subscription.objects.values("member").distinct().count() > 1000
    assert LedgerEntry.objects.count() == seeded.ledger  # the content writes no points
    assert not Subscription.objects.filter(member__registered_at__isnull=True).exists()


def test_seeding_again_changes_nothing(seeded: Seeded) -> None:
    def state() -> tuple[object, ...]:
        return (
            Item.objects.aggregate(n=Count("id"), last=Max("id"), reads=Sum("read_count")),
            Column.objects.count(),
            Channel.objects.count(),
            Account.objects.aggregate(n=Count("id"), subscribers=Sum("subscriber_count")),
            Subscription.objects.count(),
            Favourite.objects.count(),
            ReadingHistory.objects.count(),
        )

    before = state()
    assert content_demo.content_demo_exists()
    assert content_demo.seed_content() == seeded.summary
    assert state() == before


def test_the_command_reports_the_content(seeded: Seeded) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "已存在" in out.getvalue()
    assert f"文章 {seeded.summary.articles} 篇" in out.getvalue()
    assert f"视频 {seeded.summary.videos} 个" in out.getvalue()


def _snapshot() -> list[object]:
    """Every row the content demo writes, timestamps included, by natural keys."""
    rows: list[object] = []
    rows += Channel.objects.order_by("kind").values_list("kind", "name", "platform__code")
    rows += Column.objects.order_by("channel__kind", "slug").values_list(
        "channel__kind", "slug", "name", "parent__slug", "position"
    )
    rows += Account.objects.order_by("name").values_list(
        "name", "kind", "organization__code", "intro", "avatar", "subscriber_count", "created_at"
    )
    rows += Item.objects.order_by("title").values_list(
        "title", "column__slug", "kind", "account__name", "summary", "body", "tags", "source",
        "author", "cover", "media", "poster", "duration", "status", "published_at",
        "recommended", "featured", "read_count", "search_text", "created_at",
    )  # fmt: skip
    rows += Subscription.objects.order_by("member__phone", "account__name").values_list(
        "member__phone", "account__name", "created_at"
    )
    rows += Favourite.objects.order_by("member__phone", "item__title").values_list(
        "member__phone", "item__title", "created_at"
    )
    rows += ReadingHistory.objects.order_by("member__phone", "item__title").values_list(
        "member__phone", "item__title", "first_at", "last_at", "visits"
    )
    return rows


def _content_delete() -> None:
    for model in (ReadingHistory, Favourite, Subscription, Item):
        model.objects.all().delete()
    Column.objects.filter(parent__isnull=False).delete()
    for other in (Column, Account, Channel):
        other.objects.all().delete()


def test_the_same_seed_and_moment_give_the_same_content(seeded: Seeded, demo_media: Path) -> None:
    first = _snapshot()
    before = transaction.savepoint()
    _content_delete()
    assert not content_demo.content_demo_exists()
    content_demo.seed_content(at=seeded.at)  # files already stored are found, not copied again
    assert _snapshot() == first
    transaction.savepoint_rollback(before)

    _content_delete()
    content_demo.seed_content(seed=7, at=seeded.at)
    assert _snapshot() != first
    total = seeded.summary.articles + seeded.summary.videos + seeded.summary.audio
    assert Item.objects.count() == total
    # The files were found again by their bytes: no copies with a random suffix.
    covers = set(Item.objects.exclude(cover="").values_list("cover", flat=True))
    assert all(re.fullmatch(r"covers/demo/[a-z0-9-]+-[01]\.jpg", name) for name in covers)
