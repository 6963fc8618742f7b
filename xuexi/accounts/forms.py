"""Page forms. Rules live in the services; forms only shape input and show errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from captcha.fields import CaptchaField
from django import forms
from django.utils.translation import gettext_lazy as _

from xuexi.core.errors import DomainError, ValidationFailed

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

phone_field = forms.CharField(
    label=_("手机号"),
    max_length=20,
    widget=forms.TextInput(
        attrs={"inputmode": "numeric", "autocomplete": "tel", "placeholder": _("请输入手机号")}
    ),
)
code_field = forms.CharField(
    label=_("验证码"),
    max_length=6,
    widget=forms.TextInput(
        attrs={
            "inputmode": "numeric",
            "autocomplete": "one-time-code",
            "placeholder": _("6 位验证码"),
        }
    ),
)


def _password(label: StrOrPromise, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": autocomplete, "placeholder": _("至少 8 位，含字母和数字")}
        ),
    )


class ServiceForm(forms.Form):
    """A form that can show a service's refusal against the right field."""

    def add_domain_error(self, error: DomainError) -> None:
        if isinstance(error, ValidationFailed):
            for field, message in error.details.get("fields", {}).items():
                self.add_error(field if field in self.fields else None, message)
        else:
            self.add_error(None, error.message)


class SignInForm(ServiceForm):
    """Sign-in forms grow a picture captcha after repeated failures (SECURITY S4)."""

    def require_captcha(self) -> None:
        self.fields["captcha"] = CaptchaField(
            label=_("图形验证码"),
            help_text=_("请输入图片中算式的结果。"),
            error_messages={
                "invalid": _("图形验证码不正确，请重新输入。"),
                "required": _("请输入图形验证码。"),
            },
        )


class PasswordLoginForm(SignInForm):
    phone = phone_field
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "placeholder": _("请输入密码")}
        ),
    )


class SmsLoginForm(SignInForm):
    phone = phone_field
    code = code_field


class RegisterForm(ServiceForm):
    real_name = forms.CharField(
        label=_("真实姓名"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": _("与身份证一致")}),
    )
    phone = phone_field
    code = code_field
    password = _password(_("设置密码"), "new-password")
    agree = forms.BooleanField(
        label=_("我已阅读并同意《用户协议》和《隐私政策》"),
        error_messages={"required": _("请先阅读并同意用户协议和隐私政策。")},
    )


class PasswordResetForm(ServiceForm):
    phone = phone_field
    code = code_field
    new_password = _password(_("新密码"), "new-password")
