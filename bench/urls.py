"""The bench server's URLconf: the project's own URLs and one trivial JSON view.

``python -m bench.content`` starts its server with ``ROOT_URLCONF=bench.urls``: ``/bench/ping``
answers ``{"ok": true}`` through the whole middleware stack of the pages it is compared with
(the anchor of the content benchmark). Never used outside the benchmark; the product's URLconf
stays ``config.urls``.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, path

from config.urls import urlpatterns as project_urlpatterns


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/ping", ping, name="bench-ping"),
    *project_urlpatterns,
]
