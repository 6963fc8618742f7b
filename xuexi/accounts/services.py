"""Writes for accounts: SMS codes, registration, sign-in, tokens, password reset, login log.

Every function here is keyword-only and transactional. Failures that must leave a trace (a
wrong SMS code counts as a try; a failed login counts towards lockout) write that trace in
their own committed step *before* the refusal is raised, so the refusal never undoes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

from axes.helpers import get_client_user_agent
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.dispatch import Signal
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from xuexi.accounts.consent import PRIVACY_NOTICE_VERSION
from xuexi.accounts.models import (
    ApiToken,
    LoginEvent,
    LoginMethod,
    LoginResult,
    SmsCode,
    SmsPurpose,
    TokenKind,
    User,
)
from xuexi.accounts.phones import normalize_phone
from xuexi.core import ratelimit
from xuexi.core.clientip import client_ip_from_request
from xuexi.core.errors import (
    AccountLocked,
    Conflict,
    DomainError,
    NotAuthenticated,
    ValidationFailed,
)
from xuexi.core.sms import SmsMessage, sms_send
from xuexi.core.time import now, seconds_until_next_business_day

# Sent after a member registers, with ``user``; the organisations app places pre-listed members.
user_registered = Signal()

REAL_NAME_RE = re.compile(r"^[\u4e00-\u9fa5A-Za-z·•.\s]{2,30}$")


# --- SMS codes -----------------------------------------------------------------------------


def _code_hash(phone: str, purpose: str, code: str) -> str:
    """Keyed hash of a code: a leaked table row cannot be brute-forced without SECRET_KEY."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{phone}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SmsCodeTicket:
    expires_in: int
    resend_after: int


def _sms_limits(phone: str, client_ip: str) -> list[ratelimit.Limit]:
    day_left = seconds_until_next_business_day()
    return [
        ratelimit.Limit(
            key=f"sms:ip:{client_ip}",
            count=settings.XUEXI_SMS_PER_IP_PER_HOUR,
            seconds=3600,
            message=_("此网络获取验证码过于频繁，请一小时后再试。"),
            code="sms_ip_limited",
        ),
        ratelimit.Limit(
            key=f"sms:phone-day:{phone}",
            count=settings.XUEXI_SMS_PER_PHONE_PER_DAY,
            seconds=day_left,
            message=_("该手机号今日获取验证码次数已达上限，请明天再试。"),
            code="sms_daily_limited",
        ),
        ratelimit.Limit(
            key="sms:global-day",
            count=settings.XUEXI_SMS_GLOBAL_PER_DAY,
            seconds=day_left,
            message=_("短信服务今日发送量已达上限，请稍后再试。"),
            code="sms_budget_exhausted",
        ),
    ]


def sms_code_request(*, phone: str, purpose: str, client_ip: str) -> SmsCodeTicket:
    """Issue a 6-digit code for ``phone`` and send it after commit.

    Limits (SECURITY S2): one code per number per 60 s, 10 per number per day, 20 per client IP
    per hour and a global daily budget, all on atomic counters. Registered and unregistered
    numbers get the same answer; a code is only sent where it can be used.
    """
    phone = normalize_phone(phone)
    if purpose not in SmsPurpose.values:
        raise ValidationFailed({"purpose": _("验证码用途无效。")})
    resend_after = settings.XUEXI_SMS_RESEND_AFTER
    per_ip, per_phone_day, global_day = _sms_limits(phone, client_ip)
    ratelimit.hit(per_ip)  # first: a refused client must not use up the number's minute
    if not ratelimit.take_once(f"sms:resend:{phone}", resend_after):
        raise ratelimit.RateLimited(
            _("验证码发送过于频繁，请 60 秒后再试。"),
            retry_after=resend_after,
            code="sms_resend_too_soon",
        )
    ratelimit.hit(per_phone_day)
    ratelimit.hit(global_day)

    registered = User.objects.filter(phone=phone, registered_at__isnull=False).exists()
    sms: SmsMessage | None = None
    ttl = settings.XUEXI_SMS_CODE_TTL
    if purpose == SmsPurpose.REGISTER and registered:
        # The owner learns his number is taken; anyone else sees the same 202 as ever.
        sms = SmsMessage(
            phone=phone,
            purpose=purpose,
            message=f"【{settings.XUEXI_SMS_SIGN}】该手机号已注册，可直接登录或找回密码。",
        )
    elif purpose == SmsPurpose.REGISTER or registered:
        code = f"{secrets.randbelow(1_000_000):06d}"
        issued = now()
        with transaction.atomic():
            SmsCode.objects.create(
                phone=phone,
                purpose=purpose,
                code_hash=_code_hash(phone, purpose, code),
                created_at=issued,
                expires_at=issued + dt.timedelta(seconds=ttl),
                client_ip=client_ip or None,
            )
            # The SMS itself is always Chinese (its template is registered with the carriers),
            # whatever the language of the request: take the untranslated source label.
            with translation.override(None):
                label = str(SmsPurpose(purpose).label)
            sms = SmsMessage(
                phone=phone,
                purpose=purpose,
                code=code,
                message=(
                    f"【{settings.XUEXI_SMS_SIGN}】您的{label}验证码为 {code}，"
                    f"{ttl // 60} 分钟内有效。请勿告诉他人。"
                ),
            )
    if sms is not None:
        message = sms
        transaction.on_commit(lambda: sms_send(message), robust=True)
    return SmsCodeTicket(expires_in=ttl, resend_after=resend_after)


