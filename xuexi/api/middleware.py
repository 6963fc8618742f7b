"""Every answer under /api/ keeps the error shape, even those Django or ninja make themselves.

An unknown path (Django's 404 page) or an unsupported method (ninja's plain-text 405) would
otherwise reach clients as HTML or text; clients parse ``{"code", "message", "details"}``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

from xuexi.api.errors import error_body

FALLBACK = {
    400: ("bad_request", _("请求无法处理。")),
    403: ("forbidden", _("您没有权限进行此操作。")),
    404: ("not_found", _("找不到请求的内容。")),
    405: ("method_not_allowed", _("不支持该请求方法。")),
    413: ("payload_too_large", _("请求内容过大。")),
    500: ("server_error", _("服务器开小差了，请稍后再试。")),
}


class ApiErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = FALLBACK.get(response.status_code, ("error", _("请求无法处理。")))
            shaped = JsonResponse(error_body(code, message), status=response.status_code)
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response
