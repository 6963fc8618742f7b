"""Accounts routes of API.md: SMS codes, registration, tokens, password reset, /me."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from xuexi.accounts import services
from xuexi.accounts.consent import PRIVACY_NOTICE_VERSION
from xuexi.accounts.models import User
from xuexi.api.schemas import ERRORS
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import ValidationFailed
from xuexi.core.masking import mask_phone
from xuexi.core.pagination import paginate
from xuexi.organizations.access import access_login_events_as_admin
from xuexi.organizations.selectors import (
    membership_current,
    organization_path_names,
    role_grants_of,
)

router = Router(tags=["账号"])


class SmsCodeIn(Schema):
    phone: str
    purpose: Literal["register", "login", "reset_password"]


class SmsCodeOut(Schema):
    expires_in: int
    resend_after: int


class RegisterIn(Schema):
    phone: str
    code: str
    real_name: str
    password: str
    # The version of the privacy notice the app showed (GET /auth/privacy-notice); apps that
    # omit it are taken to have shown the current one.
    privacy_version: str | None = None


class PrivacyNoticeOut(Schema):
    version: str
    privacy_url: str
    terms_url: str


class OrganizationRef(Schema):
    id: int
    name: str
    path_names: list[str]


class RoleOut(Schema):
    role: str
    organization_id: int


class UserOut(Schema):
    id: int
    phone: str
    real_name: str
    organization: OrganizationRef | None
    roles: list[RoleOut]


class RegisterOut(Schema):
    user: UserOut


class TokenIn(Schema):
    phone: str
    password: str | None = None
    code: str | None = None


class TokenOut(Schema):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 — the OAuth token type, not a secret
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class RefreshIn(Schema):
    refresh_token: str


class PasswordResetIn(Schema):
    phone: str
    code: str
    new_password: str


def user_out(user: User) -> dict:
    """The owner's view of himself: full phone, primary organisation and roles."""
    membership = membership_current(user)
    organization = None
    if membership is not None:
        org = membership.organization
        organization = {"id": org.pk, "name": org.name, "path_names": organization_path_names(org)}
    return {
        "id": user.pk,
        "phone": user.phone,
        "real_name": user.real_name,
        "organization": organization,
        "roles": [
            {"role": grant.role, "organization_id": grant.organization_id}
            for grant in role_grants_of(user)
        ],
    }


def _token_out(pair: services.TokenPair) -> dict:
    return {
        "access_token": pair.access_token,
        "token_type": "bearer",
        "expires_in": pair.expires_in,
        "refresh_token": pair.refresh_token,
        "refresh_expires_in": pair.refresh_expires_in,
    }


@router.post("/auth/sms-codes", auth=None, response={202: SmsCodeOut, **ERRORS})
def sms_code_create(request: HttpRequest, payload: SmsCodeIn) -> Status[dict]:
    """Send a verification code. The answer is the same whether or not the number is registered."""
    ticket = services.sms_code_request(
        phone=payload.phone, purpose=payload.purpose, client_ip=client_ip_from_request(request)
    )
    return Status(202, {"expires_in": ticket.expires_in, "resend_after": ticket.resend_after})


@router.post("/auth/register", auth=None, response={201: RegisterOut, **ERRORS})
def register(request: HttpRequest, payload: RegisterIn) -> Status[dict]:
    user = services.user_register(
        phone=payload.phone,
        code=payload.code,
        real_name=payload.real_name,
        password=payload.password,
        privacy_version=payload.privacy_version or PRIVACY_NOTICE_VERSION,
    )
    return Status(201, {"user": user_out(user)})


@router.get("/auth/privacy-notice", auth=None, response=PrivacyNoticeOut)
def privacy_notice(request: HttpRequest) -> dict:
    """The privacy notice and user agreement a registering member must be shown."""
    return {
        "version": PRIVACY_NOTICE_VERSION,
        "privacy_url": request.build_absolute_uri(reverse("web:privacy")),
        "terms_url": request.build_absolute_uri(reverse("web:terms")),
    }


@router.post("/auth/token", auth=None, response={200: TokenOut, **ERRORS})
def token_create(request: HttpRequest, payload: TokenIn) -> dict:
    """Sign in by password or by SMS login code; 423 while the account is locked."""
    if (payload.password is None) == (payload.code is None):
        raise ValidationFailed({"password": _("请提供密码或短信验证码（二选一）。")})
    user = services.user_sign_in(
        request=request,
        phone=payload.phone,
        password=payload.password,
        code=payload.code,
        channel="api",
    )
    return _token_out(
        services.token_issue(user=user, user_agent=request.headers.get("user-agent", ""))
    )


@router.post("/auth/token/refresh", auth=None, response={200: TokenOut, **ERRORS})
def token_refresh(request: HttpRequest, payload: RefreshIn) -> dict:
    return _token_out(
        services.token_refresh(
            refresh_token=payload.refresh_token,
            user_agent=request.headers.get("user-agent", ""),
        )
    )


@router.post("/auth/token/revoke", response={204: None, **ERRORS})
def token_revoke(request: HttpRequest) -> Status[None]:
    raw = getattr(request, "api_token", None)
    user = request.auth  # type: ignore[attr-defined]  # set by the Bearer auth
    if raw is not None:
        services.token_revoke(raw=raw)
        services.login_event_record(
            request=request,
            user=user,
            phone=request.user.phone,  # type: ignore[union-attr]
            channel="api",
            method="",
            result="logout",
        )
    return Status(204, None)


@router.post("/auth/password-reset", auth=None, response={204: None, **ERRORS})
def password_reset(request: HttpRequest, payload: PasswordResetIn) -> Status[None]:
    services.password_reset(
        phone=payload.phone, code=payload.code, new_password=payload.new_password
    )
    return Status(204, None)


@router.get("/me", response={200: UserOut, **ERRORS})
def me(request: HttpRequest) -> dict:
    return user_out(request.user)  # type: ignore[arg-type]


class LoginEventOut(Schema):
    id: int
    phone: str
    real_name: str | None
    at: dt.datetime
    ip: str | None
    user_agent: str
    channel: str
    method: str
    result: str


class LoginEventPage(Schema):
    items: list[LoginEventOut]
    next_cursor: str | None


@router.get("/login-events", response={200: LoginEventPage, **ERRORS})
def login_events(
    request: HttpRequest,
    result: Literal["success", "failed", "locked", "logout"] | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict:
    """The login log (登录日志) of the members in the administrator's scope, newest first."""
    events = access_login_events_as_admin(request.user).select_related("user")  # type: ignore[arg-type]
    if result:
        events = events.filter(result=result)
    page = paginate(events, cursor=cursor, limit=limit)
    return {
        "items": [
            {
                "id": event.pk,
                "phone": mask_phone(event.phone),
                "real_name": event.user.real_name if event.user else None,
                "at": event.at,
                "ip": event.ip,
                "user_agent": event.user_agent,
                "channel": event.channel,
                "method": event.method,
                "result": event.result,
            }
            for event in page.items
        ],
        "next_cursor": page.next_cursor,
    }
