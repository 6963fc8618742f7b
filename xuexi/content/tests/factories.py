"""Content fixtures for tests: a platform with its national and local channels, columns,
an account and items."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from xuexi.accounts.models import User
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
from xuexi.content.sanitize import body_text, sanitize_body
from xuexi.content.search import segment
from xuexi.organizations.models import Organization, Role, RoleGrant


@dataclass
class Site:
    root: Organization
    province: Organization
    national: Channel
    local: Channel
    column: Column
    local_column: Column
    account: Account


def fresh(node: Organization) -> Organization:
    return Organization.objects.get(pk=node.pk)


def make_site() -> Site:
    root = Organization.objects.add_root({"name": "全国平台", "kind": "platform", "code": "C"})
    province = Organization.objects.add_child(
        fresh(root), {"name": "示范省学习平台", "kind": "platform", "code": "C-1"}
    )
    national = Channel.objects.create(kind=ChannelKind.NATIONAL, name="全国", platform=root)
    local = Channel.objects.create(kind=ChannelKind.LOCAL, name="示范省", platform=province)
    column = Column.objects.create(channel=national, name="重要新闻", slug="news")
    local_column = Column.objects.create(channel=local, name="本地要闻", slug="local-news")
    account = Account.objects.create(
        kind=AccountKind.INSTITUTION, name="示范省委宣传部", organization=province
    )
    return Site(root, province, national, local, column, local_column, account)


def make_item(
    column: Column,
    title: str = "学习贯彻新时代中国特色社会主义思想",
    body: str = "<p>乡村振兴战略推动农业农村现代化。</p>",
    kind: str = ItemKind.ARTICLE,
    published: bool = True,
    **fields: object,
) -> Item:
    clean = sanitize_body(body)
    item = Item.objects.create(
        kind=kind,
        column=column,
        title=title,
        body=clean,
        status=ItemStatus.PUBLISHED if published else ItemStatus.DRAFT,
        published_at=timezone.now() if published else None,
        search_text=segment(title, body_text(clean)),
        **fields,
    )
    return item


def grant(user: User, node: Organization, role: str = Role.EDITOR) -> User:
    RoleGrant.objects.create(user=user, organization=node, role=role)
    return user