def _sms_code_check(*, phone: str, purpose: str, code: str) -> DomainError | None:
    """Check ``code`` against the latest code for ``phone`` and record the outcome.

    Runs in its own transaction with the code row locked, so concurrent guesses are counted
    one by one. Returns the refusal instead of raising it so the counted try is committed.
    """
    invalid = ValidationFailed({"code": _("验证码错误或已失效，请重新获取。")})
    invalid.code = "sms_code_invalid"
    if not re.fullmatch(r"[0-9]{6}", code or ""):
        return ValidationFailed({"code": _("请输入 6 位数字验证码。")})
    with transaction.atomic():
        latest = (
            SmsCode.objects.select_for_update()
            .filter(phone=phone, purpose=purpose)
            .order_by("-created_at", "-id")
            .first()
        )
        if latest is None:
            return invalid
        if latest.used_at is not None:
            error = ValidationFailed({"code": _("验证码已使用，请重新获取。")})
            error.code = "sms_code_used"
            return error
        if latest.expires_at <= now():
            error = ValidationFailed({"code": _("验证码已过期，请重新获取。")})
            error.code = "sms_code_expired"
            return error
        if latest.wrong_tries >= settings.XUEXI_SMS_MAX_TRIES:
            error = ValidationFailed({"code": _("验证码错误次数过多，已失效，请重新获取。")})
            error.code = "sms_code_exhausted"
            return error
        if not hmac.compare_digest(latest.code_hash, _code_hash(phone, purpose, code)):
            latest.wrong_tries += 1
            latest.save(update_fields=["wrong_tries"])
            left = settings.XUEXI_SMS_MAX_TRIES - latest.wrong_tries
            if left <= 0:
                error = ValidationFailed({"code": _("验证码错误次数过多，已失效，请重新获取。")})
                error.code = "sms_code_exhausted"
                return error
            tries_left = ngettext(
                "验证码错误，还可尝试 %(left)s 次。", "验证码错误，还可尝试 %(left)s 次。", left
            )
            error = ValidationFailed({"code": tries_left % {"left": left}})
            error.code = "sms_code_wrong"
            return error
        latest.used_at = now()
        latest.save(update_fields=["used_at"])
    return None


def sms_code_consume(*, phone: str, purpose: str, code: str) -> None:
    """Use up the code for ``phone``/``purpose``; raise ``ValidationFailed`` if it is not valid."""
    refusal = _sms_code_check(phone=phone, purpose=purpose, code=code)
    if refusal is not None:
        raise refusal


# --- Registration and passwords ---------------------------------------------------------------


def _validate_password(password: str, *, field: str, user: User | None = None) -> None:
    if not password:
        raise ValidationFailed({field: _("请设置密码。")})
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationFailed({field: " ".join(exc.messages)}) from exc


def validate_real_name(real_name: str, *, field: str = "real_name") -> str:
    name = (real_name or "").strip()
    if not REAL_NAME_RE.match(name):
        raise ValidationFailed({field: _("请输入真实姓名（2–30 个汉字或字母）。")})
    return name


