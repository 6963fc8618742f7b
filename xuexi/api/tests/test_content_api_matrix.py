"""The persona matrix for every content write route, and the editors' reads (SECURITY S8).

Cast: the conftest ``personas`` (operator on the root, province_admin, county_admin, outsider,
branch_admin, member, member_b, stranger, anonymous) and two editors made here:
``national_editor`` (role ``editor`` on the root: the national channel and every local
channel) and ``local_editor`` (``editor`` on 示范省, the platform node of the local channel).
Administrators edit no content: only editors and operators do (``xuexi/content/access.py``),
so the operator, whose role is on the root, edits everything.

Editors' routes: 403 for anyone who edits nothing, 404 for an object outside the editor's
channels, 401 anonymous; a refusal writes nothing, a success one audit entry. Members'
actions (favourite, subscription, share) are open to every signed-in person for a published
item and 404 for an unpublished one, whoever asks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from xuexi.accounts.models import User
from xuexi.accounts.tests.factories import UserFactory
from xuexi.content.models import (
    Account,
    AccountKind,
    Channel,
    ChannelKind,
    Column,
    Favourite,
    Item,
    Share,
    Subscription,
)
from xuexi.content.tests.factories import grant, make_item
from xuexi.core.audit import AuditEntry

pytestmark = pytest.mark.django_db

API = "/api/v1"
PERSONAS = [
    "operator",
    "national_editor",
    "local_editor",
    "province_admin",
    "county_admin",
    "outsider",
    "branch_admin",
    "member",
    "member_b",
    "stranger",
    "anonymous",
]
EDITORS = ("operator", "national_editor", "local_editor")


@pytest.fixture
def cast(personas: dict[str, Any]) -> dict[str, Any]:
    """The personas, two editors, both channels with a column each, an account and items."""
    orgs = personas["orgs"]
    national = Channel.objects.create(kind=ChannelKind.NATIONAL, name="全国", platform=orgs["root"])
    local = Channel.objects.create(kind=ChannelKind.LOCAL, name="示范省", platform=orgs["province"])
    national_column = Column.objects.create(channel=national, name="重要新闻", slug="news")
    local_column = Column.objects.create(channel=local, name="本地要闻", slug="local-news")
    account = Account.objects.create(
        kind=AccountKind.INSTITUTION, name="示范省委宣传部", organization=orgs["province"]
    )
    return {
        **personas,
        "national_editor": grant(UserFactory.create(phone="13800000008"), orgs["root"]),
        "local_editor": grant(UserFactory.create(phone="13800000009"), orgs["province"]),
        "national_column": national_column,
        "local_column": local_column,
        "account": account,
        "national_item": make_item(national_column, title="全国要闻"),
        "local_item": make_item(local_column, title="本地要闻", account=account),
        "national_draft": make_item(national_column, title="全国草稿", published=False),
        "local_draft": make_item(local_column, title="本地草稿", published=False),
    }


def editor_route(allowed: int, *, national: bool, **overrides: int) -> dict[str, int]:
    """Editors of the object's channel get ``allowed``; the local editor 404 for the national
    channel; everyone who edits nothing 403; anonymous 401."""
    table = dict.fromkeys(PERSONAS, 403)
    table.update(operator=allowed, national_editor=allowed, anonymous=401)
    table["local_editor"] = 404 if national else allowed
    table.update(overrides)
    return table


def draft_read(*, national: bool) -> dict[str, int]:
    """Reading a draft: its editors 200; for anyone else it does not exist (404)."""
    return editor_route(200, national=national, **{
        name: 404 for name in PERSONAS if name not in (*EDITORS, "anonymous")
    })  # fmt: skip


def member_action(allowed: int) -> dict[str, int]:
    """Members' actions on a published item or an account: every signed-in person."""
    return {name: (401 if name == "anonymous" else allowed) for name in PERSONAS}


@dataclass(frozen=True)
class Case:
    route: str  # "method /template" as in the OpenAPI document
    path: Callable[[dict[str, Any]], str]
    body: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] | None
    expect: dict[str, int]
    # What a success changes: a count and how much it moves.
    measure: Callable[[], int] | None = None
    delta: int = 0
    # Done for the acting person before the request (an unfavourite needs a favourite).
    setup: Callable[[dict[str, Any], User], Any] | None = None

    @property
    def method(self) -> str:
        return self.route.split(" ")[0]


def audit_count() -> int:
    return AuditEntry.objects.count()


def item_path(name: str, suffix: str = "") -> Callable[[dict[str, Any]], str]:
    return lambda c: f"{API}/items/{c[name].pk}{suffix}"


