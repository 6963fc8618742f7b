"""The persona matrix for every content console route (SECURITY S8): 内容管理, 正文图片,
栏目管理 and 强国号.

Cast, on the shared ``personas`` tree (全国学习平台 › 示范省 › …) with two channels — the
national one (platform: the root) and 示范省's local one (platform: the province) — each with
two columns, an item and a 强国号:

* ``operator`` (conftest: 运营人员 on the root) and ``national_editor`` (编辑 on the root) edit
  both channels;
* ``local_editor`` (编辑 on the province) edits the local channel only: the national channel's
  objects answer 404;
* ``province_admin`` (主管理员 on the province, no editing role) and ``member`` get 403;
* ``anonymous`` is sent to sign in (302).

Every accepted write leaves exactly one audit entry; every refusal leaves none.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from xuexi.accounts.tests.factories import UserFactory
from xuexi.content.models import (
    Account,
    AccountKind,
    Channel,
    ChannelKind,
    Column,
    Item,
    ItemKind,
    ItemStatus,
)
from xuexi.content.sanitize import sanitize_body
from xuexi.core.models import AuditEntry
from xuexi.core.testing import Route, ask, console_path
from xuexi.core.time import now
from xuexi.organizations.services import membership_place, role_grant

pytestmark = pytest.mark.django_db

PERSONAS = [
    "operator",
    "national_editor",
    "local_editor",
    "province_admin",
    "member",
    "anonymous",
]


@pytest.fixture
def cast(personas: dict[str, Any]) -> dict[str, Any]:
    """The shared cast plus two editors, and the content they work on."""
    orgs = personas["orgs"]
    people = dict(personas)
    for name, node, phone in [
        ("national_editor", "root", "13800000010"),
        ("local_editor", "province", "13800000011"),
    ]:
        user = UserFactory.create(phone=phone)
        membership_place(user=user, organization=orgs["branch_a"])
        role_grant(user=user, organization=orgs[node], role="editor", granted_by=None)
        user.refresh_from_db()
        people[name] = user
    national = Channel.objects.create(kind=ChannelKind.NATIONAL, name="全国", platform=orgs["root"])
    local = Channel.objects.create(kind=ChannelKind.LOCAL, name="示范省", platform=orgs["province"])
    content: dict[str, Any] = {"national": national, "local": local}
    for key, channel, owner in [("n", national, "root"), ("l", local, "province")]:
        column = Column.objects.create(channel=channel, name=f"要闻{key}", slug="news", position=0)
        Column.objects.create(channel=channel, name=f"理论{key}", slug="theory", position=1)
        content[f"{key}_column"] = column
        content[f"{key}_item"] = Item.objects.create(
            kind=ItemKind.ARTICLE,
            column=column,
            title=f"文章{key}",
            body=sanitize_body("<p>正文</p>"),
            status=ItemStatus.PUBLISHED,
            published_at=now(),
        )
        content[f"{key}_account"] = Account.objects.create(
            kind=AccountKind.INSTITUTION, name=f"强国号{key}", organization=orgs[owner]
        )
    people["content"] = content
    return people


def editors(allowed: int, local: int | None = None, **overrides: int) -> dict[str, int]:
    """Editors of both channels get ``allowed``; the local editor ``local`` (default the
    same); people who edit nothing 403; anonymous visitors are sent to sign in."""
    table = {
        "operator": allowed,
        "national_editor": allowed,
        "local_editor": allowed if local is None else local,
        "province_admin": 403,
        "member": 403,
        "anonymous": 302,
    }
    table.update(overrides)
    return table


def national(allowed: int) -> dict[str, int]:
    """An object of the national channel: outside the local editor's scope (404)."""
    return editors(allowed, local=404)


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return SimpleUploadedFile("body.png", buffer.getvalue(), content_type="image/png")


def c(p: dict[str, Any], key: str) -> Any:
    return p["content"][key]