def user_register(
    *,
    phone: str,
    code: str,
    real_name: str,
    password: str,
    privacy_version: str = PRIVACY_NOTICE_VERSION,
) -> User:
    """Create an account for a verified number. Fields are checked before the code is spent.

    ``privacy_version`` is the version of the privacy notice the member was shown and accepted.
    """
    phone = normalize_phone(phone)
    if privacy_version != PRIVACY_NOTICE_VERSION:
        raise ValidationFailed({"privacy_version": _("隐私政策已更新，请阅读最新版本后再注册。")})
    real_name = validate_real_name(real_name)
    _validate_password(password, field="password", user=User(phone=phone, real_name=real_name))
    sms_code_consume(phone=phone, purpose=SmsPurpose.REGISTER, code=code)
    try:
        with transaction.atomic():
            registered = now()
            user = User.objects.select_for_update().filter(phone=phone).first()
            if user is None:
                user = User(phone=phone, date_joined=registered)
            elif user.registered_at is not None:
                raise Conflict(_("该手机号已注册，请直接登录。"), code="phone_taken")
            # A pre-listed member claims the account his administrator made: he keeps his
            # place in the organisation, and his own real name replaces the roster's.
            user.real_name = real_name
            user.set_password(password)
            user.registered_at = registered
            user.password_changed_at = registered
            user.privacy_version = privacy_version
            user.privacy_accepted_at = registered
            user.save()
            user_registered.send(sender=User, user=user)
    except IntegrityError as exc:
        raise Conflict(_("该手机号已注册，请直接登录。"), code="phone_taken") from exc
    return user


def user_prelist(*, phone: str, real_name: str) -> User:
    """The account row of a member an administrator lists before he registers (预录入).

    He cannot sign in (no password, no codes are sent) until he registers with ``phone``.
    Returns the existing account when the number already has one.
    """
    phone = normalize_phone(phone)
    real_name = validate_real_name(real_name)
    with transaction.atomic():
        user, _created = User.objects.get_or_create(
            phone=phone,
            defaults={"real_name": real_name, "password": make_password(None)},
        )
    return user


def password_reset(*, phone: str, code: str, new_password: str) -> User:
    """Set a new password after SMS verification; unlocks the account and ends API tokens."""
    phone = normalize_phone(phone)
    user = User.objects.filter(phone=phone).first()
    _validate_password(new_password, field="new_password", user=user)
    sms_code_consume(phone=phone, purpose=SmsPurpose.RESET_PASSWORD, code=code)
    if user is None:  # cannot happen: codes are only issued to registered numbers
        raise ValidationFailed({"code": _("验证码错误或已失效，请重新获取。")})
    with transaction.atomic():
        user.set_password(new_password)
        user.password_changed_at = now()
        user.save(update_fields=["password", "password_changed_at"])
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now())
        axes_reset(username=user.phone)
    return user


