"""The administrator console pages and the member's join pages, for every persona (S7, S8, S10).

Every page and every form route is asked by the whole cast of ``personas``: administrators
inside the scope get the page (200/302), the sibling county's administrator gets 404 for
anything of county A (existence is private), members and strangers get 403. Each successful
POST writes exactly one audit entry; each refused one writes none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse

from xuexi.accounts.tests.factories import UserFactory
from xuexi.core.models import AuditEntry
from xuexi.organizations import services
from xuexi.organizations.models import (
    Invitation,
    JoinRequest,
    JoinStatus,
    Membership,
    Organization,
    Role,
    RoleGrant,
)

pytestmark = pytest.mark.django_db

PERSONAS = [
    "operator",
    "province_admin",
    "county_admin",
    "outsider",
    "branch_admin",
    "member",
    "member_b",
    "stranger",
]
NON_ADMINS = {"member", "member_b", "stranger"}
# Session, user, scope, tree path, counts and a page of members: fixed, whatever the tree's size.
QUERY_BUDGET = 25


@dataclass
class World:
    people: dict[str, Any]
    orgs: dict[str, Organization]
    objects: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        if name in self.orgs:
            return self.orgs[name]
        if name in self.objects:
            return self.objects[name]
        return self.people[name]


@pytest.fixture
def world(personas: dict[str, Any]) -> World:
    """The persona tree plus what the console pages act on, all inside county A or B."""
    orgs = dict(personas["orgs"])

    def child(parent: str, name: str, kind: str, code: str, **extra: Any) -> Organization:
        return Organization.objects.add_child(
            Organization.objects.get(pk=orgs[parent].pk),
            {"name": name, "kind": kind, "code": code, **extra},
        )

    orgs["unit_a"] = child("county_a", "单位A2", "unit", "P-1-1-1-9")
    orgs["group_a"] = child("branch_a", "学习小组A1-1", "group", "P-1-1-1-1-1")
    orgs["group_closed"] = child("branch_a", "学习小组A1-2", "group", "P-1-1-1-1-2", is_open=False)

    county_admin, outsider = personas["county_admin"], personas["outsider"]
    invitation_a = services.invitation_create(actor=county_admin, organization=orgs["branch_a"])
    invitation_b = services.invitation_create(actor=outsider, organization=orgs["branch_b"])
    applicant_b = UserFactory.create(phone="13800000018", real_name="申请乙")
    objects = {
        "invitation_a": invitation_a,
        "invitation_b": invitation_b,
        "request_a": services.join_request_create(
            user=personas["stranger"], code=invitation_a.code
        ),
        "request_b": services.join_request_create(user=applicant_b, code=invitation_b.code),
        "grant_a": RoleGrant.objects.get(user=personas["branch_admin"]),
        "grant_b": RoleGrant.objects.get(user=outsider),
    }
    for name in orgs:
        orgs[name].refresh_from_db()
    return World(people=personas, orgs=orgs, objects=objects)


def sign_in(client: Any, world: World, persona: str) -> None:
    client.force_login(world.people[persona])


# --- every page, every persona -------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    url: Callable[[World], str]
    admin: int = 200  # for administrators whose scope holds the object
    outsider: int = 404  # for county B's administrator (the object lies in county A)
    branch_admin: int | None = None  # when branch A1's administrator differs from ``admin``


def url(name: str, *keys: str) -> Callable[[World], str]:
    def build(world: World) -> str:
        args = [world[key].pk for key in keys]
        if name.startswith("console:member_") and not keys:  # a member of branch A1
            args = [world["branch_a"].pk, world["member"].pk]
        return reverse(name, args=args)

    return build


PAGES: dict[str, Page] = {
    "index": Page(url("console:index"), admin=302, outsider=302),
    "login log": Page(url("console:login_log"), outsider=200),
    "organisation": Page(url("console:organization", "branch_a")),
    "children fragment": Page(url("console:organization_children", "branch_a")),
    "search": Page(lambda w: reverse("console:organization_search") + "?q=支部", outsider=200),
    "create child": Page(url("console:organization_create", "branch_a")),
    "edit organisation": Page(url("console:organization_edit", "branch_a")),
    "move organisation": Page(url("console:organization_move", "branch_a")),
    "close organisation": Page(url("console:organization_close", "group_a")),
    "reopen organisation": Page(url("console:organization_reopen", "group_closed")),
    "add member": Page(url("console:member_add", "branch_a")),
    "edit member": Page(url("console:member_edit")),
    "transfer member": Page(url("console:member_transfer")),
    "remove member": Page(url("console:member_remove")),
    "roles": Page(url("console:roles", "branch_a")),
    "grant role": Page(url("console:role_grant", "branch_a")),
    "revoke role": Page(url("console:role_revoke", "grant_a")),
    "invitations": Page(url("console:invitations", "branch_a")),
    "create invitation": Page(url("console:invitation_create", "branch_a")),
    "disable invitation": Page(url("console:invitation_disable", "invitation_a")),
    "print invitation": Page(url("console:invitation_print", "invitation_a")),
    "approvals": Page(url("console:approvals"), outsider=200),
    "approve request": Page(url("console:approval_approve", "request_a")),
    "reject request": Page(url("console:approval_reject", "request_a")),
    "audit index": Page(url("console:audit_index"), admin=302, outsider=302),
    "audit": Page(url("console:audit", "branch_a")),
    "audit of the county": Page(url("console:audit", "county_a"), branch_admin=404),
    "children of the county": Page(
        url("console:organization_children", "county_a"), branch_admin=404
    ),
}


def expected_status(page: Page, persona: str) -> int:
    if persona in NON_ADMINS:
        return 403
    if persona == "outsider":
        return page.outsider
    if persona == "branch_admin" and page.branch_admin is not None:
        return page.branch_admin
    return page.admin


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", PAGES)
def test_every_console_page_answers_each_persona_as_the_scope_says(
    client: Any, world: World, page: str, persona: str
) -> None:
    sign_in(client, world, persona)
    response = client.get(PAGES[page].url(world))
    assert response.status_code == expected_status(PAGES[page], persona), page


@pytest.mark.parametrize("page", PAGES)
def test_every_console_page_sends_an_anonymous_visitor_to_the_login_page(
    client: Any, world: World, page: str
) -> None:
    response = client.get(PAGES[page].url(world))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- every form route, every persona ----------------------------------------------------------


@dataclass(frozen=True)
class Post:
    url: Callable[[World], str]
    data: Callable[[World], dict[str, str]]
    outcome: dict[str, int] = field(default_factory=dict)  # persona → status, default 302


POSTS: dict[str, Post] = {
    "create child": Post(
        url("console:organization_create", "branch_a"),
        lambda w: {"name": "学习小组A1-3", "kind": "group", "line": "", "code": ""},
    ),
    "edit organisation": Post(
        url("console:organization_edit", "branch_a"),
        lambda w: {"name": "第一党支部", "line": "", "expected_members": "30"},
    ),
    "move organisation": Post(
        url("console:organization_move", "branch_a"),
        lambda w: {"target": w["unit_a"].code},
        # his own top node: refused in the form
        {"branch_admin": 200},
    ),
    "close organisation": Post(url("console:organization_close", "group_a"), lambda w: {}),
    "reopen organisation": Post(url("console:organization_reopen", "group_closed"), lambda w: {}),
    "add member": Post(
        url("console:member_add", "branch_a"),
        lambda w: {"real_name": "新成员", "phone": "13900000001"},
    ),
    "edit member": Post(url("console:member_edit"), lambda w: {"real_name": "王更正"}),
    "transfer member": Post(
        url("console:member_transfer"), lambda w: {"target": w["group_a"].code}
    ),
    "remove member": Post(url("console:member_remove"), lambda w: {}),
    "grant role": Post(
        url("console:role_grant", "branch_a"),
        lambda w: {"phone": w["member"].phone, "role": Role.CORRESPONDENT},
    ),
    "revoke role": Post(
        url("console:role_revoke", "grant_a"),
        lambda w: {},
        # an administrator of a node cannot remove himself or his peers there
        {"branch_admin": 200},
    ),
    "create invitation": Post(
        url("console:invitation_create", "branch_a"), lambda w: {"valid_days": "30"}
    ),
    "disable invitation": Post(url("console:invitation_disable", "invitation_a"), lambda w: {}),
    "approve request": Post(url("console:approval_approve", "request_a"), lambda w: {"note": ""}),
    "reject request": Post(
        url("console:approval_reject", "request_a"), lambda w: {"note": "不是本支部成员"}
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", POSTS)
def test_every_console_form_answers_each_persona_and_audits_exactly_its_successes(
    client: Any, world: World, route: str, persona: str
) -> None:
    post = POSTS[route]
    sign_in(client, world, persona)
    before = AuditEntry.objects.count()
    response = client.post(post.url(world), post.data(world))
    if persona in NON_ADMINS:
        expected = 403
    elif persona == "outsider":
        expected = 404
    else:
        expected = post.outcome.get(persona, 302)
    assert response.status_code == expected, (route, response.content[:2000].decode())
    written = AuditEntry.objects.count() - before
    assert written == (1 if expected == 302 else 0)
    if expected == 302:
        assert response["Location"].startswith("/console/")


@pytest.mark.parametrize("route", POSTS)
def test_every_console_form_refuses_an_anonymous_post(client: Any, world: World, route: str):
    before = AuditEntry.objects.count()
    response = client.post(POSTS[route].url(world), POSTS[route].data(world))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert AuditEntry.objects.count() == before


# --- the scope boundary (S8, S10) -------------------------------------------------------------


def test_county_a_admin_gets_404_for_every_object_of_county_b(client: Any, world: World):
    sign_in(client, world, "county_admin")
    member_b = world["member_b"].pk
    branch_b = world["branch_b"].pk
    forms = [
        reverse("console:organization_create", args=[branch_b]),
        reverse("console:organization_edit", args=[branch_b]),
        reverse("console:organization_move", args=[world["county_b"].pk]),
        reverse("console:organization_close", args=[branch_b]),
        reverse("console:member_add", args=[branch_b]),
        reverse("console:member_edit", args=[branch_b, member_b]),
        reverse("console:member_transfer", args=[branch_b, member_b]),
        reverse("console:member_remove", args=[branch_b, member_b]),
        reverse("console:role_grant", args=[branch_b]),
        reverse("console:role_revoke", args=[world["grant_b"].pk]),
        reverse("console:invitation_create", args=[branch_b]),
        reverse("console:invitation_disable", args=[world["invitation_b"].pk]),
        reverse("console:approval_approve", args=[world["request_b"].pk]),
        reverse("console:approval_reject", args=[world["request_b"].pk]),
        # a member of county B asked for through county A's own page
        reverse("console:member_edit", args=[world["county_a"].pk, member_b]),
    ]
    pages = [
        reverse("console:organization", args=[world["county_b"].pk]),
        reverse("console:organization", args=[branch_b]),
        reverse("console:organization", args=[999_999]),
        reverse("console:organization_children", args=[world["county_b"].pk]),
        reverse("console:roles", args=[branch_b]),
        reverse("console:invitations", args=[branch_b]),
        reverse("console:invitation_print", args=[world["invitation_b"].pk]),
        reverse("console:audit", args=[branch_b]),
    ]
    for target in forms + pages:
        assert client.get(target).status_code == 404, target
    before = AuditEntry.objects.count()
    data = {"name": "x", "kind": "group", "real_name": "王五", "phone": "13900000009"}
    for target in forms:
        assert client.post(target, {**data, "valid_days": "30", "note": ""}).status_code == 404
    assert AuditEntry.objects.count() == before


def test_a_county_a_admin_cannot_move_branch_a1_under_county_b(client: Any, world: World):
    sign_in(client, world, "county_admin")
    before = AuditEntry.objects.count()
    response = client.post(
        reverse("console:organization_move", args=[world["branch_a"].pk]),
        {"target": world["county_b"].code},
    )
    assert response.status_code == 200
    assert "找不到该组织，或它不在您的管理范围内。" in response.content.decode()
    branch = Organization.objects.get(pk=world["branch_a"].pk)
    assert Organization.objects.get_parent(branch).pk == world["county_a"].pk
    assert AuditEntry.objects.count() == before


def test_a_county_a_admin_cannot_transfer_a_member_into_branch_b1(client: Any, world: World):
    sign_in(client, world, "county_admin")
    before = AuditEntry.objects.count()
    response = client.post(
        reverse("console:member_transfer", args=[world["branch_a"].pk, world["member"].pk]),
        {"target": world["branch_b"].code},
    )
    assert response.status_code == 200
    assert "找不到该组织，或它不在您的管理范围内。" in response.content.decode()
    current = Membership.objects.get(user=world["member"], ended_at__isnull=True)
    assert current.organization_id == world["branch_a"].pk
    assert AuditEntry.objects.count() == before


def test_a_county_a_admin_cannot_grant_himself_a_role(client: Any, world: World):
    sign_in(client, world, "county_admin")
    me = world["county_admin"]
    response = client.post(
        reverse("console:role_grant", args=[world["county_a"].pk]),
        {"phone": me.phone, "role": Role.CORRESPONDENT},
    )
    assert response.status_code == 200
    assert "不能给自己授予角色。" in response.content.decode()
    assert not RoleGrant.objects.filter(user=me, role=Role.CORRESPONDENT).exists()


def test_an_admin_who_is_not_main_admin_cannot_appoint_a_main_admin_on_his_own_county(
    client: Any, world: World
):
    deputy = UserFactory.create(phone="13800000019", real_name="副管理")
    services.membership_place(user=deputy, organization=world["county_a"])
    services.role_grant(
        user=deputy, organization=world["county_a"], role=Role.ADMIN, granted_by=None
    )
    client.force_login(deputy)
    grant_page = reverse("console:role_grant", args=[world["county_a"].pk])

    offered = re.findall(r'<option value="(\w+)"', client.get(grant_page).content.decode())
    assert Role.MAIN_ADMIN not in offered
    assert Role.ADMIN not in offered
    assert Role.CORRESPONDENT in offered

    before = AuditEntry.objects.count()
    response = client.post(grant_page, {"phone": world["member"].phone, "role": Role.MAIN_ADMIN})
    assert response.status_code == 200
    assert not RoleGrant.objects.filter(user=world["member"], role=Role.MAIN_ADMIN).exists()
    assert AuditEntry.objects.count() == before


def test_a_role_can_only_go_to_a_current_member_of_the_node(client: Any, world: World):
    sign_in(client, world, "county_admin")
    response = client.post(
        reverse("console:role_grant", args=[world["branch_a"].pk]),
        {"phone": world["member_b"].phone, "role": Role.CORRESPONDENT},
    )
    assert response.status_code == 200
    assert "找不到该成员，或他不在您的管理范围内。" in response.content.decode()
    assert not RoleGrant.objects.filter(user=world["member_b"]).exists()


def test_the_branch_admin_sees_no_move_or_close_button_on_his_own_branch(client: Any, world: World):
    sign_in(client, world, "branch_admin")
    page = client.get(reverse("console:organization", args=[world["branch_a"].pk]))
    html = page.content.decode()
    assert reverse("console:organization_move", args=[world["branch_a"].pk]) not in html
    assert reverse("console:organization_close", args=[world["branch_a"].pk]) not in html
    assert reverse("console:organization_edit", args=[world["branch_a"].pk]) in html


# --- what the pages show ----------------------------------------------------------------------


def test_the_console_index_opens_the_top_node_of_the_scope(client: Any, world: World):
    sign_in(client, world, "county_admin")
    response = client.get(reverse("console:index"))
    assert response["Location"] == reverse("console:organization", args=[world["county_a"].pk])


def test_the_organisation_page_renders_only_the_path_of_the_tree_not_the_whole_tree(
    client: Any, world: World
):
    sign_in(client, world, "province_admin")
    html = client.get(reverse("console:organization", args=[world["branch_a"].pk])).content
    html = html.decode()
    for shown in ("示范省", "东州市", "县A", "县B", "支部A1", "学习小组A1-1"):
        assert shown in html
    assert "支部B1" not in html  # county B stays folded: its children load on demand
    assert "全国学习平台" in html  # the path above the scope is named, not linked
    assert reverse("console:organization", args=[world["root"].pk]) + '"' not in html


def test_expanding_a_node_returns_only_its_children(client: Any, world: World):
    sign_in(client, world, "province_admin")
    response = client.get(reverse("console:organization_children", args=[world["county_b"].pk]))
    html = response.content.decode()
    assert "支部B1" in html
    assert "支部A1" not in html
    assert "<html" not in html


def test_the_member_table_masks_phones_and_filters_by_name_phone_and_registration(
    client: Any, world: World
):
    services.member_add(
        actor=world["county_admin"],
        organization=world["branch_a"],
        phone="13912345678",
        real_name="预录入",
    )
    sign_in(client, world, "county_admin")
    page = reverse("console:organization", args=[world["county_a"].pk])
    html = client.get(page).content.decode()
    assert "139****5678" in html
    assert "13912345678" not in html
    assert "预录入" in client.get(page + "?registered=no").content.decode()
    assert "138****0005" not in client.get(page + "?registered=no").content.decode()
    assert "预录入" in client.get(page + "?q=139123").content.decode()
    assert "预录入" not in client.get(page + "?level=self").content.decode()


def test_the_organisation_search_finds_only_nodes_inside_the_scope(client: Any, world: World):
    sign_in(client, world, "county_admin")
    search = reverse("console:organization_search")
    html = client.get(search, {"q": "支部", "partial": "1"}).content.decode()
    assert "支部A1" in html
    assert "支部B1" not in html
    assert "支部A1" in client.get(search, {"q": world["branch_a"].code}).content.decode()
    assert "没有找到" in client.get(search, {"q": world["branch_b"].code}).content.decode()


def test_a_form_page_asked_for_the_dialog_comes_without_the_console_frame(
    client: Any, world: World
):
    sign_in(client, world, "county_admin")
    target = reverse("console:member_add", args=[world["branch_a"].pk])
    assert "管理菜单" in client.get(target).content.decode()
    dialog = client.get(target + "?dialog=1").content.decode()
    assert "管理菜单" not in dialog
    assert 'action="' + target + '"' in dialog


def test_adding_a_member_flashes_a_message_and_returns_to_the_organisation(
    client: Any, world: World
):
    sign_in(client, world, "county_admin")
    response = client.post(
        reverse("console:member_add", args=[world["branch_a"].pk]),
        {"real_name": "赵新", "phone": "13900000002"},
        follow=True,
    )
    assert "已将「赵新」加入本组织（未注册，本人注册后即可登录）。" in response.content.decode()
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.organization_id) == ("member.add", world["branch_a"].pk)


def test_a_member_form_shows_the_service_refusal_in_the_form(client: Any, world: World):
    sign_in(client, world, "county_admin")
    response = client.post(
        reverse("console:member_add", args=[world["county_a"].pk]),
        {"real_name": "赵新", "phone": "13900000002"},
    )
    assert response.status_code == 200
    assert "成员只能编入开放中的党支部或学习小组" in response.content.decode()


def test_a_row_action_returns_to_the_page_it_came_from_but_never_to_another_site(
    client: Any, world: World
):
    sign_in(client, world, "county_admin")
    edit = reverse("console:member_edit", args=[world["branch_a"].pk, world["member"].pk])
    back = reverse("console:organization", args=[world["county_a"].pk]) + "?page=1"
    response = client.post(edit, {"real_name": "王甲", "next": back})
    assert response["Location"] == back
    response = client.post(edit, {"real_name": "王乙", "next": "https://evil.example/"})
    assert response["Location"] == reverse("console:organization", args=[world["branch_a"].pk])


def test_closing_an_organisation_with_members_is_refused_on_the_confirmation_page(
    client: Any, world: World
):
    sign_in(client, world, "county_admin")
    response = client.post(reverse("console:organization_close", args=[world["branch_a"].pk]))
    assert response.status_code == 200
    assert "请先转接或移出后再关闭" in response.content.decode()
    assert Organization.objects.get(pk=world["branch_a"].pk).is_open


def test_the_roles_page_offers_revoke_only_where_the_actor_may_appoint(client: Any, world: World):
    sign_in(client, world, "branch_admin")
    html = client.get(reverse("console:roles", args=[world["branch_a"].pk])).content.decode()
    assert reverse("console:role_revoke", args=[world["grant_a"].pk]) not in html
    sign_in(client, world, "county_admin")
    html = client.get(reverse("console:roles", args=[world["branch_a"].pk])).content.decode()
    assert reverse("console:role_revoke", args=[world["grant_a"].pk]) in html


def test_the_invitation_sheet_holds_a_qr_code_of_the_join_page_and_the_code(
    client: Any, world: World
):
    sign_in(client, world, "county_admin")
    invitation = world["invitation_a"]
    html = client.get(reverse("console:invitation_print", args=[invitation.pk])).content.decode()
    assert "<svg" in html
    assert invitation.code in html
    assert "http://testserver" + reverse("join:code", args=[invitation.code]) in html


def test_the_invitations_page_lists_codes_with_their_state(client: Any, world: World):
    services.invitation_disable(actor=world["county_admin"], invitation=world["invitation_a"])
    services.invitation_create(actor=world["county_admin"], organization=world["branch_a"])
    sign_in(client, world, "county_admin")
    html = client.get(reverse("console:invitations", args=[world["branch_a"].pk])).content
    html = html.decode()
    assert "已停用" in html
    assert "有效" in html


def test_approvals_list_the_pending_requests_of_every_root_newest_first_and_count_them(
    client: Any, world: World
):
    sign_in(client, world, "province_admin")
    html = client.get(reverse("console:approvals")).content.decode()
    assert html.index("申请乙") < html.index(world["stranger"].real_name)
    assert '<span class="nav-count"' in html
    sign_in(client, world, "county_admin")
    html = client.get(reverse("console:approvals")).content.decode()
    assert world["stranger"].real_name in html
    assert "申请乙" not in html


def test_approving_a_request_places_the_member(client: Any, world: World):
    sign_in(client, world, "county_admin")
    client.post(
        reverse("console:approval_approve", args=[world["request_a"].pk]), {"note": "核对无误"}
    )
    request = JoinRequest.objects.get(pk=world["request_a"].pk)
    assert request.status == JoinStatus.APPROVED
    assert Membership.objects.get(user=world["stranger"], ended_at__isnull=True).organization_id
    again = client.post(reverse("console:approval_reject", args=[request.pk]), {"note": ""})
    assert again.status_code == 200  # already decided: the page says so, nothing changes
    assert "该申请已处理。" in again.content.decode()


def test_the_audit_log_names_each_action_in_chinese_and_filters_by_action(
    client: Any, world: World
):
    services.organization_update(
        actor=world["county_admin"], organization=world["branch_a"], name="第一党支部"
    )
    sign_in(client, world, "county_admin")
    page = reverse("console:audit", args=[world["county_a"].pk])
    html = client.get(page).content.decode()
    for label in ("修改组织", "生成邀请码", "申请加入"):
        assert label in html
    assert "支部A1" in html  # before → after
    assert "第一党支部" in html
    assert "organization.update" not in html.split("<tbody>")[1]
    filtered = client.get(page, {"action": "organization.update"}).content.decode()
    assert "生成邀请码" not in filtered.split("<tbody>")[1]
    # read-only: no page writes to the log, and county B's entries stay out
    assert "支部B1" not in html


# --- the member's side ---------------------------------------------------------------------------


def test_a_member_joins_by_code_sees_the_pending_request_on_me_and_withdraws_it(
    client: Any, world: World
):
    newcomer = UserFactory.create(phone="13800000020", real_name="新来的")
    client.force_login(newcomer)
    me = client.get(reverse("web:me")).content.decode()
    assert reverse("join:start") in me  # no organisation: a 加入组织 link

    code = world["invitation_a"].code
    response = client.post(reverse("join:start"), {"code": code.lower()})
    assert response["Location"] == reverse("join:code", args=[code])
    page = client.get(response["Location"]).content.decode()
    assert "示范省 › 东州市 › 县A › 支部A1" in page

    before = AuditEntry.objects.count()
    response = client.post(reverse("join:code", args=[code]))
    assert response.status_code == 302
    assert AuditEntry.objects.count() == before + 1
    request = JoinRequest.objects.get(user=newcomer, status=JoinStatus.PENDING)
    me = client.get(reverse("web:me")).content.decode()
    assert "已申请加入「支部A1」，等待审核" in me

    assert client.post(reverse("join:code", args=[code])).status_code == 200  # one pending
    response = client.post(reverse("join:withdraw", args=[request.pk]))
    assert response.status_code == 302
    assert JoinRequest.objects.get(pk=request.pk).status == JoinStatus.WITHDRAWN
    assert "等待审核" not in client.get(reverse("web:me")).content.decode()


def test_an_unknown_or_disabled_code_says_so(client: Any, world: World):
    sign_in(client, world, "member_b")
    response = client.get(reverse("join:code", args=["NOSUCH99"]))
    assert response.status_code == 404
    assert "邀请码无效或已过期" in response.content.decode()
    invitation = Invitation.objects.get(pk=world["invitation_a"].pk)
    services.invitation_disable(actor=world["county_admin"], invitation=invitation)
    assert client.get(reverse("join:code", args=[invitation.code])).status_code == 404


def test_a_member_cannot_withdraw_someone_elses_request(client: Any, world: World):
    sign_in(client, world, "member")
    response = client.post(reverse("join:withdraw", args=[world["request_a"].pk]))
    assert response.status_code == 404
    assert JoinRequest.objects.get(pk=world["request_a"].pk).status == JoinStatus.PENDING


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_join_pages_open_for_every_signed_in_persona(client: Any, world: World, persona):
    sign_in(client, world, persona)
    assert client.get(reverse("join:start")).status_code == 200
    assert client.get(reverse("join:code", args=[world["invitation_a"].code])).status_code == 200


@pytest.mark.parametrize("name", ["join:start", "join:code"])
def test_the_join_pages_send_an_anonymous_visitor_to_the_login_page(
    client: Any, world: World, name: str
):
    args = [world["invitation_a"].code] if name == "join:code" else []
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_organisation_page_links_the_roster_import_export_and_template(
    client: Any, world: World
):
    sign_in(client, world, "county_admin")
    org = world["county_a"].pk
    html = client.get(reverse("console:organization", args=[org])).content.decode()
    for name in ("console:roster_import", "console:roster_export", "console:roster_template"):
        assert reverse(name, args=[org]) in html


def test_the_child_kind_offered_is_only_what_the_parent_may_hold(client: Any, world: World):
    sign_in(client, world, "county_admin")
    target = reverse("console:organization_create", args=[world["branch_a"].pk])
    html = client.get(target).content.decode()
    kind_select = re.search(r'<select name="kind".*?</select>', html, re.S)
    assert kind_select is not None
    assert re.findall(r'<option value="(\w+)"', kind_select.group(0)) == ["group"]
    response = client.post(target, {"name": "县C", "kind": "county"})
    assert response.status_code == 200
    assert not Organization.objects.filter(name="县C").exists()


def test_the_organisation_page_costs_the_same_few_queries_however_wide_the_tree(
    client: Any, world: World, django_assert_max_num_queries: Any
):
    county_b = Organization.objects.get(pk=world["county_b"].pk)
    for number in range(40):
        county_b = Organization.objects.get(pk=county_b.pk)
        Organization.objects.add_child(
            county_b, {"name": f"宽支部{number}", "kind": "branch", "code": f"W-{number}"}
        )
    sign_in(client, world, "province_admin")
    client.get(reverse("console:index"))  # the day's first page also pays the login points
    with django_assert_max_num_queries(QUERY_BUDGET):
        html = client.get(reverse("console:organization", args=[world["branch_a"].pk])).content
    assert "宽支部" not in html.decode()
