"""Console and join forms. Rules live in the services; forms only shape input and show errors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xuexi.accounts.forms import ServiceForm, phone_field
from xuexi.organizations.models import ManagementLine, OrganizationKind, Role

LINE_CHOICES = [("", _("不区分")), *ManagementLine.choices]
VALID_DAYS_CHOICES = [
    ("7", _("7 天")),
    ("30", _("30 天")),
    ("90", _("90 天")),
    ("365", _("365 天")),
    ("0", _("长期有效")),
]


def _text(label: Any, *, max_length: int, required: bool = True, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.TextInput(attrs=attrs),
    )


class OrganizationFieldsMixin(forms.Form):
    name = _text(_("组织名称"), max_length=100, autocomplete="off")
    line = forms.ChoiceField(label=_("所属系统"), choices=LINE_CHOICES, required=False)
    expected_members = forms.IntegerField(
        label=_("应注册人数"),
        min_value=0,
        max_value=10_000_000,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    contact_name = _text(_("联系人"), max_length=50, required=False, autocomplete="off")
    contact_phone = _text(
        _("联系电话"), max_length=20, required=False, inputmode="tel", autocomplete="off"
    )


class OrganizationCreateForm(OrganizationFieldsMixin, ServiceForm):
    """A child of ``parent``: the kind is limited to what may sit under the parent."""

    kind = forms.ChoiceField(label=_("组织类型"))
    code = _text(
        _("组织编码"),
        max_length=40,
        required=False,
        autocomplete="off",
        placeholder=_("留空则自动生成"),
    )
    field_order = ("name", "kind", "line", "expected_members", "code", "contact_name")

    def __init__(self, *args: Any, kinds: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = set(kinds)
        self.fields["kind"].choices = [  # type: ignore[attr-defined]
            ("", _("请选择")),
            *((value, label) for value, label in OrganizationKind.choices if value in allowed),
        ]


class OrganizationUpdateForm(OrganizationFieldsMixin, ServiceForm):
    pass


class ConfirmForm(ServiceForm):
    """A confirmation page's form: no fields, only room for a service's refusal."""


class TargetForm(ServiceForm):
    """The organisation to move to (or transfer into), named by its code."""

    target = _text(
        _("目标组织编码"), max_length=40, autocomplete="off", placeholder=_("输入组织编码")
    )


class MemberAddForm(ServiceForm):
    real_name = _text(_("姓名"), max_length=30, autocomplete="off", placeholder=_("与身份证一致"))
    phone = phone_field


class MemberUpdateForm(ServiceForm):
    real_name = _text(_("姓名"), max_length=30, autocomplete="off")


class RoleGrantForm(ServiceForm):
    phone = forms.CharField(
        label=_("成员手机号"),
        max_length=20,
        help_text=_("须为本组织（含下级）的在册成员。"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("角色"))

    def __init__(self, *args: Any, roles: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = set(roles)
        self.fields["role"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in Role.choices if value in allowed
        ]


class InvitationCreateForm(ServiceForm):
    valid_days = forms.TypedChoiceField(
        label=_("有效期"), choices=VALID_DAYS_CHOICES, coerce=int, initial="30"
    )


class DecisionForm(ServiceForm):
    note = forms.CharField(
        label=_("说明（可选）"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("例如：核对无误")}),
    )


class JoinCodeForm(ServiceForm):
    code = _text(
        _("邀请码"),
        max_length=12,
        autocomplete="off",
        autocapitalize="characters",
        placeholder=_("8 位邀请码"),
        spellcheck="false",
    )

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip().upper()
