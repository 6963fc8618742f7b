"""Editors' writes (scoped, sanitised, audited) and members' actions (idempotent, paid once)."""

from __future__ import annotations

import datetime as dt
import io
import math
import struct
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from xuexi.accounts.tests.factories import UserFactory
from xuexi.content import access
from xuexi.content.models import Favourite, Item, ItemStatus, ReadingHistory, Subscription
from xuexi.content.services import (
    ItemFiles,
    favourite_add,
    item_create,
    item_update,
    local_channel_visit,
    share_create,
    share_visit,
    subscription_add,
    subscription_remove,
)
from xuexi.content.tests.factories import grant, make_item, make_site
from xuexi.core.audit import AuditEntry
from xuexi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xuexi.points.models import LedgerEntry, RuleSet
from xuexi.points.tests.conftest import TEST_RULES, install

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return make_site()


@pytest.fixture
def paying_rules():
    RuleSet.objects.all().delete()
    data = {**TEST_RULES, "rules": [*TEST_RULES["rules"],
            {"code": "share", "title": "分享", "points": 1, "daily_cap": 1},
            {"code": "local_channel", "title": "本地频道", "points": 1, "daily_cap": 1},
            {"code": "favourite", "title": "收藏", "points": 1, "daily_cap": 1}]}  # fmt: skip
    install(data, dt.date(2020, 1, 1))


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")


def test_editors_edit_only_channels_under_their_node(site):
    national_editor = grant(UserFactory.create(), site.root)
    local_editor = grant(UserFactory.create(), site.province)
    member = UserFactory.create()

    assert access.access_column_as_editor(national_editor, site.local_column.pk)
    assert access.access_column_as_editor(local_editor, site.local_column.pk)
    with pytest.raises(NotFound):
        access.access_column_as_editor(local_editor, site.column.pk)
    with pytest.raises(Forbidden):
        access.access_column_as_editor(member, site.column.pk)
    assert set(access.editable_channels(local_editor)) == {site.local}


def test_an_item_is_stored_sanitised_indexed_and_audited(site):
    editor = grant(UserFactory.create(), site.root)
    item = item_create(
        actor=editor,
        column=site.column,
        kind="article",
        data={"title": " 推进 乡村振兴 ", "body": '<p onclick="x()">农业农村<script>x</script></p>',
              "tags": "三农，乡村振兴,三农"},
        files=ItemFiles(cover=png()),
        publish=True,
    )  # fmt: skip
    item.refresh_from_db()
    assert item.title == "推进 乡村振兴"
    assert item.body == "<p>农业农村</p>"
    assert item.summary == "农业农村"
    assert item.tags == "三农,乡村振兴"
    assert item.status == ItemStatus.PUBLISHED
    assert item.published_at is not None
    assert "乡村" in item.search_text.split()
    assert "农村" in item.search_text.split()
    assert item.cover.name.endswith(".png")
    assert AuditEntry.objects.filter(action="content.item_create", target_id=str(item.pk)).exists()


def test_bad_input_is_refused_and_changes_nothing(site):
    editor = grant(UserFactory.create(), site.root)
    cases = [
        ({"title": ""}, None, "title"),
        ({"title": "标" * 121}, None, "title"),
        ({"title": "空文章", "body": "<script>x</script>"}, None, "body"),
        ({"title": "坏封面"}, ItemFiles(cover=SimpleUploadedFile("a.png", b"no image")), "cover"),
    ]  # fmt: skip
    for data, files, field in cases:
        with pytest.raises(ValidationFailed) as caught:
            item_create(actor=editor, column=site.column, kind="article", data=data,
                        files=files, publish=True)  # fmt: skip
        assert field in caught.value.details["fields"]
    assert Item.objects.count() == 0


def wav_bytes(seconds: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(struct.pack("<h", int(1000 * math.sin(i / 5)))
                                 for i in range(8000 * seconds)))  # fmt: skip
    return buffer.getvalue()


