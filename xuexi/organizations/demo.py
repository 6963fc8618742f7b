"""The demo organisation of a small province (示范省): tree, members and demo accounts.

``demo_seed()`` builds, in one transaction, under the platform root 全国学习平台:

* 示范省 with three cities and nine counties (invented names), each county with its organs'
  working committee (区/县直机关工委), streets (街道党工委) or townships (乡镇党委), and their
  community/village branches, some grouped under a general branch (党总支);
* the 省直机关工委 line with a dozen provincial departments and their branches;
* 3,000 members with Faker ``zh_CN`` names and ``139…`` numbers, placed in branches;
* six demo accounts (password ``Xuexi@2019``) holding the roles of the persona matrix.

Everything that is not a timestamp is deterministic: names, codes, phones and placements come
from a fixed seed, so two fresh databases hold the same demo. Nodes are written with treebeard's
``load_bulk(bulk_create=True)`` and members with ``bulk_create``: the whole seed is a few
statements per table, not one per row.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F

from xuexi.accounts.models import User
from xuexi.core.time import now
from xuexi.organizations.models import (
    Invitation,
    ManagementLine,
    Membership,
    Organization,
    OrganizationKind,
    Role,
    RoleGrant,
)
from xuexi.organizations.services import (
    invitation_create,
    join_request_create,
    member_add,
    member_transfer,
    membership_place,
    organization_update,
    role_grant,
    role_grant_as,
)

DEMO_SEED = 2019
DEMO_PASSWORD = "Xuexi@2019"  # noqa: S105 - the documented password of the demo accounts
PLATFORM_CODE = "PLATFORM"
PLATFORM_NAME = "全国学习平台"
PROVINCE_CODE = "SF"
PROVINCE_NAME = "示范省"
DEMO_MEMBER_COUNT = 3000
# Bulk members get 139 + eight digits of their index; the demo accounts are 1380000000x.
MEMBER_PHONE_PREFIX = "139"

# (city, its counties). Invented names: none of them is a real city or county.
CITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("东州市", ("晨光区", "启明区", "青禾县")),
    ("西岭市", ("岭秀区", "松涛县", "云栖县")),
    ("南湖市", ("澄波区", "沁禾县", "稻香县")),
)

PROVINCIAL_UNITS: tuple[str, ...] = (
    "省委办公厅",
    "省委组织部",
    "省委宣传部",
    "省政府办公厅",
    "省教育厅",
    "省科学技术厅",
    "省财政厅",
    "省交通运输厅",
    "省农业农村厅",
    "省文化和旅游厅",
    "省统计局",
    "省林业局",
)

# Offices of a county's organs' working committee; the first four are always present.
COUNTY_OFFICES: tuple[str, ...] = (
    "委办公室",
    "委组织部",
    "委宣传部",
    "政府办公室",
    "教育局",
    "财政局",
    "卫生健康局",
    "市场监督管理局",
    "农业农村局",
    "人力资源和社会保障局",
)

TOWN_ROOTS: tuple[str, ...] = (
    "桃源", "柳溪", "石桥", "杏花", "枫林", "梅岭", "竹园", "金沙", "白鹭", "青石",
    "龙泉", "云台", "双河", "清泉", "玉屏", "丰乐", "长乐", "永安", "芦湾", "凤鸣",
    "三岔", "黄坡", "马蹄", "荷叶", "松岗", "鹤山", "麦浪", "翠峰",
)  # fmt: skip

VILLAGE_ROOTS: tuple[str, ...] = (
    "李家", "王庄", "张湾", "陈岗", "刘集", "杨柳", "高桥", "东坡", "西山", "南岗",
    "北湾", "前进", "红星", "幸福", "团结", "胜利", "光明", "向阳", "新民", "建设",
    "友谊", "大树", "小河", "石门", "柿园", "枣林", "桑园", "马坊", "周营", "吴寨",
    "郑楼", "孙店", "何湾", "罗坝", "梁庄", "宋河", "唐沟", "冯岭", "韩店", "邓家",
)  # fmt: skip

COMMUNITY_ROOTS: tuple[str, ...] = (
    "锦华", "春晖", "翠苑", "阳光", "滨河", "文昌", "丽景", "和谐", "康乐", "园林",
    "朝阳", "紫荆", "金桂", "书香", "学府", "新城", "御河", "兰亭", "星湖", "枫丹",
    "花溪", "明珠", "怡景", "嘉禾", "东苑", "西苑", "南苑", "北苑", "安居", "育才",
)  # fmt: skip

ORDINALS = ("第一", "第二", "第三", "第四", "第五")


@dataclass(frozen=True)
class DemoAccount:
    phone: str
    real_name: str
    role: str | None  # a ``Role`` value, or None for the ordinary member
    scope: str  # anchor naming the node the role is held on
    member_of: str  # anchor naming the member's organisation
    granted_by: str | None = None  # phone of the demo account that grants the role
    is_staff: bool = False


# Anchors name nodes that the builder picks while it builds the tree (see ``_Builder``).
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("13800000000", "王建国", Role.OPERATOR, "platform", "operator_unit", is_staff=True),
    DemoAccount(
        "13800000001", "李红梅", Role.MAIN_ADMIN, "province", "province_unit", "13800000000"
    ),
    DemoAccount(
        "13800000002", "张志强", Role.MAIN_ADMIN, "county_a", "county_a_unit", "13800000001"
    ),
    DemoAccount(
        "13800000003", "刘秀英", Role.MAIN_ADMIN, "county_b", "county_b_unit", "13800000001"
    ),
    DemoAccount("13800000004", "陈晓东", Role.ADMIN, "branch", "branch", "13800000002"),
    DemoAccount("13800000005", "杨丽娟", None, "branch", "branch"),
)


@dataclass
class _Node:
    """A node before it is written: the shape ``load_bulk`` takes, plus its headcount."""

    name: str
    kind: str
    code: str
    line: str = ""
    expected_members: int = 0
    children: list[_Node] = field(default_factory=list)

    def add(self, name: str, kind: str, code: str, *, expected: int = 0) -> _Node:
        child = _Node(name, kind, code, self.line, expected)
        self.children.append(child)
        return child

    def sum_expected(self) -> int:
        """Give every inner node the sum of its children's headcounts (应注册人数)."""
        if self.children:
            self.expected_members = sum(child.sum_expected() for child in self.children)
        return self.expected_members

    def walk(self) -> Iterator[_Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def as_bulk(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "kind": self.kind,
            "line": self.line,
            "code": self.code,
            "expected_members": self.expected_members,
        }
        return {"data": data, "children": [child.as_bulk() for child in self.children]}


class _Builder:
    """Builds the province in memory, drawing every choice from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, reproducible on purpose
        self.anchors: dict[str, str] = {"province": PROVINCE_CODE}

    def headcount(self) -> int:
        return self.rng.randint(8, 20)

    def province(self) -> _Node:
        province = _Node(PROVINCE_NAME, OrganizationKind.PROVINCE, PROVINCE_CODE)
        self.provincial_organs(province)
        for city_number, (city_name, counties) in enumerate(CITIES, start=1):
            city = province.add(
                city_name, OrganizationKind.CITY, f"{PROVINCE_CODE}-{city_number:02d}"
            )
            for county_number, county_name in enumerate(counties, start=1):
                self.county(city, county_name, f"{city.code}-{county_number:02d}")
        # Counties A and B are siblings under the first city; the branch lies inside A.
        self.anchors["county_a"] = f"{PROVINCE_CODE}-01-01"
        self.anchors["county_b"] = f"{PROVINCE_CODE}-01-02"
        province.sum_expected()
        return province

    def provincial_organs(self, province: _Node) -> None:
        line = province.add("省直机关工委", OrganizationKind.LINE, f"{PROVINCE_CODE}-SZ")
        line.line = ManagementLine.PROVINCIAL_ORGANS
        for number, name in enumerate(PROVINCIAL_UNITS, start=1):
            unit = line.add(name, OrganizationKind.UNIT, f"{line.code}-{number:02d}")
            offices = self.rng.randint(2, 4)
            names = [f"机关{ORDINALS[i]}党支部" for i in range(offices)] + ["离退休干部党支部"]
            for branch_number, branch_name in enumerate(names, start=1):
                unit.add(
                    branch_name,
                    OrganizationKind.BRANCH,
                    f"{unit.code}-{branch_number:02d}",
                    expected=self.headcount(),
                )
            # Members sit in branches: the accounts join their unit's first office branch.
            if name == "省委宣传部":
                self.anchors["operator_unit"] = f"{unit.code}-01"
            elif name == "省委组织部":
                self.anchors["province_unit"] = f"{unit.code}-01"

    def county(self, city: _Node, name: str, code: str) -> None:
        county = city.add(name, OrganizationKind.COUNTY, code)
        short = name[:-1]  # 晨光区 → 晨光, used as the prefix 晨光区委办公室
        suffix = name[-1]
        organs = county.add(f"{name}直机关工委", OrganizationKind.UNIT, f"{code}-01")
        offices = list(COUNTY_OFFICES[:4]) + self.rng.sample(COUNTY_OFFICES[4:], 2)
        for number, office in enumerate(offices, start=1):
            organs.add(
                f"{short}{suffix}{office}党支部",
                OrganizationKind.BRANCH,
                f"{organs.code}-{number:03d}",
                expected=self.headcount(),
            )
        if code.endswith("-01-01"):
            self.anchors["county_a_unit"] = f"{organs.code}-001"
        elif code.endswith("-01-02"):
            self.anchors["county_b_unit"] = f"{organs.code}-001"

        urban = suffix == "区"
        towns = self.rng.sample(TOWN_ROOTS, self.rng.randint(4, 5))
        for number, root in enumerate(towns, start=2):
            is_street = urban and number < 5  # a district has streets and perhaps a town
            self.township(county, root, is_street, f"{code}-{number:02d}")

    def township(self, county: _Node, root: str, is_street: bool, code: str) -> None:
        name = f"{root}街道党工委" if is_street else f"{root}镇党委"
        unit = county.add(name, OrganizationKind.UNIT, code)
        office = f"{root}街道机关党支部" if is_street else f"{root}镇机关党支部"
        unit.add(office, OrganizationKind.BRANCH, f"{code}-001", expected=self.headcount())
        roots = COMMUNITY_ROOTS if is_street else VILLAGE_ROOTS
        place = "社区" if is_street else "村"
        for number, place_root in enumerate(self.rng.sample(roots, self.rng.randint(5, 8)), 2):
            child_code = f"{code}-{number:03d}"
            # The first place is always a plain branch (the demo branch's home); about one in
            # six of the others is large enough for a general branch with its own branches.
            if number > 2 and self.rng.random() < 1 / 6:
                general = unit.add(
                    f"{place_root}{place}党总支", OrganizationKind.GENERAL_BRANCH, child_code
                )
                for sub in range(self.rng.randint(2, 3)):
                    general.add(
                        f"{place_root}{place}{ORDINALS[sub]}党支部",
                        OrganizationKind.BRANCH,
                        f"{child_code}-{sub + 1:02d}",
                        expected=self.headcount(),
                    )
            else:
                unit.add(
                    f"{place_root}{place}党支部",
                    OrganizationKind.BRANCH,
                    child_code,
                    expected=self.headcount(),
                )
        if code == f"{PROVINCE_CODE}-01-01-02":
            self.anchors["branch"] = f"{code}-002"

    def placements(self, branches: list[_Node], reserved: dict[str, int], total: int) -> list[str]:
        """Branch codes for ``total`` members, never more in a branch than its headcount.

        Each branch draws a registration rate (so reports show good and lagging branches);
        the rates are scaled to meet ``total`` and the rounding is nudged out one at a time.
        """
        room = {b.code: b.expected_members - reserved.get(b.code, 0) for b in branches}
        if total > sum(room.values()):
            raise ValueError("the demo branches are too small for the demo members")
        wanted = {code: space * self.rng.uniform(0.3, 0.85) for code, space in room.items()}
        scale = total / sum(wanted.values())
        counts = {code: min(room[code], round(want * scale)) for code, want in wanted.items()}
        codes = [b.code for b in branches]
        while (difference := total - sum(counts.values())) != 0:
            code = self.rng.choice(codes)
            if difference > 0 and counts[code] < room[code]:
                counts[code] += 1
            elif difference < 0 and counts[code] > 1:
                counts[code] -= 1
        return [code for code in codes for _ in range(counts[code])]


class DemoConflict(Exception):
    """The database already holds rows the demo would create (a phone or a code is taken)."""


@dataclass(frozen=True)
class DemoSummary:
    organizations: int
    cities: int
    counties: int
    members: int
    accounts: int


@dataclass(frozen=True)
class DemoAccountRow:
    phone: str
    real_name: str
    roles: str  # "主管理员 @ 晨光区" …, or "普通学员"
    member_of: str  # the organisation's path from the province down


PRELISTED_SHARE = 0.15


def demo_exists() -> bool:
    return Organization.objects.filter(code=PROVINCE_CODE).exists()


def member_phone(index: int) -> str:
    """The demo number of the ``index``-th bulk member (1-based): 13900000001 …"""
    return f"{MEMBER_PHONE_PREFIX}{index:08d}"


@transaction.atomic
def demo_seed(*, seed: int = DEMO_SEED, members: int = DEMO_MEMBER_COUNT) -> DemoSummary:
    """Create the demo province, its members and the demo accounts; all or nothing.

    Does nothing when the province already exists (it is found by its code), so running it
    again changes no row. Raises ``DemoConflict`` when a demo phone number or code is already
    used by something else, before writing anything.
    """
    if demo_exists():
        return demo_summary()
    builder = _Builder(seed)
    province = builder.province()
    nodes = list(province.walk())
    phones = [account.phone for account in DEMO_ACCOUNTS]
    phones += [member_phone(index) for index in range(1, members + 1)]
    phones += [phone for phone, _name in DEMO_APPLICANTS] + [DEMO_PRELISTED_PHONE]
    _refuse_conflicts(codes=[node.code for node in nodes], phones=phones)

    platform = _platform_root(add_expected=province.expected_members)
    Organization.objects.load_bulk([province.as_bulk()], parent=platform, bulk_create=True)
    written = Organization.objects.get(code=PROVINCE_CODE)
    ids = dict(Organization.objects.filter(path__startswith=written.path).values_list("code", "pk"))
    anchors = {"platform": PLATFORM_CODE, **builder.anchors}

    reserved: dict[str, int] = {}
    for account in DEMO_ACCOUNTS:
        reserved[anchors[account.member_of]] = reserved.get(anchors[account.member_of], 0) + 1
    branches = [node for node in nodes if node.kind == OrganizationKind.BRANCH]
    placements = builder.placements(branches, reserved, members)
    builder.rng.shuffle(placements)
    _members_create(builder.rng, placements, {code: ids[code] for code in set(placements)})
    _accounts_create(anchors)
    _activity_create(anchors)
    return demo_summary()


def _refuse_conflicts(*, codes: list[str], phones: list[str]) -> None:
    taken_codes = Organization.objects.filter(code__in=codes).values_list("code", flat=True)
    if taken := sorted(taken_codes):
        raise DemoConflict(f"组织编码已被占用：{'、'.join(taken[:5])}")
    # Chunked: SQLite caps the parameters of one statement.
    for start in range(0, len(phones), 500):
        chunk = phones[start : start + 500]
        if taken := sorted(User.objects.filter(phone__in=chunk).values_list("phone", flat=True)):
            raise DemoConflict(f"手机号已被注册：{'、'.join(taken[:5])}")


def _platform_root(*, add_expected: int) -> Organization:
    """The platform root, created on a fresh database; its headcount grows by the province's."""
    platform = Organization.objects.filter(code=PLATFORM_CODE).first()
    if platform is None:
        return Organization.objects.add_root(
            create_kwargs={
                "name": PLATFORM_NAME,
                "kind": OrganizationKind.PLATFORM,
                "code": PLATFORM_CODE,
                "expected_members": add_expected,
            }
        )
    Organization.objects.filter(pk=platform.pk).update(
        expected_members=F("expected_members") + add_expected
    )
    platform.refresh_from_db()
    return platform


def _members_create(rng: random.Random, placements: list[str], ids: dict[str, int]) -> None:
    """One user and one current membership per placement, in bulk.

    Passwords are unusable (each a distinct random marker, nothing is hashed): bulk members
    sign in by SMS code or set a password through the reset flow.
    """
    from faker import Faker  # imported here: Faker loads its locales on import, ~0.3 s

    fake = Faker("zh_CN")
    fake.seed_instance(rng.randrange(2**32))
    today = now()
    users = []
    for index in range(1, len(placements) + 1):
        joined = today - dt.timedelta(days=rng.randint(1, 180), seconds=rng.randint(0, 86_399))
        # About one in seven is still only pre-listed by an administrator: not yet registered.
        registered = rng.random() >= PRELISTED_SHARE
        users.append(
            User(
                phone=member_phone(index),
                real_name=fake.name(),
                password=make_password(None),
                date_joined=joined,
                registered_at=joined if registered else None,
            )
        )
    User.objects.bulk_create(users, batch_size=500)
    if any(user.pk is None for user in users):  # backends that cannot return ids
        by_phone = User.objects.in_bulk([user.phone for user in users], field_name="phone")
        users = [by_phone[user.phone] for user in users]
    Membership.objects.bulk_create(
        [
            Membership(user=user, organization_id=ids[code], started_at=user.date_joined)
            for user, code in zip(users, placements, strict=True)
        ],
        batch_size=500,
    )


def _accounts_create(anchors: dict[str, str]) -> None:
    """The six demo accounts, through the services so ``is_administrator`` stays right.

    Each grant is made by the account above it (the operator grants the province admin, who
    grants the county admins, …), as the product's rule of bounded grants would have it.
    """
    nodes = Organization.objects.in_bulk(list(set(anchors.values())), field_name="code")
    created: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        user = User.objects.create_user(
            account.phone, account.real_name, DEMO_PASSWORD, is_staff=account.is_staff
        )
        user.password_changed_at = user.date_joined
        user.save(update_fields=["password_changed_at"])
        created[account.phone] = user
        membership_place(user=user, organization=nodes[anchors[account.member_of]])
        if account.role is not None:
            role_grant(
                user=user,
                organization=nodes[anchors[account.scope]],
                role=account.role,
                granted_by=created.get(account.granted_by or ""),
            )


DEMO_INVITATION_CODE = "SFDEMO88"
DEMO_PRELISTED_PHONE = "13600000009"
DEMO_APPLICANTS: tuple[tuple[str, str], ...] = (
    ("13600000001", "赵文博"),
    ("13600000002", "钱思雨"),
    ("13600000003", "孙浩然"),
)


def _activity_create(anchors: dict[str, str]) -> None:
    """What a few weeks of administration leave behind, done through the audited services:
    content roles, a pre-listed newcomer, a transfer, an invitation code and three
    newcomers waiting for approval."""
    accounts = {u.phone: u for u in User.objects.filter(phone__startswith="1380000000")}
    county_admin, branch_admin = accounts["13800000002"], accounts["13800000004"]
    province_admin = accounts["13800000001"]
    branch = Organization.objects.get(code=anchors["branch"])
    county_a = Organization.objects.get(code=anchors["county_a"])
    province = Organization.objects.get(code=PROVINCE_CODE)
    in_branch = list(
        Membership.objects.filter(organization=branch, ended_at__isnull=True)
        .exclude(user__phone__startswith="1380000000")
        .filter(user__registered_at__isnull=False)
        .select_related("user", "organization")
        .order_by("user__phone")[:3]
    )
    role_grant_as(
        actor=county_admin, user=in_branch[0].user, organization=county_a, role=Role.CORRESPONDENT
    )
    role_grant_as(
        actor=county_admin, user=in_branch[1].user, organization=county_a, role=Role.EDITOR
    )
    role_grant_as(
        actor=province_admin, user=in_branch[2].user, organization=province, role=Role.COMMENTATOR
    )
    organization_update(actor=county_admin, organization=branch, contact_name="陈晓东")
    member_add(
        actor=branch_admin, organization=branch, phone=DEMO_PRELISTED_PHONE, real_name="周明"
    )
    sibling = (
        Organization.objects.get_children(Organization.objects.get_parent(branch))
        .filter(kind=OrganizationKind.BRANCH)
        .exclude(pk=branch.pk)
        .first()
    )
    if sibling is not None:
        member_transfer(actor=county_admin, membership=in_branch[2], target=sibling)
    invitation = invitation_create(actor=branch_admin, organization=branch, valid_days=None)
    Invitation.objects.filter(pk=invitation.pk).update(code=DEMO_INVITATION_CODE)
    for phone, name in DEMO_APPLICANTS:
        applicant = User.objects.create_user(phone, name, None)
        join_request_create(user=applicant, code=DEMO_INVITATION_CODE)


def demo_summary() -> DemoSummary:
    """Counts of what the demo holds now (read-only)."""
    province = Organization.objects.filter(code=PROVINCE_CODE).first()
    if province is None:
        return DemoSummary(0, 0, 0, 0, 0)
    subtree = Organization.objects.filter(path__startswith=province.path)
    return DemoSummary(
        organizations=subtree.count() + province.depth - 1,  # and the ancestors up to the root
        cities=subtree.filter(kind=OrganizationKind.CITY).count(),
        counties=subtree.filter(kind=OrganizationKind.COUNTY).count(),
        members=Membership.objects.filter(
            organization__path__startswith=province.path, ended_at__isnull=True
        ).count(),
        accounts=User.objects.filter(phone__in=[a.phone for a in DEMO_ACCOUNTS]).count(),
    )


def demo_account_rows() -> list[DemoAccountRow]:
    """The demo accounts as they stand in the database, for the command's table."""
    rows = []
    users = User.objects.in_bulk([a.phone for a in DEMO_ACCOUNTS], field_name="phone")
    for account in DEMO_ACCOUNTS:
        user = users.get(account.phone)
        if user is None:
            continue
        grants = RoleGrant.objects.filter(user=user).select_related("organization")
        roles = "、".join(
            f"{Role(grant.role).label} @ {grant.organization.name}"
            for grant in grants.order_by("organization__path", "role")
        )
        membership = (
            Membership.objects.select_related("organization")
            .filter(user=user, ended_at__isnull=True)
            .first()
        )
        place = ""
        if membership is not None:
            organization = membership.organization
            names = (
                Organization.objects.get_ancestors(organization)
                .filter(depth__gt=1)
                .values_list("name", flat=True)
            )
            place = " / ".join([*names, organization.name])
        rows.append(DemoAccountRow(user.phone, user.real_name, roles or "普通学员", place))
    return rows
