"""Mainland mobile numbers: ``1[3-9]`` followed by nine digits (PRODUCT C1)."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from xuexi.core.errors import ValidationFailed

MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")  # ASCII digits only: \d takes ０-９ too


def normalize_phone(raw: str | None, *, field: str = "phone") -> str:
    """Strip spaces, dashes and a +86/0086 prefix; raise ``ValidationFailed`` if not a mobile.

    Full-width digits from Chinese input methods (１３８…) are folded to ASCII first (NFKC).
    """
    phone = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw or ""))
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix) :]
    if not MOBILE_RE.match(phone):
        raise ValidationFailed({field: _("请输入正确的 11 位中国大陆手机号码。")})
    return phone


def is_mobile(raw: str) -> bool:
    return bool(MOBILE_RE.match(raw or ""))
