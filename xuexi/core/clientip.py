"""The client's IP address, honouring only the configured number of trusted proxies."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip


def client_ip_from_request(request: HttpRequest) -> str:
    """The client address as seen past ``XUEXI_TRUSTED_PROXY_COUNT`` reverse proxies.

    With no trusted proxy, forwarding headers are ignored: a client cannot choose its own IP.
    """
    count = settings.XUEXI_TRUSTED_PROXY_COUNT
    if count == 0:
        return request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 — unknown peer
    ip, _routable = get_client_ip(request, proxy_order="right-most", proxy_count=count)
    return ip or request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104
