"""Django admin for accounts. Records that are logs stay read-only here."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from xuexi.accounts.models import LoginEvent, User
from xuexi.core.admin import ReadOnlyAdmin


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("real_name", "masked_phone", "is_active", "is_administrator", "date_joined")
    list_filter = ("is_active", "is_administrator", "is_staff")
    search_fields = ("real_name", "phone")
    # Passwords, roles and administrator status change only through the services.
    fields = ("phone", "real_name", "is_active", "is_staff", "date_joined", "last_login")
    readonly_fields = ("phone", "date_joined", "last_login")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # accounts come from registration or the roster, never from here


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "phone", "channel", "method", "result", "ip")
    list_filter = ("result", "channel", "method")
    search_fields = ("phone",)
    date_hierarchy = "at"