def item_body(column_key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def body(p: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": "article",
            "column": str(c(p, column_key).pk),
            "title": "矩阵测试文章",
            "body": "<p>正文</p>",
            "go": "save",
        }

    return body


def account_body(code_of: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def body(p: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": "矩阵测试号",
            "kind": "institution",
            "organization_code": p["orgs"][code_of].code,
            "intro": "",
            "is_active": "on",
        }

    return body


def url(name: str, key: str | None = None) -> Callable[[dict[str, Any]], str]:
    """The console route ``name``, on the cast's content object ``key`` if it takes one."""
    return console_path(name, (lambda p: c(p, key)) if key else None)


PAGES: dict[str, Route] = {
    # The console's landing: administrators to their organisation, pure editors to 内容管理.
    "console landing": Route(
        "get", url("index"), None, editors(302, member=403, province_admin=302)
    ),
    # 内容管理
    "item list": Route("get", url("content_items"), None, editors(200)),
    "item form": Route("get", url("content_item_create"), None, editors(200)),
    "create in the local channel": Route(
        "post", url("content_item_create"), item_body("l_column"), editors(302)
    ),
    # Not a 404: the national columns are simply not among the local editor's choices.
    "create in the national channel": Route(
        "post", url("content_item_create"), item_body("n_column"), editors(302, local=200)
    ),
    "edit a national item": Route("get", url("content_item_edit", "n_item"), None, national(200)),
    "save a national item": Route(
        "post", url("content_item_edit", "n_item"), item_body("n_column"), national(302)
    ),
    "edit a local item": Route("get", url("content_item_edit", "l_item"), None, editors(200)),
    "save a local item": Route(
        "post", url("content_item_edit", "l_item"), item_body("l_column"), editors(302)
    ),
    "recommend a national item": Route(
        "post",
        url("content_item_action", "n_item"),
        lambda p: {"action": "recommend"},
        national(302),
    ),
    "feature a local item": Route(
        "post", url("content_item_action", "l_item"), lambda p: {"action": "feature"}, editors(302)
    ),
    "withdraw a national item": Route(
        "post",
        url("content_item_action", "n_item"),
        lambda p: {"action": "withdraw"},
        national(302),
    ),
    "upload a body image": Route(
        "post", url("content_images"), lambda p: {"image": png()}, editors(201)
    ),
    # 栏目管理
    "columns index": Route("get", url("content_columns_index"), None, editors(302)),
    "national columns": Route("get", url("content_columns", "national"), None, national(200)),
    "local columns": Route("get", url("content_columns", "local"), None, editors(200)),
    "column form": Route("get", url("content_column_create", "national"), None, national(200)),
    "create a national column": Route(
        "post",
        url("content_column_create", "national"),
        lambda p: {"name": "新栏目", "slug": "new-one", "parent": ""},
        national(302),
    ),
    "create a local sub-column": Route(
        "post",
        url("content_column_create", "local"),
        lambda p: {"name": "子栏目", "slug": "child", "parent": str(c(p, "l_column").pk)},
        editors(302),
    ),
    "rename form": Route("get", url("content_column_edit", "n_column"), None, national(200)),
    "rename a national column": Route(
        "post",
        url("content_column_edit", "n_column"),
        lambda p: {"name": "改名", "is_active": "on"},
        national(302),
    ),
    "move a national column down": Route(
        "post",
        url("content_column_move", "n_column"),
        lambda p: {"direction": "down"},
        national(302),
    ),
    "move a local column down": Route(
        "post",
        url("content_column_move", "l_column"),
        lambda p: {"direction": "down"},
        editors(302),
    ),
    "switch a national column off": Route(
        "post", url("content_column_switch", "n_column"), lambda p: {"active": "0"}, national(302)
    ),
    # 强国号
    "accounts": Route("get", url("content_accounts"), None, editors(200)),
    "account form": Route("get", url("content_account_create"), None, editors(200)),
    "create a provincial account": Route(
        "post", url("content_account_create"), account_body("province"), editors(302)
    ),
    # The root lies outside the local editor's scope: the form says so, nothing is saved.
    "create an account of the root": Route(
        "post", url("content_account_create"), account_body("root"), editors(302, local=200)
    ),
    "edit a national account": Route(
        "get", url("content_account_edit", "n_account"), None, national(200)
    ),
    "save a national account": Route(
        "post", url("content_account_edit", "n_account"), account_body("root"), national(302)
    ),
    "save a local account": Route(
        "post", url("content_account_edit", "l_account"), account_body("province"), editors(302)
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page_name", PAGES)
def test_every_content_console_route_answers_each_persona_exactly(client, cast, page_name, persona):
    page = PAGES[page_name]
    response, (audit_before, snapshot) = ask(client, cast, persona, page_name, page, _before)
    wrote = AuditEntry.objects.count() - audit_before
    if persona == "anonymous":
        assert "/accounts/" in response["Location"]
    if page.method == "post" and response.status_code in (302, 201) and persona != "anonymous":
        assert wrote == 1, (page_name, persona)
    else:
        assert wrote == 0, (page_name, persona)
        assert _state() == snapshot, (page_name, persona)


def _before() -> tuple[int, tuple[Any, ...]]:
    """The audit log's length, and the state, before the request."""
    return AuditEntry.objects.count(), _state()


def _state() -> tuple[Any, ...]:
    """Everything the routes may change, to prove that a refusal changed nothing."""
    return (
        list(Item.objects.order_by("pk").values_list("pk", "title", "status", "recommended",
                                                     "featured", "column_id")),
        list(Column.objects.order_by("pk").values_list("pk", "name", "position", "is_active")),
        list(Account.objects.order_by("pk").values_list("pk", "name", "organization_id",
                                                        "is_active")),
    )  # fmt: skip


def test_the_landing_sends_each_persona_to_the_right_place(client, cast):
    client.force_login(cast["local_editor"])
    assert client.get(reverse("console:index"))["Location"] == reverse("console:content_items")
    client.force_login(cast["operator"])  # an operator is also an administrator
    assert "/organizations/" in client.get(reverse("console:index"))["Location"]
