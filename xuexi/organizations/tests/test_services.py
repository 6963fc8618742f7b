"""Rules of the organisation services beyond who may call them (the matrix covers that)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from xuexi.accounts import services as accounts
from xuexi.accounts.models import User
from xuexi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xuexi.core.models import AuditEntry
from xuexi.organizations import services
from xuexi.organizations.models import JoinStatus, Membership, Organization, RoleGrant
from xuexi.organizations.selectors import children_with_counts, members_current

pytestmark = pytest.mark.django_db


def test_a_new_number_is_pre_listed_and_placed_at_once(personas):
    membership = services.member_add(
        actor=personas["county_admin"],
        organization=personas["orgs"]["branch_a"],
        phone="13911112222",
        real_name="孙新人",
    )
    user = membership.user
    assert user.registered_at is None
    assert not user.has_usable_password()
    assert membership.organization == personas["orgs"]["branch_a"]
    entry = AuditEntry.objects.get(action="member.add")
    assert entry.actor == personas["county_admin"]
    assert entry.after is not None
    assert entry.after["registered"] is False


def test_a_pre_listed_member_who_registers_keeps_his_place(personas, sms_outbox, run_on_commit):
    services.member_add(
        actor=personas["county_admin"],
        organization=personas["orgs"]["branch_a"],
        phone="13911112222",
        real_name="孙新人",
    )
    with run_on_commit():
        accounts.sms_code_request(phone="13911112222", purpose="register", client_ip="1.2.3.4")
    user = accounts.user_register(
        phone="13911112222",
        code=sms_outbox.last_code("13911112222"),
        real_name="孙欣然",
        password="Study2026",
    )
    assert user.registered_at is not None
    assert user.real_name == "孙欣然"  # his own real name replaces the roster's
    assert User.objects.filter(phone="13911112222").count() == 1
    assert (
        Membership.objects.get(user=user, ended_at__isnull=True).organization
        == (personas["orgs"]["branch_a"])
    )


def test_a_pre_listed_number_gets_no_login_code(personas, sms_outbox, run_on_commit):
    services.member_add(
        actor=personas["county_admin"],
        organization=personas["orgs"]["branch_a"],
        phone="13911112222",
        real_name="孙新人",
    )
    with run_on_commit():
        accounts.sms_code_request(phone="13911112222", purpose="login", client_ip="1.2.3.4")
    assert sms_outbox.messages() == []


def test_a_member_of_another_organisation_cannot_be_added_again(personas):
    with pytest.raises(Conflict) as excinfo:
        services.member_add(
            actor=personas["county_admin"],
            organization=personas["orgs"]["branch_a"],
            phone=personas["member_b"].phone,
            real_name="李四",
        )
    assert excinfo.value.code == "member_elsewhere"


def test_members_go_only_into_branches_and_groups(personas):
    with pytest.raises(ValidationFailed):
        services.member_add(
            actor=personas["county_admin"],
            organization=personas["orgs"]["county_a"],
            phone="13911112222",
            real_name="孙新人",
        )


def test_a_transfer_keeps_the_history(personas):
    membership = Membership.objects.get(user=personas["member"], ended_at__isnull=True)
    branch_a2 = services.organization_create(
        actor=personas["county_admin"],
        parent=personas["orgs"]["county_a"],
        name="支部A2",
        kind="branch",
    )
    moved = services.member_transfer(
        actor=personas["county_admin"], membership=membership, target=branch_a2
    )
    history = list(Membership.objects.filter(user=personas["member"]).order_by("started_at"))
    assert [m.organization for m in history] == [personas["orgs"]["branch_a"], branch_a2]
    assert history[0].end_reason == "transferred"
    assert moved.ended_at is None


def test_the_kind_of_a_child_must_fit_its_parent(personas):
    with pytest.raises(ValidationFailed) as excinfo:
        services.organization_create(
            actor=personas["province_admin"],
            parent=personas["orgs"]["branch_a"],
            name="某市",
            kind="city",
        )
    assert "不能设立" in excinfo.value.message


def test_a_node_cannot_move_under_itself(personas):
    group = services.organization_create(
        actor=personas["province_admin"],
        parent=personas["orgs"]["branch_a"],
        name="学习小组",
        kind="group",
    )
    with pytest.raises(ValidationFailed):
        services.organization_move(
            actor=personas["province_admin"],
            organization=personas["orgs"]["branch_a"],
            new_parent=group,
        )


def test_moving_a_county_carries_its_whole_subtree(personas):
    city2 = services.organization_create(
        actor=personas["province_admin"],
        parent=personas["orgs"]["province"],
        name="西岭市",
        kind="city",
    )
    services.organization_move(
        actor=personas["province_admin"],
        organization=personas["orgs"]["county_a"],
        new_parent=city2,
    )
    branch = Organization.objects.get(pk=personas["orgs"]["branch_a"].pk)
    assert branch.path.startswith(city2.path)
    assert members_current(city2).count() == 3  # 县A's admin, 支部A1's admin and member
    assert Organization.objects.find_problems() == ([], [], [], [], [])


def test_a_node_with_members_cannot_be_closed_and_an_empty_one_closes_with_its_subtree(
    personas,
):
    with pytest.raises(Conflict):
        services.organization_close(
            actor=personas["province_admin"], organization=personas["orgs"]["county_a"]
        )
    empty = services.organization_create(
        actor=personas["province_admin"],
        parent=personas["orgs"]["county_b"],
        name="空支部",
        kind="branch",
    )
    services.organization_create(
        actor=personas["province_admin"], parent=empty, name="空小组", kind="group"
    )
    services.organization_close(actor=personas["province_admin"], organization=empty)
    assert not Organization.objects.filter(path__startswith=empty.path, is_open=True).exists()
    with pytest.raises(Conflict):
        services.member_add(
            actor=personas["province_admin"],
            organization=empty,
            phone="13911112222",
            real_name="孙新人",
        )
    services.organization_reopen(actor=personas["province_admin"], organization=empty)
    assert Organization.objects.get(pk=empty.pk).is_open


def test_a_plain_admin_cannot_appoint_administrators_at_his_own_level(personas):
    with pytest.raises(Forbidden):
        services.role_grant_as(
            actor=personas["branch_admin"],
            user=personas["member"],
            organization=personas["orgs"]["branch_a"],
            role="admin",
        )


def test_a_main_admin_appoints_on_his_node_and_the_flag_follows_grant_and_revoke(personas):
    grant = services.role_grant_as(
        actor=personas["county_admin"],
        user=personas["member"],
        organization=personas["orgs"]["county_a"],
        role="admin",
    )
    member = User.objects.get(pk=personas["member"].pk)
    assert member.is_administrator
    services.role_revoke_as(actor=personas["county_admin"], grant=grant)
    member.refresh_from_db()
    assert not member.is_administrator
    assert [e.action for e in AuditEntry.objects.order_by("id")][-2:] == [
        "role.grant",
        "role.revoke",
    ]


def test_only_an_operator_appoints_operators(personas):
    with pytest.raises(Forbidden):
        services.role_grant_as(
            actor=personas["province_admin"],
            user=personas["member"],
            organization=personas["orgs"]["province"],
            role="operator",
        )


def test_nobody_is_appointed_from_outside_the_scope(personas):
    with pytest.raises(NotFound):
        services.role_grant_as(
            actor=personas["county_admin"],
            user=personas["member_b"],
            organization=personas["orgs"]["branch_a"],
            role="correspondent",
        )
    assert not RoleGrant.objects.filter(user=personas["member_b"]).exists()


def test_an_invitation_expires_and_can_be_disabled(personas):
    with time_machine.travel(dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.UTC), tick=False) as clock:
        invitation = services.invitation_create(
            actor=personas["county_admin"],
            organization=personas["orgs"]["branch_a"],
            valid_days=7,
        )
        clock.shift(dt.timedelta(days=8))
        with pytest.raises(ValidationFailed):
            services.join_request_create(user=personas["stranger"], code=invitation.code)
    fresh = services.invitation_create(
        actor=personas["county_admin"], organization=personas["orgs"]["branch_a"]
    )
    services.invitation_disable(actor=personas["county_admin"], invitation=fresh)
    with pytest.raises(ValidationFailed):
        services.join_request_create(user=personas["stranger"], code=fresh.code)


def test_one_pending_request_at_a_time_and_a_decision_is_final(personas):
    invitation = services.invitation_create(
        actor=personas["county_admin"], organization=personas["orgs"]["branch_a"]
    )
    request = services.join_request_create(user=personas["stranger"], code=invitation.code)
    with pytest.raises(Conflict):
        services.join_request_create(user=personas["stranger"], code=invitation.code)
    services.join_request_decide(
        actor=personas["county_admin"], join_request=request, approve=False, note="信息不符"
    )
    with pytest.raises(Conflict):
        services.join_request_decide(
            actor=personas["county_admin"], join_request=request, approve=True
        )
    request.refresh_from_db()
    assert request.status == JoinStatus.REJECTED
    assert not Membership.objects.filter(user=personas["stranger"]).exists()


def test_a_member_may_withdraw_his_pending_request(personas):
    invitation = services.invitation_create(
        actor=personas["county_admin"], organization=personas["orgs"]["branch_a"]
    )
    request = services.join_request_create(user=personas["stranger"], code=invitation.code)
    services.join_request_withdraw(user=personas["stranger"], join_request=request)
    assert request.status == JoinStatus.WITHDRAWN


def test_the_audit_log_cannot_be_edited_or_deleted(personas):
    services.organization_update(
        actor=personas["county_admin"], organization=personas["orgs"]["branch_a"], name="改名"
    )
    entry = AuditEntry.objects.get()
    assert entry.before == {"name": "支部A1"}
    assert entry.after == {"name": "改名"}
    entry.action = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().update(action="tampered")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


def test_children_come_with_the_member_count_of_their_subtrees(personas):
    counts = {c.name: c.member_count for c in children_with_counts(personas["orgs"]["city"])}
    assert counts == {"县A": 3, "县B": 2}
