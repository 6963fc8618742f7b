"""Password policy (SECURITY S3): at least 8 characters with letters and digits.

Django's own length validator has no complete zh-hans message for the plural form, so the
member policy is one validator with its own Chinese messages.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MIN_LENGTH = 8


class MemberPasswordValidator:
    """At least ``min_length`` characters, with at least one ASCII letter and one digit."""

    def __init__(self, min_length: int = MIN_LENGTH) -> None:
        self.min_length = min_length

    def validate(self, password: str, user: object = None) -> None:
        errors = []
        if len(password) < self.min_length:
            errors.append(
                ValidationError(
                    ngettext(
                        "密码至少需要 %(min_length)d 个字符。",
                        "密码至少需要 %(min_length)d 个字符。",
                        self.min_length,
                    )
                    % {"min_length": self.min_length},
                    code="password_too_short",
                )
            )
        if not re.search(r"[A-Za-z]", password) or not re.search(r"[0-9]", password):
            errors.append(
                ValidationError(_("密码须同时包含字母和数字。"), code="password_letters_digits")
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return ngettext(
            "至少 %(min_length)d 个字符，须同时包含字母和数字。",
            "至少 %(min_length)d 个字符，须同时包含字母和数字。",
            self.min_length,
        ) % {"min_length": self.min_length}