def password_change(*, user: User, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise ValidationFailed({"old_password": _("原密码不正确。")})
    _validate_password(new_password, field="new_password", user=user)
    with transaction.atomic():
        user.set_password(new_password)
        user.password_changed_at = now()
        user.save(update_fields=["password", "password_changed_at"])


# --- Sign-in -------------------------------------------------------------------------------------


def login_event_record(
    *, request: HttpRequest, user: User | None, phone: str, channel: str, method: str, result: str
) -> None:
    LoginEvent.objects.create(
        user=user,
        phone=phone[:20],
        ip=client_ip_from_request(request) or None,
        user_agent=get_client_user_agent(request)[:300],
        channel=channel,
        method=method,
        result=result,
    )


def sign_in_failures(*, phone: str) -> int:
    """Failed sign-ins counted against ``phone`` in the current lockout window."""
    total = AccessAttempt.objects.filter(username=phone).aggregate(
        failures=Sum("failures_since_start")
    )["failures"]
    return int(total or 0)


def user_sign_in(
    *,
    request: HttpRequest,
    phone: str,
    password: str | None = None,
    code: str | None = None,
    channel: str,
) -> User:
    """Authenticate by password or SMS code, with lockout (SECURITY S4) and the login log.

    Five failures lock the account whatever the client IP (django-axes, keyed by number);
    while locked every attempt is refused with ``AccountLocked`` (HTTP 423).
    """
    phone = normalize_phone(phone)
    method = LoginMethod.SMS if code is not None else LoginMethod.PASSWORD
    if method == LoginMethod.PASSWORD and not password:
        raise ValidationFailed({"password": _("请输入密码。")})
    request.xuexi_login_phone = phone  # type: ignore[attr-defined]  # read by lockout.cooloff_for
    if method == LoginMethod.SMS:
        user = authenticate(request, phone=phone, sms_code=code)
    else:
        user = authenticate(request, phone=phone, password=password)
    known = User.objects.filter(phone=phone).first()
    if getattr(request, "axes_locked_out", False):
        login_event_record(
            request=request,
            user=known,
            phone=phone,
            channel=channel,
            method=method,
            result=LoginResult.LOCKED,
        )
        raise AccountLocked()
    if user is None:
        login_event_record(
            request=request,
            user=known,
            phone=phone,
            channel=channel,
            method=method,
            result=LoginResult.FAILED,
        )
        sms_refusal = getattr(request, "xuexi_sms_refusal", None)
        if sms_refusal is not None:
            raise sms_refusal
        raise NotAuthenticated(_("手机号或密码错误。"), code="invalid_credentials")
    # axes resets on the user_logged_in signal, which API sign-ins never send: reset here.
    axes_reset(username=phone)
    login_event_record(
        request=request,
        user=user,
        phone=phone,
        channel=channel,
        method=method,
        result=LoginResult.SUCCESS,
    )
    return user


# --- API tokens ----------------------------------------------------------------------------


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


def token_issue(*, user: User, user_agent: str = "") -> TokenPair:
    """A short-lived access token and a revocable refresh token sharing one family."""
    family = uuid.uuid4()
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    issued = now()
    access_ttl = settings.XUEXI_ACCESS_TOKEN_TTL
    refresh_ttl = settings.XUEXI_REFRESH_TOKEN_TTL

    def token(kind: str, raw: str, ttl: int) -> ApiToken:
        return ApiToken(
            user=user,
            kind=kind,
            token_hash=_token_hash(raw),
            family=family,
            created_at=issued,
            expires_at=issued + dt.timedelta(seconds=ttl),
            user_agent=user_agent[:300],
        )

    with transaction.atomic():
        ApiToken.objects.bulk_create(
            [
                token(TokenKind.ACCESS, access, access_ttl),
                token(TokenKind.REFRESH, refresh, refresh_ttl),
            ]
        )
    return TokenPair(access, refresh, access_ttl, refresh_ttl)


def _live_token(raw: str, kind: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_token_hash(raw), kind=kind, revoked_at__isnull=True)
        .first()
    )
    if token is None or token.expires_at <= now() or not token.user.is_active:
        return None
    return token


def token_user(raw: str) -> User | None:
    """The user of a live access token, or None (unknown, expired, revoked, inactive user)."""
    token = _live_token(raw, TokenKind.ACCESS)
    return token.user if token else None


def token_revoke(*, raw: str) -> None:
    """Revoke the access token ``raw`` and its refresh token (logout)."""
    token = ApiToken.objects.filter(token_hash=_token_hash(raw)).first()
    if token is not None:
        ApiToken.objects.filter(family=token.family, revoked_at__isnull=True).update(
            revoked_at=now()
        )


def token_refresh(*, refresh_token: str, user_agent: str = "") -> TokenPair:
    """Rotate: the old pair is revoked and a new pair issued. A used refresh token is dead."""
    with transaction.atomic():
        token = _live_token(refresh_token, TokenKind.REFRESH)
        if token is None:
            raise NotAuthenticated(_("登录已过期，请重新登录。"), code="invalid_refresh_token")
        revoked = ApiToken.objects.filter(family=token.family, revoked_at__isnull=True).update(
            revoked_at=now()
        )
        if revoked == 0:  # a concurrent refresh won the race
            raise NotAuthenticated(_("登录已过期，请重新登录。"), code="invalid_refresh_token")
        return token_issue(user=token.user, user_agent=user_agent)


def purge_expired_credentials() -> dict[str, int]:
    """Delete SMS codes and API tokens that expired more than a day ago (the hourly job)."""
    horizon = now() - dt.timedelta(days=1)
    codes, _by_model = SmsCode.objects.filter(expires_at__lt=horizon).delete()
    tokens, _by_model = ApiToken.objects.filter(expires_at__lt=horizon).delete()
    return {"sms_codes": codes, "api_tokens": tokens}
