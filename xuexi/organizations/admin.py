"""Django admin for the tree: for inspection. Changes go through the console and services."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from xuexi.organizations.models import Membership, Organization, RoleGrant


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


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
