"""Users keyed by mainland mobile number, SMS codes, API tokens and the login log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xuexi.core.masking import mask_phone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self, phone: str, real_name: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("registered_at", timezone.now())
        user = self.model(phone=phone, real_name=real_name, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(
        self, phone: str, real_name: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(phone, real_name, password, **extra)


class PoliticalStatus(models.TextChoices):
    """政治面貌, as rosters record it."""

    PARTY_MEMBER = "party_member", _("中共党员")
    PROBATIONARY = "probationary", _("中共预备党员")
    LEAGUE_MEMBER = "league_member", _("共青团员")
    MASSES = "masses", _("群众")
    OTHER = "other", _("其他")


class User(AbstractBaseUser, PermissionsMixin):
    """A member: one account per verified mobile number (SECURITY S1)."""

    phone = models.CharField(_("手机号"), max_length=11, unique=True)
    real_name = models.CharField(_("姓名"), max_length=50)
    is_active = models.BooleanField(_("有效"), default=True)
    is_staff = models.BooleanField(_("可进入后台"), default=False)
    # Kept in step by the organisations services whenever an administrator role is granted or
    # revoked, so that lockout and session rules can tell administrators apart without a join.
    is_administrator = models.BooleanField(_("管理员"), default=False)
    date_joined = models.DateTimeField(_("创建时间"), default=timezone.now)
    political_status = models.CharField(
        _("政治面貌"), max_length=20, choices=PoliticalStatus.choices, blank=True, default=""
    )
    # None while the member is only pre-listed (预录入) by an administrator: he has an account
    # row and a place in his organisation, but cannot sign in until he registers himself.
    registered_at = models.DateTimeField(_("注册时间"), null=True, blank=True, db_index=True)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    privacy_version = models.CharField(_("同意的隐私政策版本"), max_length=20, blank=True)
    privacy_accepted_at = models.DateTimeField(_("同意隐私政策时间"), null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["real_name"]

    class Meta:
        verbose_name = pgettext_lazy("model", "用户")
        verbose_name_plural = pgettext_lazy("model plural", "用户")
        # Member lists page by name: walking this index beats sorting a city's subtree.
        indexes: ClassVar = [models.Index(fields=["real_name", "id"], name="user_name_order")]

    def __str__(self) -> str:
        return f"{self.real_name}（{self.masked_phone}）"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def get_full_name(self) -> str:
        return self.real_name

    def get_short_name(self) -> str:
        return self.real_name


class SmsPurpose(models.TextChoices):
    REGISTER = "register", _("注册")
    LOGIN = "login", _("登录")
    RESET_PASSWORD = "reset_password", _("重置密码")


class SmsCode(models.Model):
    """One verification code sent by SMS. Only a keyed hash of the code is stored."""

    phone = models.CharField(max_length=11)
    purpose = models.CharField(max_length=20, choices=SmsPurpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    wrong_tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "短信验证码")
        verbose_name_plural = pgettext_lazy("model plural", "短信验证码")
        indexes: ClassVar = [
            models.Index(fields=["phone", "purpose", "-created_at"], name="smscode_lookup")
        ]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.purpose}"


class TokenKind(models.TextChoices):
    ACCESS = "access", _("访问令牌")
    REFRESH = "refresh", _("刷新令牌")


class ApiToken(models.Model):
    """A Bearer token for the API. Only its SHA-256 is stored; the pair shares ``family``."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    kind = models.CharField(max_length=10, choices=TokenKind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    family = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "API 令牌")
        verbose_name_plural = pgettext_lazy("model plural", "API 令牌")

    def __str__(self) -> str:
        return f"{self.kind} {self.family}"


class LoginMethod(models.TextChoices):
    PASSWORD = "password", _("密码")
    SMS = "sms", _("短信验证码")
    REFRESH = "refresh", _("刷新令牌")


class LoginResult(models.TextChoices):
    SUCCESS = "success", _("成功")
    FAILED = "failed", _("失败")
    LOCKED = "locked", _("已锁定")
    LOGOUT = "logout", pgettext_lazy("login result", "退出")


class LoginEvent(models.Model):
    """The login log (登录日志): every sign-in attempt and sign-out. Append-only."""

    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="login_events"
    )
    phone = models.CharField(_("账号"), max_length=20, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=300, blank=True)
    channel = models.CharField(_("渠道"), max_length=10)  # web | api
    method = models.CharField(_("方式"), max_length=10, choices=LoginMethod.choices, blank=True)
    result = models.CharField(_("结果"), max_length=10, choices=LoginResult.choices)

    class Meta:
        verbose_name = pgettext_lazy("model", "登录日志")
        verbose_name_plural = pgettext_lazy("model plural", "登录日志")
        indexes: ClassVar = [models.Index(fields=["user", "-at"], name="loginevent_user")]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.result} {self.at:%Y-%m-%d %H:%M}"
