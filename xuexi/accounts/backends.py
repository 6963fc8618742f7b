"""Authentication backends: phone + password and phone + SMS code."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from xuexi.accounts.models import SmsPurpose, User
from xuexi.core.errors import DomainError


class PhonePasswordBackend(ModelBackend):
    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        phone: str | None = None,
        password: str | None = None,
        username: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        phone = phone or username  # Django's admin login form calls the field "username"
        if phone is None or password is None:
            return None
        user = User.objects.filter(phone=phone).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class SmsCodeBackend(ModelBackend):
    """Signs in with a login code. A refused code is left on the request for a precise message."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        phone: str | None = None,
        sms_code: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if phone is None or sms_code is None:
            return None
        from xuexi.accounts.services import sms_code_consume  # services import this module

        try:
            sms_code_consume(phone=phone, purpose=SmsPurpose.LOGIN, code=sms_code)
        except DomainError as refusal:
            if request is not None:
                request.xuexi_sms_refusal = refusal  # type: ignore[attr-defined]
            return None
        user = User.objects.filter(phone=phone).first()
        if user is not None and self.user_can_authenticate(user):
            return user
        return None