def article(column: str, **extra: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda c: {
        "column_id": c[column].pk,
        "kind": "article",
        "title": "学习贯彻全会精神",
        "body": "<p>正文</p>",
        **extra,
    }


CASES: dict[str, Case] = {
    "create a draft in the national channel": Case(
        "post /items",
        lambda c: f"{API}/items",
        article("national_column"),
        editor_route(201, national=True),
        audit_count,
        1,
    ),
    "create and publish in the local channel": Case(
        "post /items",
        lambda c: f"{API}/items",
        article("local_column", publish=True),
        editor_route(201, national=False),
        audit_count,
        1,
    ),
    "recommend a national item": Case(
        "patch /items/{item_id}",
        item_path("national_item"),
        {"recommended": True},
        editor_route(200, national=True),
        audit_count,
        1,
    ),
    "publish a national draft": Case(
        "patch /items/{item_id}",
        item_path("national_draft"),
        {"publish": True},
        editor_route(200, national=True),
        audit_count,
        1,
    ),
    "withdraw a local item": Case(
        "patch /items/{item_id}",
        item_path("local_item"),
        {"publish": False},
        editor_route(200, national=False),
        audit_count,
        1,
    ),
    "edit a local draft": Case(
        "patch /items/{item_id}",
        item_path("local_draft"),
        {"title": "新标题", "body": "<p>新正文</p>", "tags": ["本地"]},
        editor_route(200, national=False),
        audit_count,
        1,
    ),
    "move a local item to the national channel": Case(
        "patch /items/{item_id}",
        item_path("local_item"),
        lambda c: {"column_id": c["national_column"].pk},
        editor_route(200, national=False, local_editor=404),
        audit_count,
        1,
    ),
    "read a national draft": Case(
        "get /items/{item_id}", item_path("national_draft"), None, draft_read(national=True)
    ),
    "read a local draft": Case(
        "get /items/{item_id}", item_path("local_draft"), None, draft_read(national=False)
    ),
    "favourite a published item": Case(
        "post /items/{item_id}/favourite",
        item_path("national_item", "/favourite"),
        None,
        member_action(204),
        Favourite.objects.count,
        1,
    ),
    "unfavourite": Case(
        "delete /items/{item_id}/favourite",
        item_path("national_item", "/favourite"),
        None,
        member_action(204),
        Favourite.objects.count,
        -1,
        lambda c, user: Favourite.objects.create(member=user, item=c["national_item"]),
    ),
    "favourite a draft": Case(
        "post /items/{item_id}/favourite",
        item_path("national_draft", "/favourite"),
        None,
        member_action(404),
    ),
    "subscribe": Case(
        "post /accounts/{account_id}/subscription",
        lambda c: f"{API}/accounts/{c['account'].pk}/subscription",
        None,
        member_action(204),
        Subscription.objects.count,
        1,
    ),
    "unsubscribe": Case(
        "delete /accounts/{account_id}/subscription",
        lambda c: f"{API}/accounts/{c['account'].pk}/subscription",
        None,
        member_action(204),
        Subscription.objects.count,
        -1,
        lambda c, user: Subscription.objects.create(member=user, account=c["account"]),
    ),
    "share a local item": Case(
        "post /items/{item_id}/shares",
        item_path("local_item", "/shares"),
        None,
        member_action(201),
        Share.objects.count,
        1,
    ),
    "share a local draft": Case(
        "post /items/{item_id}/shares",
        item_path("local_draft", "/shares"),
        None,
        member_action(404),
    ),
}


def state() -> tuple[Any, ...]:
    """Everything a content route may write."""
    items = tuple(
        Item.objects.order_by("pk").values_list(
            "pk", "title", "status", "column_id", "recommended", "featured"
        )
    )
    return (
        items,
        AuditEntry.objects.count(),
        Favourite.objects.count(),
        Subscription.objects.count(),
        Share.objects.count(),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case_name", CASES)
def test_every_content_route_answers_each_persona_exactly(client, cast, case_name, persona):
    case = CASES[case_name]
    path = case.path(cast)
    if persona != "anonymous":
        client.force_login(cast[persona])
        if case.setup is not None:
            case.setup(cast, cast[persona])
    before, measured = state(), case.measure() if case.measure else 0
    if case.body is not None:
        body = case.body(cast) if callable(case.body) else case.body
        response = getattr(client, case.method)(path, body, content_type="application/json")
    else:
        response = getattr(client, case.method)(path)
    expected = case.expect[persona]
    assert response.status_code == expected, (case_name, persona, response.content[:300])
    if response.status_code >= 400:
        assert set(response.json()) == {"code", "message", "details"}
        assert state() == before  # a refusal changes nothing
    elif case.measure is not None:
        assert case.measure() == measured + case.delta, (case_name, persona)


def test_the_matrix_covers_every_content_write_route(client, db):
    """A content write route added to the API must be added to CASES."""
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    content_paths = ("/items", "/accounts/{account_id}/subscription", "/channels", "/columns")
    writes = {
        f"{method} {path.removeprefix(API)}"
        for path, operations in paths.items()
        if path.removeprefix(API).startswith(content_paths)
        for method in operations
        if method != "get"
    }
    assert len(writes) == 7
    assert writes == {case.route for case in CASES.values() if case.method != "get"}


def test_the_editor_personas_reach_exactly_their_channels(cast):
    from xuexi.content.access import editable_channels

    def kinds(name: str) -> set[str]:
        return set(editable_channels(cast[name]).values_list("kind", flat=True))

    assert kinds("national_editor") == kinds("operator") == {"national", "local"}
    assert kinds("local_editor") == {"local"}
