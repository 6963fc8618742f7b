"""Password policy (SECURITY S3): at least 8 characters with letters and digits."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError


class LettersAndDigitsValidator:
    """Requires at least one ASCII letter and one digit."""

    def validate(self, password: str, user: object = None) -> None:
        if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
            raise ValidationError("密码须同时包含字母和数字。", code="password_letters_digits")

    def get_help_text(self) -> str:
        return "密码须同时包含字母和数字。"
