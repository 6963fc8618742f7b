"""The demo province that ``make run`` loads: its shape, its members, its accounts, and that
loading it twice changes nothing."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Sum

from xuexi.accounts.models import User
from xuexi.accounts.phones import is_mobile
from xuexi.accounts.services import REAL_NAME_RE
from xuexi.organizations import demo
from xuexi.organizations.models import (
    ManagementLine,
    Membership,
    Organization,
    OrganizationKind,
    Role,
    RoleGrant,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> demo.DemoSummary:
    return demo.demo_seed()


def _province() -> Organization:
    return Organization.objects.get(code=demo.PROVINCE_CODE)


def _snapshot() -> str:
    """A checksum of every row the demo writes, timestamps included."""
    rows: list[object] = []
    rows += Organization.objects.order_by("path").values_list(
        "path",
        "depth",
        "numchild",
        "code",
        "name",
        "kind",
        "line",
        "expected_members",
        "created_at",
    )
    rows += User.objects.order_by("phone").values_list(
        "phone", "real_name", "password", "is_staff", "is_administrator", "date_joined"
    )
    rows += Membership.objects.order_by("pk").values_list(
        "pk", "user__phone", "organization__code", "started_at", "ended_at"
    )
    rows += RoleGrant.objects.order_by("pk").values_list(
        "pk", "user__phone", "organization__code", "role", "granted_by__phone"
    )
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _content() -> list[object]:
    """What must be the same on every fresh database: everything but timestamps and salts."""
    rows: list[object] = []
    rows += Organization.objects.order_by("path").values_list(
        "path", "code", "name", "kind", "line", "expected_members"
    )
    rows += User.objects.order_by("phone").values_list("phone", "real_name")
    rows += Membership.objects.order_by("user__phone").values_list(
        "user__phone", "organization__code"
    )
    return rows


def test_the_demo_province_has_cities_counties_a_line_and_at_least_300_organisations(
    seeded: demo.DemoSummary,
) -> None:
    root = Organization.objects.get(code=demo.PLATFORM_CODE)
    province = _province()
    assert root.is_root()
    assert root.kind == OrganizationKind.PLATFORM
    assert Organization.objects.get_parent(province) == root
    assert province.kind == OrganizationKind.PROVINCE
    assert province.name == "示范省"

    subtree = Organization.objects.filter(path__startswith=province.path)
    assert Organization.objects.count() >= 300
    assert seeded.organizations == Organization.objects.count()
    assert subtree.filter(kind=OrganizationKind.CITY, depth=3).count() >= 3
    assert subtree.filter(kind=OrganizationKind.COUNTY, depth=4).count() >= 8
    assert subtree.filter(kind=OrganizationKind.GENERAL_BRANCH).count() >= 1

    line = subtree.get(kind=OrganizationKind.LINE)
    assert line.line == ManagementLine.PROVINCIAL_ORGANS
    assert Organization.objects.get_parent(line) == province
    units = Organization.objects.get_children(line).filter(kind=OrganizationKind.UNIT)
    assert units.count() >= 5
    assert not units.exclude(line=ManagementLine.PROVINCIAL_ORGANS).exists()


def test_every_county_has_its_organs_and_townships_with_branches(seeded: demo.DemoSummary) -> None:
    for county in Organization.objects.filter(kind=OrganizationKind.COUNTY):
        units = Organization.objects.get_children(county)
        assert units.count() >= 5
        assert not units.exclude(kind=OrganizationKind.UNIT).exists()
        assert (
            Organization.objects.get_descendants(county)
            .filter(kind=OrganizationKind.BRANCH)
            .count()
            >= 20
        )


def test_the_tree_is_consistent_and_codes_are_unique(seeded: demo.DemoSummary) -> None:
    assert all(problems == [] for problems in Organization.objects.find_problems())
    code_at = dict(Organization.objects.values_list("path", "code"))
    assert len(set(code_at.values())) == len(code_at)
    steplen = Organization.steplen
    for path, code in code_at.items():
        if len(path) > 2 * steplen:  # below the province, a code extends its parent's
            assert code.startswith(code_at[path[:-steplen]] + "-"), code


def test_branches_have_a_headcount_and_every_parent_sums_its_children(
    seeded: demo.DemoSummary,
) -> None:
    branches = Organization.objects.filter(kind=OrganizationKind.BRANCH)
    assert not branches.filter(expected_members__lt=8).exists()
    assert not branches.filter(expected_members__gt=20).exists()
    assert not branches.filter(numchild__gt=0).exists()
    for parent in Organization.objects.filter(numchild__gt=0):
        total = Organization.objects.get_children(parent).aggregate(total=Sum("expected_members"))[
            "total"
        ]
        assert parent.expected_members == total, parent.code


def test_3000_members_each_have_exactly_one_current_membership(seeded: demo.DemoSummary) -> None:
    members = User.objects.filter(phone__startswith=demo.MEMBER_PHONE_PREFIX)
    assert members.count() == demo.DEMO_MEMBER_COUNT >= 3000
    # the bulk members, the six accounts and one newcomer an administrator pre-listed
    assert seeded.members == demo.DEMO_MEMBER_COUNT + len(demo.DEMO_ACCOUNTS) + 1
    applicants = [phone for phone, _name in demo.DEMO_APPLICANTS]
    assert (
        not User.objects.exclude(phone__in=applicants)
        .exclude(pk__in=Membership.objects.filter(ended_at__isnull=True).values("user"))
        .exists()
    )
    per_user = (
        Membership.objects.filter(ended_at__isnull=True).values("user").annotate(n=Count("pk"))
    )
    assert {row["n"] for row in per_user} == {1}
    placed_in = Membership.objects.filter(user__in=members).values_list(
        "organization__kind", flat=True
    )
    assert set(placed_in) == {OrganizationKind.BRANCH}


def test_no_branch_has_more_members_than_its_headcount(seeded: demo.DemoSummary) -> None:
    over = (
        Organization.objects.filter(kind=OrganizationKind.BRANCH)
        .annotate(members=Count("memberships"))
        .filter(members__gt=0)
    )
    assert over.exists()
    for branch in over:
        assert branch.members <= branch.expected_members, branch.code


def test_bulk_members_have_real_names_valid_phones_and_no_usable_password(
    seeded: demo.DemoSummary,
) -> None:
    members = list(User.objects.filter(phone__startswith=demo.MEMBER_PHONE_PREFIX))
    assert all(is_mobile(member.phone) for member in members)
    assert all(REAL_NAME_RE.match(member.real_name) for member in members)
    assert not any(member.has_usable_password() for member in members)
    assert not any(member.is_administrator or member.is_staff for member in members)
    assert len({member.real_name for member in members}) > 1000
    demo_phones = {account.phone for account in demo.DEMO_ACCOUNTS}
    assert demo_phones.isdisjoint(member.phone for member in members)


def test_the_six_demo_accounts_hold_their_roles_on_the_right_nodes(
    seeded: demo.DemoSummary,
) -> None:
    def grants(phone: str) -> list[tuple[str, Organization]]:
        return [
            (grant.role, grant.organization)
            for grant in RoleGrant.objects.filter(user__phone=phone).select_related("organization")
        ]

    [(role, platform)] = grants("13800000000")
    assert (role, platform.code) == (Role.OPERATOR, demo.PLATFORM_CODE)
    [(role, province)] = grants("13800000001")
    assert (role, province.code) == (Role.MAIN_ADMIN, demo.PROVINCE_CODE)
    [(role, county_a)] = grants("13800000002")
    assert role == Role.MAIN_ADMIN
    assert county_a.kind == OrganizationKind.COUNTY
    [(role, county_b)] = grants("13800000003")
    assert role == Role.MAIN_ADMIN
    assert county_b.kind == OrganizationKind.COUNTY
    assert county_a != county_b
    assert county_a.is_sibling_of(county_b)
    assert Organization.objects.get_parent(county_a).kind == OrganizationKind.CITY
    [(role, branch)] = grants("13800000004")
    assert role == Role.ADMIN
    assert branch.kind == OrganizationKind.BRANCH
    assert branch.is_descendant_of(county_a)
    assert grants("13800000005") == []

    operator = User.objects.get(phone="13800000000")
    assert operator.is_staff
    assert User.objects.filter(is_staff=True).count() == 1
    administrators = set(User.objects.filter(is_administrator=True).values_list("phone", flat=True))
    assert administrators == {f"1380000000{i}" for i in range(5)}


def test_demo_accounts_are_members_of_sensible_organisations(seeded: demo.DemoSummary) -> None:
    def place(phone: str) -> Organization:
        return Membership.objects.get(user__phone=phone, ended_at__isnull=True).organization

    province = _province()
    for phone in ("13800000000", "13800000001"):
        branch = place(phone)  # members belong to branches: the first office branch of a unit
        assert branch.kind == OrganizationKind.BRANCH
        assert branch.line == ManagementLine.PROVINCIAL_ORGANS
        assert branch.is_descendant_of(province)
    for phone in ("13800000002", "13800000003"):
        branch = place(phone)
        scope = RoleGrant.objects.get(user__phone=phone).organization
        assert branch.kind == OrganizationKind.BRANCH
        assert branch.is_descendant_of(scope)
    branch = RoleGrant.objects.get(user__phone="13800000004").organization
    assert place("13800000004") == branch
    assert place("13800000005") == branch


def test_demo_accounts_sign_in_with_the_documented_password(seeded: demo.DemoSummary) -> None:
    for account in demo.DEMO_ACCOUNTS:
        user = User.objects.get(phone=account.phone)
        assert user.real_name == account.real_name
        assert user.check_password("Xuexi@2019")
        assert not user.check_password("xuexi@2019")
        assert user.password_changed_at is not None


def test_running_the_command_twice_changes_nothing() -> None:
    first = StringIO()
    call_command("seed_demo", stdout=first)
    counts = (Organization.objects.count(), User.objects.count(), Membership.objects.count())
    checksum = _snapshot()

    second = StringIO()
    call_command("seed_demo", stdout=second)

    assert "已装入" in first.getvalue()
    assert "已存在" in second.getvalue()
    assert (Organization.objects.count(), User.objects.count(), Membership.objects.count()) == (
        counts
    )
    assert _snapshot() == checksum
    assert RoleGrant.objects.count() == 5 + 3  # the accounts' roles and three content roles


def test_the_command_prints_a_summary_and_the_account_table() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert "学习组织" in text
    assert "学员 3007 名" in text
    assert "Xuexi@2019" in text
    for account in demo.DEMO_ACCOUNTS:
        assert account.phone in text
        assert account.real_name in text


def test_two_fresh_databases_get_the_same_demo() -> None:
    before_any_seed = transaction.savepoint()
    demo.demo_seed()
    first = _content()
    transaction.savepoint_rollback(before_any_seed)
    assert not Organization.objects.exists()

    demo.demo_seed()
    assert _content() == first


def test_a_taken_phone_number_stops_the_seed_before_anything_is_written() -> None:
    User.objects.create_user(demo.member_phone(7), "周敏")

    with pytest.raises(CommandError, match="13900000007"):
        call_command("seed_demo", stdout=StringIO())

    assert not Organization.objects.exists()
    assert User.objects.count() == 1


def test_an_existing_platform_root_is_reused() -> None:
    root = Organization.objects.add_root(
        create_kwargs={
            "name": demo.PLATFORM_NAME,
            "kind": OrganizationKind.PLATFORM,
            "code": demo.PLATFORM_CODE,
        }
    )

    demo.demo_seed()

    root.refresh_from_db()
    assert Organization.objects.filter(depth=1).count() == 1
    assert root.expected_members == _province().expected_members


def test_the_demo_has_roles_an_invitation_pending_requests_and_audit_history(
    seeded: demo.DemoSummary,
) -> None:
    from xuexi.core.models import AuditEntry
    from xuexi.organizations.models import Invitation, JoinRequest, JoinStatus

    roles = set(RoleGrant.objects.values_list("role", flat=True))
    assert {"correspondent", "editor", "commentator"} <= roles
    invitation = Invitation.objects.get(code=demo.DEMO_INVITATION_CODE)
    assert invitation.is_usable(invitation.created_at)
    pending = JoinRequest.objects.filter(status=JoinStatus.PENDING)
    assert pending.count() == len(demo.DEMO_APPLICANTS)
    assert {r.organization for r in pending} == {invitation.organization}
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"role.grant", "member.add", "member.transfer", "invitation.create"} <= actions
    assert User.objects.get(phone=demo.DEMO_PRELISTED_PHONE).registered_at is None