def test_media_of_the_wrong_type_is_refused(site):
    editor = grant(UserFactory.create(), site.root)
    for upload in (
        SimpleUploadedFile(
            "song.mp3", wav_bytes(1), content_type="audio/mpeg"
        ),  # a WAV in disguise
        SimpleUploadedFile("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64),  # broken
        SimpleUploadedFile("page.mp4", b"<html><script>alert(1)</script></html>"),
    ):
        kind = "audio" if str(upload.name).endswith(".mp3") else "video"
        with pytest.raises(ValidationFailed) as caught:
            item_create(actor=editor, column=site.column, kind=kind, data={"title": "坏文件"},
                        files=ItemFiles(media=upload))  # fmt: skip
        assert "media" in caught.value.details["fields"]


def test_oversized_uploads_are_refused(site, settings):
    settings.CONTENT_UPLOAD_LIMITS = {"image": 20}
    editor = grant(UserFactory.create(), site.root)
    with pytest.raises(ValidationFailed) as caught:
        item_create(actor=editor, column=site.column, kind="article",
                    data={"title": "大图"}, files=ItemFiles(cover=png()))  # fmt: skip
    assert "过大" in caught.value.details["fields"]["cover"]


def test_withdrawing_and_featuring(site):
    editor = grant(UserFactory.create(), site.root)
    item = make_item(site.column)
    item = item_update(actor=editor, item=item, data={"featured": True, "recommended": True})
    assert item.featured
    assert item.recommended
    with pytest.raises(ValidationFailed):
        item_update(actor=editor, item=item, data={"status": "withdrawn"})  # still featured
    item = item_update(actor=editor, item=item, data={"status": "withdrawn", "featured": False})
    assert item.status == ItemStatus.WITHDRAWN


def test_subscribing_pays_once_per_account_and_counts_subscribers(site, paying_rules):
    member = UserFactory.create()
    first = subscription_add(member=member, account=site.account)
    again = subscription_add(member=member, account=site.account)
    assert (first.points, again.points, again.reason) == (1, 0, "duplicate")
    site.account.refresh_from_db()
    assert site.account.subscriber_count == 1
    subscription_remove(member=member, account=site.account)
    subscription_remove(member=member, account=site.account)
    site.account.refresh_from_db()
    assert site.account.subscriber_count == 0
    assert not Subscription.objects.exists()
    assert LedgerEntry.objects.filter(member=member, rule="subscribe").count() == 1


def test_sharing_pays_once_a_day_and_the_link_works_without_login(site, paying_rules, client):
    member = UserFactory.create()
    item = make_item(site.column)
    share, award = share_create(member=member, item=item)
    same, again = share_create(member=member, item=item)
    assert same.pk == share.pk
    assert (award.points, again.points) == (1, 0)
    assert share_visit(share.token) == item
    assert share_visit("nope") is None


def test_favourites_and_the_local_channel_pay_by_the_day_s_rules(site, paying_rules):
    member = UserFactory.create()
    item = make_item(site.column)
    assert favourite_add(member=member, item=item).points == 1
    assert favourite_add(member=member, item=item).duplicate
    assert Favourite.objects.filter(member=member).count() == 1
    assert local_channel_visit(member=member).points == 1
    assert local_channel_visit(member=member).points == 0


def test_members_cannot_act_on_unpublished_items(site, paying_rules):
    member = UserFactory.create()
    draft = make_item(site.column, published=False)
    with pytest.raises(Conflict):
        favourite_add(member=member, item=draft)
    with pytest.raises(Conflict):
        share_create(member=member, item=draft)
    assert not ReadingHistory.objects.exists()


def test_the_project_s_demo_media_pass_the_checks(site):
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "demo_media"
    editor = grant(UserFactory.create(), site.root)
    video = item_create(
        actor=editor,
        column=site.column,
        kind="video",
        data={"title": "示范视频"},
        files=ItemFiles(
            media=SimpleUploadedFile("v.mp4", (folder / "demo-video.mp4").read_bytes()),
            poster=SimpleUploadedFile("p.jpg", (folder / "demo-poster.jpg").read_bytes()),
        ),
        publish=True,
    )
    audio = item_create(
        actor=editor,
        column=site.column,
        kind="audio",
        data={"title": "示范音频"},
        files=ItemFiles(
            media=SimpleUploadedFile("a.m4a", (folder / "demo-audio.m4a").read_bytes())
        ),
        publish=True,
    )
    assert (video.media_type, video.duration) == ("video/mp4", 24)
    assert (audio.media_type, audio.duration) == ("audio/mp4", 30)
