"""Django admin for the tree: for inspection. Changes go through the console and services."""

from __future__ import annotations

from django.contrib import admin

from xuexi.core.admin import ReadOnlyAdmin
from xuexi.organizations.models import Membership, Organization, RoleGrant


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "line", "code", "expected_members", "is_open", "depth")
    list_filter = ("kind", "line", "is_open")
    search_fields = ("name", "code")
    ordering = ("path",)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "organization", "started_at", "ended_at")
    raw_id_fields = ("user", "organization")


@admin.register(RoleGrant)
class RoleGrantAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "organization", "granted_at")
    list_filter = ("role",)
    raw_id_fields = ("user", "organization", "granted_by")
