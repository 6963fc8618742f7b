"""Domain errors with stable codes and Chinese messages (the API error shape of API.md).

Services raise these; the API turns them into ``{"code", "message", "details"}`` with the
status below, and pages show ``message`` to the person. The class defaults are lazy: they are
translated into the request's language when shown or serialised (``str(exc.message)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    """A refusal the person can act on. ``code`` is stable; ``message`` is for people."""

    status = 400
    code = "bad_request"
    message: StrOrPromise = _("请求无法处理。")

    def __init__(
        self, message: StrOrPromise | None = None, *, code: str | None = None, **details: Any
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Invalid input; ``details["fields"]`` maps field names to messages."""

    status = 422
    code = "validation_error"
    message = _("提交的内容有误，请检查后重试。")

    def __init__(self, fields: dict[str, str], message: StrOrPromise | None = None) -> None:
        super().__init__(message or next(iter(fields.values()), None), fields=fields)


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"
    message = _("请先登录。")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = _("您没有权限进行此操作。")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = _("找不到请求的内容。")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = _("当前状态下不能进行此操作。")


class AccountLocked(DomainError):
    status = 423
    code = "account_locked"
    message = _("登录失败次数过多，账号已暂时锁定，请稍后再试。")


class RateLimited(DomainError):
    """Too many requests; ``retry_after`` seconds go into the ``Retry-After`` header."""

    status = 429
    code = "rate_limited"
    message = _("操作过于频繁，请稍后再试。")

    def __init__(
        self, message: StrOrPromise | None = None, *, retry_after: int, code: str | None = None
    ):
        super().__init__(message, code=code, retry_after=retry_after)
        self.retry_after = retry_after
