"""One error shape for every non-2xx answer: ``{"code", "message", "details"}`` (API.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from xuexi.core.errors import DomainError, RateLimited

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Messages for pydantic's error types (lazy: translated per request); anything else is
# "格式不正确".
FIELD_MESSAGES: dict[str, Promise] = {
    "missing": gettext_lazy("此项为必填项。"),
    "string_type": gettext_lazy("须为文本。"),
    "int_type": gettext_lazy("须为整数。"),
    "int_parsing": gettext_lazy("须为整数。"),
    "bool_type": gettext_lazy("须为是或否。"),
    "bool_parsing": gettext_lazy("须为是或否。"),
    "list_type": gettext_lazy("须为列表。"),
    "dict_type": gettext_lazy("须为对象。"),
    "model_attributes_type": gettext_lazy("须为对象。"),
    "string_too_long": gettext_lazy("内容过长。"),
    "string_too_short": gettext_lazy("内容过短。"),
    "literal_error": gettext_lazy("取值无效。"),
    "enum": gettext_lazy("取值无效。"),
    "date_from_datetime_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
    "date_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
    "json_invalid": gettext_lazy("请求内容不是有效的 JSON。"),
}


def _plain(value: Any) -> Any:
    """``value`` with every lazy string made a plain ``str`` (JSON cannot carry lazy objects)."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def error_body(
    code: str, message: StrOrPromise, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The error shape, in the active language, with plain strings only."""
    return {"code": code, "message": str(message), "details": _plain(details or {})}


def _field_name(loc: list[Any]) -> str:
    # ninja prefixes the location with its source ("body", "query", "path") and the param name.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "file", "payload")]
    return ".".join(parts) or "body"


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        response = api.create_response(
            request, error_body(exc.code, exc.message, exc.details), status=exc.status
        )
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        fields: dict[str, str] = {}
        for error in exc.errors:
            name = _field_name(list(error.get("loc", [])))
            known = FIELD_MESSAGES.get(error.get("type", ""))
            fields.setdefault(name, str(known) if known is not None else _("格式不正确。"))
        field, text = next(iter(fields.items()), ("body", _("格式不正确。")))
        # Translators: the API's validation message: a field's name, then what is wrong with it.
        message = _("%(field)s：%(message)s") % {"field": field, "message": text}
        return api.create_response(
            request,
            error_body("validation_error", message, {"fields": fields}),
            status=422,
        )

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request, error_body("not_authenticated", _("请先登录，或登录已过期。")), status=401
        )

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return api.create_response(
            request, error_body("forbidden", _("您没有权限进行此操作。")), status=403
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(
            request, error_body("not_found", _("找不到请求的内容。")), status=404
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        codes = {400: "bad_request", 405: "method_not_allowed", 429: "rate_limited"}
        return api.create_response(
            request,
            error_body(codes.get(exc.status_code, "error"), _("请求无法处理。")),
            status=exc.status_code,
        )

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        import logging

        logging.getLogger("xuexi.api").exception("Unhandled API error", exc_info=exc)
        return api.create_response(
            request, error_body("server_error", _("服务器开小差了，请稍后再试。")), status=500
        )
