"""The content console (内容管理 · 栏目管理 · 强国号): editors create, edit, publish, schedule,
withdraw, recommend and feature items, upload body images, order columns and keep 强国号 —
inside their channels only, sanitised, audited, and with nothing saved when a check refuses."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from xuexi.accounts.tests.factories import UserFactory
from xuexi.content.models import Account, Column, Item, ItemStatus
from xuexi.content.tests.factories import Site, grant, make_item, make_site
from xuexi.core.models import AuditEntry
from xuexi.core.time import BUSINESS_TZ, now
from xuexi.organizations.models import Role

pytestmark = pytest.mark.django_db

DEMO_MEDIA = Path(__file__).resolve().parents[1] / "demo_media"


@pytest.fixture
def site() -> Site:
    return make_site()


@pytest.fixture
def editor(site: Site) -> Any:
    """The national editor: an editing role on the root, no administrative role."""
    return grant(UserFactory.create(real_name="王编辑"), site.root)


@pytest.fixture
def local_editor(site: Site) -> Any:
    return grant(UserFactory.create(real_name="李编辑"), site.province)


def png(size: tuple[int, int] = (8, 8), name: str = "picture.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def media_files(root: Any) -> list[Path]:
    return [path for path in Path(root).rglob("*") if path.is_file()]


def item_form(site: Site, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "article",
        "column": str(site.column.pk),
        "account": "",
        "title": "乡村振兴的新答卷",
        "summary": "",
        "source": "新华社",
        "author": "记者 张三",
        "tags": "乡村振兴，三农",
        "body": "<h2>产业兴旺</h2><p>村里建起了合作社。</p>",
        "publish_at": "",
        "go": "save",
        **changes,
    }


def local_time(moment: dt.datetime) -> str:
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m-%dT%H:%M")


# --- items ------------------------------------------------------------------------------------


def test_an_editor_saves_a_draft_and_sees_the_sanitised_body_after_saving(client, site, editor):
    client.force_login(editor)
    body = '<p onclick="steal()">正文<script>alert(1)</script></p><img src="https://evil.example/x.png">'
    response = client.post(reverse("console:content_item_create"), item_form(site, body=body))
    item = Item.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:content_item_edit", args=[item.pk])
    assert (item.status, item.published_at, item.created_by) == (ItemStatus.DRAFT, None, editor)
    assert item.body == "<p>正文</p><img>"  # a remote image loses its src (sanitize.py)
    assert (item.source, item.author, item.tags) == ("新华社", "记者 张三", "乡村振兴,三农")
    assert AuditEntry.objects.filter(action="content.item_create", target_id=str(item.pk)).exists()

    page = client.get(response["Location"]).content.decode()
    assert "已保存「乡村振兴的新答卷」（草稿）。" in page
    assert '<div class="content-preview-body"><p>正文</p><img></div>' in page
    assert "alert(1)" not in page
    assert "evil.example" not in page


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">点我</a>',
        '<iframe src="https://evil.example"></iframe>',
        '<svg onload="alert(1)"><circle r="1"/></svg>',
        '<p style="background:url(javascript:alert(1))">样式</p>',
        '<img src="//evil.example/track.png">',
        '<img src="data:image/png;base64,AAAA">',
        '<form action="https://evil.example"><input name="x"></form>',
        '<a href="https://example.com" onmouseover="alert(1)">链接</a>',
    ],
)
def test_xss_in_the_body_is_stored_sanitised(client, site, editor, payload):
    client.force_login(editor)
    response = client.post(
        reverse("console:content_item_create"),
        item_form(site, body=f"<p>安全的段落</p>{payload}"),
    )
    assert response.status_code == 302
    stored = Item.objects.get().body
    assert stored.startswith("<p>安全的段落</p>")
    page = client.get(response["Location"]).content.decode()
    preview = page.split('<div class="content-preview-body">')[1].split("</section>")[0]
    for bad in ("<script", "onerror", "onload", "onmouseover", "javascript:", "<iframe",
                "evil.example", "style=", "data:", "<form", "<input", "<svg"):  # fmt: skip
        assert bad not in stored, (payload, stored)
        assert bad not in preview, (payload, bad)


def test_publishing_from_the_form_puts_the_item_out_now(client, site, editor):
    client.force_login(editor)
    client.post(reverse("console:content_item_create"), item_form(site, go="publish"))
    item = Item.objects.get()
    assert item.status == ItemStatus.PUBLISHED
    assert item.published_at is not None
    assert abs((now() - item.published_at).total_seconds()) < 60
    assert list(Item.objects.published()) == [item]


def test_a_scheduled_item_is_hidden_until_its_time_and_can_go_out_early(client, site, editor):
    client.force_login(editor)
    when = (now() + dt.timedelta(days=1)).replace(second=0, microsecond=0)
    response = client.post(
        reverse("console:content_item_create"),
        item_form(site, go="publish", publish_at=local_time(when)),
    )
    item = Item.objects.get()
    assert (item.status, item.published_at) == (ItemStatus.PUBLISHED, when)
    assert not Item.objects.published().exists()
    page = client.get(response["Location"]).content.decode()
    assert "将于" in page
    assert "定时" in page
    assert f'value="{local_time(when)}"' in page  # the time stays editable

    listed = client.get(reverse("console:content_items") + "?state=scheduled").content.decode()
    assert "乡村振兴的新答卷" in listed
    assert "立即发布" in listed
    assert (
        "乡村振兴的新答卷"
        not in client.get(reverse("console:content_items") + "?state=published").content.decode()
    )

    client.post(reverse("console:content_item_action", args=[item.pk]), {"action": "publish_now"})
    item.refresh_from_db()
    assert list(Item.objects.published()) == [item]


def test_rescheduling_and_clearing_the_time_of_a_scheduled_item(client, site, editor):
    client.force_login(editor)
    item = make_item(site.column)
    Item.objects.filter(pk=item.pk).update(published_at=now() + dt.timedelta(days=2))
    later = (now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    url = reverse("console:content_item_edit", args=[item.pk])
    form = item_form(site, go="publish", publish_at=local_time(later))
    form.pop("kind")
    client.post(url, form)
    item.refresh_from_db()
    assert item.published_at == later
    client.post(url, {**form, "publish_at": ""})  # no time: out now
    item.refresh_from_db()
    assert item.published_at is not None
    assert item.published_at <= now()
    assert Item.objects.published().filter(pk=item.pk).exists()


def test_a_publish_time_in_the_past_is_refused_and_nothing_is_saved(client, site, editor):
    client.force_login(editor)
    response = client.post(
        reverse("console:content_item_create"),
        item_form(site, go="publish", publish_at=local_time(now() - dt.timedelta(hours=1))),
    )
    assert response.status_code == 200
    assert "定时发布的时间须晚于现在" in response.content.decode()
    assert not Item.objects.exists()
    assert not AuditEntry.objects.exists()


def test_validation_errors_show_next_to_their_fields_in_chinese(client, site, editor):
    client.force_login(editor)
    response = client.post(
        reverse("console:content_item_create"),
        item_form(site, title="", column="", body="", go="publish"),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert '<p class="field-error" id="id_title_error">请填写标题。</p>' in page
    assert '<p class="field-error" id="id_column_error">请选择栏目。</p>' in page
    empty = client.post(
        reverse("console:content_item_create"), item_form(site, body="", go="publish")
    )
    assert '<p class="field-error" id="id_body_error">正文不能为空。</p>' in empty.content.decode()
    assert not Item.objects.exists()


def test_a_bad_upload_is_refused_before_anything_is_written(client, site, editor, settings):
    client.force_login(editor)
    response = client.post(
        reverse("console:content_item_create"),
        {
            **item_form(site, go="publish"),
            "cover": SimpleUploadedFile("cover.png", b"not an image at all"),
        },
    )
    assert response.status_code == 200
    assert "图片格式不支持" in response.content.decode()
    assert not Item.objects.exists()
    assert not AuditEntry.objects.exists()
    assert media_files(settings.MEDIA_ROOT) == []


def test_a_video_with_its_file_and_poster_and_the_limits_shown(client, site, editor, settings):
    client.force_login(editor)
    page = client.get(reverse("console:content_item_create")).content.decode()
    assert "视频：MP4，最大 200 MB；音频：MP3 或 M4A，最大 50 MB" in page
    assert "支持段落、标题、加粗、列表、引用、表格、图片" in page
    response = client.post(
        reverse("console:content_item_create"),
        {
            **item_form(site, kind="video", title="示范视频", body="", go="publish"),
            "media": SimpleUploadedFile("v.mp4", (DEMO_MEDIA / "demo-video.mp4").read_bytes()),
            "poster": SimpleUploadedFile("p.jpg", (DEMO_MEDIA / "demo-poster.jpg").read_bytes()),
        },
    )
    assert response.status_code == 302
    video = Item.objects.get()
    assert (video.kind, video.media_type, video.duration) == ("video", "video/mp4", 24)
    assert video.poster.name.startswith("posters/")
    edit = client.get(response["Location"]).content.decode()
    assert "当前文件：video/mp4，时长 24 秒" in edit
    assert "正文预览" not in edit


def test_a_video_without_its_file_cannot_be_published(client, site, editor):
    client.force_login(editor)
    response = client.post(
        reverse("console:content_item_create"),
        item_form(site, kind="video", title="缺文件的视频", go="publish"),
    )
    assert "请上传音视频文件。" in response.content.decode()
    assert not Item.objects.exists()


def test_editing_changes_the_text_column_and_account_and_is_audited(client, site, editor):
    client.force_login(editor)
    item = make_item(site.column, title="旧标题")
    form = item_form(
        site,
        title="新标题",
        column=str(site.local_column.pk),
        account=str(site.account.pk),
        body="<p>新的正文</p>",
    )
    form.pop("kind")
    response = client.post(reverse("console:content_item_edit", args=[item.pk]), form)
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.column, item.account, item.body) == (
        "新标题", site.local_column, site.account, "<p>新的正文</p>"
    )  # fmt: skip
    assert item.status == ItemStatus.PUBLISHED  # 保存修改 keeps it out
    entry = AuditEntry.objects.get(action="content.item_update")
    before, after = entry.before or {}, entry.after or {}
    assert before["title"] == "旧标题"
    assert after["title"] == "新标题"
    assert after["column"] == site.local_column.pk


def test_quick_actions_publish_withdraw_recommend_and_feature(client, site, editor):
    client.force_login(editor)
    item = make_item(site.column, published=False)
    action_url = reverse("console:content_item_action", args=[item.pk])
    back = reverse("console:content_items") + "?state=draft"

    def act(action: str) -> Item:
        response = client.post(action_url, {"action": action, "next": back})
        assert (response.status_code, response["Location"]) == (302, back)
        item.refresh_from_db()
        return item

    assert act("publish").status == ItemStatus.PUBLISHED
    assert act("recommend").recommended
    assert act("feature").featured
    page = client.get(reverse("console:content_items")).content.decode()
    assert "取消推荐" in page
    assert "取消焦点" in page
    withdrawn = act("withdraw")
    assert (withdrawn.status, withdrawn.featured) == (ItemStatus.WITHDRAWN, False)
    assert act("unrecommend").recommended is False
    assert AuditEntry.objects.filter(action="content.item_update").count() == 5


def test_a_quick_publish_of_an_empty_article_says_why_and_changes_nothing(client, site, editor):
    client.force_login(editor)
    item = make_item(site.column, body="", published=False)
    response = client.post(
        reverse("console:content_item_action", args=[item.pk]), {"action": "publish"}, follow=True
    )
    assert "未能完成操作：正文不能为空。" in response.content.decode()
    item.refresh_from_db()
    assert item.status == ItemStatus.DRAFT
    assert not AuditEntry.objects.exists()


def test_a_draft_cannot_be_featured(client, site, editor):
    client.force_login(editor)
    item = make_item(site.column, published=False)
    client.post(reverse("console:content_item_action", args=[item.pk]), {"action": "feature"})
    item.refresh_from_db()
    assert not item.featured


def test_quick_actions_return_only_to_console_pages(client, site, editor):
    client.force_login(editor)
    item = make_item(site.column)
    response = client.post(
        reverse("console:content_item_action", args=[item.pk]),
        {"action": "recommend", "next": "https://evil.example/console/content/"},
    )
    assert response["Location"] == reverse("console:content_items")


def test_the_list_filters_by_channel_column_kind_state_flag_and_title(client, site, editor):
    client.force_login(editor)
    child = Column.objects.create(
        channel=site.national, parent=site.column, name="子栏目", slug="sub"
    )
    make_item(site.column, title="全国文章")
    make_item(child, title="子栏目文章", recommended=True)
    make_item(site.local_column, title="本地视频", kind="video")
    make_item(site.local_column, title="本地草稿", published=False)
    url = reverse("console:content_items")

    def titles(query: str) -> set[str]:
        page = client.get(url + query).content.decode()
        return {t for t in ("全国文章", "子栏目文章", "本地视频", "本地草稿") if t in page}

    assert titles("") == {"全国文章", "子栏目文章", "本地视频", "本地草稿"}
    assert titles(f"?channel={site.local.pk}") == {"本地视频", "本地草稿"}
    assert titles(f"?column={site.column.pk}") == {"全国文章", "子栏目文章"}
    assert titles(f"?column={child.pk}") == {"子栏目文章"}
    assert titles("?kind=video") == {"本地视频"}
    assert titles("?state=draft") == {"本地草稿"}
    assert titles("?flag=recommended") == {"子栏目文章"}
    assert titles("?q=本地") == {"本地视频", "本地草稿"}
    assert titles("?kind=nonsense&state=nope&column=abc") == titles("")


def test_the_list_answers_in_a_constant_number_of_queries(client, site, editor):
    client.force_login(editor)
    url = reverse("console:content_items")
    for number in range(3):
        make_item(site.column, title=f"文章{number}", account=site.account)
    client.get(url)  # warm up (session, daily login point)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for number in range(15):
        column = site.column if number % 2 else site.local_column
        make_item(column, title=f"更多{number}", account=site.account, recommended=True)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many]
    assert len(many) <= 16


# --- body images ------------------------------------------------------------------------------


def test_a_body_image_is_stored_under_body_and_its_url_returned(client, editor, settings):
    client.force_login(editor)
    response = client.post(reverse("console:content_images"), {"image": png()})
    assert response.status_code == 201
    url = response.json()["url"]
    today = now().astimezone(BUSINESS_TZ)
    assert url.startswith(f"/media/body/{today:%Y}/{today:%m}/")
    assert url.endswith(".png")
    assert response.json()["html"] == f'<img src="{url}" alt="">'
    stored = Path(settings.MEDIA_ROOT) / url.removeprefix("/media/")
    assert stored.is_file()
    assert AuditEntry.objects.filter(action="content.body_image_upload").count() == 1


def test_the_sanitiser_keeps_an_uploaded_body_image(client, site, editor):
    client.force_login(editor)
    url = client.post(reverse("console:content_images"), {"image": png()}).json()["url"]
    client.post(
        reverse("console:content_item_create"),
        item_form(site, body=f'<p>图文</p><p><img src="{url}" alt="示意图"></p>'),
    )
    assert f'<img src="{url}" alt="示意图">' in Item.objects.get().body


def test_a_file_that_is_no_image_is_refused(client, editor, settings):
    client.force_login(editor)
    fake = SimpleUploadedFile("photo.png", b"<html><script>alert(1)</script></html>")
    response = client.post(reverse("console:content_images"), {"image": fake})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "图片格式不支持" in response.json()["details"]["fields"]["image"]
    assert media_files(settings.MEDIA_ROOT) == []
    missing = client.post(reverse("console:content_images"), {})
    assert (missing.status_code, missing.json()["message"]) == (422, "请选择图片。")


def test_a_body_image_over_the_limit_is_refused(client, editor, settings):
    settings.CONTENT_UPLOAD_LIMITS = {"image": 100}
    client.force_login(editor)
    response = client.post(reverse("console:content_images"), {"image": png((64, 64))})
    assert response.status_code == 422
    assert "文件过大" in response.json()["message"]
    assert media_files(settings.MEDIA_ROOT) == []


def test_only_editors_upload_body_images(client, site, settings):
    administrator = UserFactory.create()
    grant(administrator, site.province, role=Role.MAIN_ADMIN)
    client.force_login(administrator)
    response = client.post(reverse("console:content_images"), {"image": png()})
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    client.logout()
    anonymous = client.post(reverse("console:content_images"), {"image": png()})
    assert anonymous.status_code == 302
    assert media_files(settings.MEDIA_ROOT) == []


def test_the_form_uploads_a_body_image_and_inserts_it_without_saving(client, site, editor):
    client.force_login(editor)
    response = client.post(
        reverse("console:content_item_create"),
        {**item_form(site, go="image", body="<p>第一段</p>"), "body_image": png()},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert not Item.objects.exists()
    assert "图片已上传，并插入到正文末尾" in page
    assert "乡村振兴的新答卷" in page  # what was typed stays
    url = page.split('<code class="content-url">')[1].split("</code>")[0]
    assert f"&lt;p&gt;第一段&lt;/p&gt;\n&lt;p&gt;&lt;img src=&quot;{url}&quot;" in page
    bad = client.post(
        reverse("console:content_item_create"),
        {**item_form(site, go="image"), "body_image": SimpleUploadedFile("x.png", b"nope")},
    )
    assert "图片格式不支持" in bad.content.decode()


# --- columns ----------------------------------------------------------------------------------


def test_columns_are_created_renamed_reordered_and_switched_off(client, site, editor):
    client.force_login(editor)
    channel = site.national
    create = reverse("console:content_column_create", args=[channel.pk])
    response = client.post(create, {"name": "学习理论", "slug": "theory", "parent": ""})
    assert response["Location"] == reverse("console:content_columns", args=[channel.pk])
    theory = Column.objects.get(slug="theory")
    client.post(create, {"name": "党史故事", "slug": "stories", "parent": str(theory.pk)})
    stories = Column.objects.get(slug="stories")
    assert stories.parent == theory
    duplicate = client.post(create, {"name": "重复", "slug": "theory", "parent": ""})
    assert "该频道已有同样标识的栏目。" in duplicate.content.decode()
    bad_slug = client.post(create, {"name": "坏标识", "slug": "学习", "parent": ""})
    assert "标识只能使用英文字母" in bad_slug.content.decode()

    # Order among the top columns: 重要新闻 (news), 学习理论 (theory) → theory moves up.
    client.post(reverse("console:content_column_move", args=[theory.pk]), {"direction": "up"})
    tops = Column.objects.filter(channel=channel, parent=None).order_by("position", "id")
    assert [c.slug for c in tops] == ["theory", "news"]
    at_edge = client.post(
        reverse("console:content_column_move", args=[theory.pk]), {"direction": "up"}, follow=True
    )
    assert "已经排在最前面。" in at_edge.content.decode()
    page = client.get(reverse("console:content_columns", args=[channel.pk])).content.decode()
    assert page.index("学习理论") < page.index("党史故事") < page.index("重要新闻")

    client.post(
        reverse("console:content_column_edit", args=[stories.pk]),
        {"name": "党史小故事", "is_active": "on"},
    )
    client.post(reverse("console:content_column_switch", args=[stories.pk]), {"active": "0"})
    stories.refresh_from_db()
    assert (stories.name, stories.is_active) == ("党史小故事", False)
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        "content.column_create",
        "content.column_create",
        "content.column_move",
        "content.column_update",
        "content.column_update",
    ]
    move = AuditEntry.objects.get(action="content.column_move")
    assert (move.before, move.after) == ({"position": 1}, {"position": 0})
    # A switched-off column is no longer offered for new items.
    form = client.get(reverse("console:content_item_create")).content.decode()
    choices = form.split('id="id_column"')[1].split("</select>")[0]
    assert "学习理论" in choices
    assert "党史小故事" not in choices


def test_the_item_form_offers_columns_grouped_by_channel_and_indented(client, site, editor):
    Column.objects.create(
        channel=site.national, parent=site.column, name="时政要闻", slug="politics"
    )
    client.force_login(editor)
    page = client.get(reverse("console:content_item_create")).content.decode()
    assert '<optgroup label="全国">' in page
    assert '<optgroup label="示范省">' in page
    assert "\u3000└ 时政要闻" in page


# --- 强国号 ------------------------------------------------------------------------------------


def test_accounts_are_created_and_edited_within_the_scope_and_audited(client, site, local_editor):
    client.force_login(local_editor)
    create = reverse("console:content_account_create")
    form = {
        "name": "示范省文明办",
        "kind": "institution",
        "organization_code": site.province.code,
        "intro": "文明实践的新鲜事",
        "is_active": "on",
    }
    response = client.post(create, {**form, "avatar": png((64, 64), "avatar.png")})
    assert response["Location"] == reverse("console:content_accounts")
    account = Account.objects.get(name="示范省文明办")
    assert (account.organization, account.is_active) == (site.province, True)
    assert account.avatar.name.startswith("accounts/")

    outside = client.post(create, {**form, "name": "越界号", "organization_code": site.root.code})
    assert "找不到该组织，或它不在您的管理范围内。" in outside.content.decode()
    same_name = client.post(create, {**form, "organization_code": site.province.code})
    assert "已有同名的强国号。" in same_name.content.decode()
    bad_avatar = client.post(
        create, {**form, "name": "坏头像", "avatar": SimpleUploadedFile("a.png", b"x")}
    )
    assert "图片格式不支持" in bad_avatar.content.decode()
    assert not Account.objects.filter(name__in=["越界号", "坏头像"]).exists()

    edit = reverse("console:content_account_edit", args=[account.pk])
    client.post(edit, {**form, "name": "示范省文明实践", "is_active": ""})
    account.refresh_from_db()
    assert (account.name, account.is_active) == ("示范省文明实践", False)
    listed = client.get(reverse("console:content_accounts")).content.decode()
    assert "示范省文明实践" in listed
    assert "停用" in listed
    entries = AuditEntry.objects.filter(action__startswith="content.account").order_by("id")
    assert [e.action for e in entries] == ["content.account_create", "content.account_update"]
    assert (entries[1].before or {})["name"] == "示范省文明办"
    # A switched-off account is no longer offered when publishing.
    form = client.get(reverse("console:content_item_create")).content.decode()
    assert "示范省文明实践" not in form.split('id="id_account"')[1].split("</select>")[0]


# --- scope --------------------------------------------------------------------------------------


def test_a_local_editor_cannot_touch_the_national_channel(client, site, local_editor):
    national = make_item(site.column, title="全国要闻")
    local = make_item(site.local_column, title="本省要闻")
    client.force_login(local_editor)
    listed = client.get(reverse("console:content_items")).content.decode()
    assert "本省要闻" in listed
    assert "全国要闻" not in listed
    column = site.column.pk
    refused = [
        client.get(reverse("console:content_item_edit", args=[national.pk])),
        client.post(
            reverse("console:content_item_action", args=[national.pk]), {"action": "withdraw"}
        ),
        client.get(reverse("console:content_columns", args=[site.national.pk])),
        client.post(reverse("console:content_column_move", args=[column]), {"direction": "down"}),
        client.post(reverse("console:content_column_switch", args=[column]), {"active": "0"}),
        client.get(reverse("console:content_column_edit", args=[column])),
    ]
    assert [r.status_code for r in refused] == [404] * len(refused)
    assert "找不到该内容，或它不在您的管理范围内。" in refused[0].content.decode()
    created = client.post(
        reverse("console:content_item_create"), item_form(site, column=str(site.column.pk))
    )
    assert created.status_code == 200  # the national column is not among the choices
    assert Item.objects.count() == 2
    assert client.get(reverse("console:content_item_edit", args=[local.pk])).status_code == 200
    national.refresh_from_db()
    assert national.status == ItemStatus.PUBLISHED
    assert not AuditEntry.objects.exists()


def test_people_who_edit_nothing_get_403(client, site):
    administrator = UserFactory.create()
    grant(administrator, site.province, role=Role.MAIN_ADMIN)
    client.force_login(administrator)
    for name in (
        "content_items",
        "content_item_create",
        "content_columns_index",
        "content_accounts",
    ):
        response = client.get(reverse(f"console:{name}"))
        assert response.status_code == 403, name
        assert "只有编辑或运营人员可以管理内容。" in response.content.decode()


# --- the console shell --------------------------------------------------------------------------


def test_a_pure_editor_lands_on_the_content_list_with_only_the_content_menu(client, site, editor):
    client.force_login(editor)
    landing = client.get(reverse("console:index"))
    assert landing["Location"] == reverse("console:content_items")
    page = client.get(landing["Location"]).content.decode()
    menu = page.split('aria-label="管理菜单"')[1].split("</nav>")[0]
    assert "内容管理" in menu
    assert "栏目管理" in menu
    assert "强国号" in menu
    assert "组织与成员" not in menu
    assert "登录日志" not in menu
    assert 'aria-current="page">内容管理' in menu


def test_administrators_see_the_content_menu_only_when_they_edit(client, site):
    from xuexi.organizations.services import role_grant

    administrator = UserFactory.create()
    role_grant(user=administrator, organization=site.province, role="main_admin", granted_by=None)
    client.force_login(administrator)
    landing = client.get(reverse("console:index"))
    page = client.get(landing["Location"]).content.decode()
    menu = page.split('aria-label="管理菜单"')[1].split("</nav>")[0]
    assert "组织与成员" in menu
    assert "内容管理" not in menu
    role_grant(user=administrator, organization=site.province, role="editor", granted_by=None)
    page = client.get(landing["Location"]).content.decode()
    menu = page.split('aria-label="管理菜单"')[1].split("</nav>")[0]
    assert "组织与成员" in menu
    assert "内容管理" in menu
