"""What the reader's pages keep in the cache (Redis in production), and when it goes stale.

Two kinds of entries (docs/content.md, "Caching"):

- **Lists** — which items 焦点, 热门, a feed page or 相关推荐 show, the column tabs, a place's
  channels: read from the database, kept for ``LIST_SECONDS`` (structure: ``STRUCTURE_SECONDS``)
  under the current **generation**. Every editor's write of an item, column or 强国号
  (``xuexi.content.services``) calls ``content_changed``, which moves the generation at once
  and again after the commit: no list read before the write is served after it. What no write
  announces — a scheduled item's time coming, read counts reordering 热门 — shows within
  ``LIST_SECONDS``.
- **Fragments** — rendered HTML (cards, an item's head and body) under a key made of every
  value the HTML shows, the language included (``fragment_key``): a changed value is a new
  key, so a fragment is never stale; the TTL only bounds memory.

Entries hold model instances pickled (cards never carry ``body`` nor ``search_text``). A cache
that is down or empty costs the database reads, never a wrong page.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

T = TypeVar("T")

GENERATION_KEY = "content:generation"
LIST_SECONDS = 60  # 焦点, 热门, feed pages, 相关推荐: see the module docstring
STRUCTURE_SECONDS = 300  # column tabs, a place's channels
FRAGMENT_SECONDS = 600  # rendered HTML, keyed by what it shows
# Bump when a cached template changes its markup: older fragments are then never read.
FRAGMENTS_VERSION = 1


# The generation is read from the cache once per request by the thread serving it (``apps.py``
# connects ``request_begins``/``request_ends``): a page reads all its lists in one generation,
# and every process sees a write at its next request. Outside requests (jobs, shells, tests
# calling selectors) it is read every time.
_LOCAL_LIMIT = 2_000  # entries kept in process memory (structure: channels, tabs)
_seen = threading.local()
_local: dict[tuple[int, str], tuple[float, Any]] = {}


def request_begins(**_signal: object) -> None:
    _seen.generation = None
    _seen.in_request = True


def request_ends(**_signal: object) -> None:
    _seen.generation = None
    _seen.in_request = False


def generation() -> int:
    """The current generation of the reader's lists (a new one after a flush)."""
    known = getattr(_seen, "generation", None)
    if known is not None:
        return int(known)
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, time.time_ns(), None)
        value = cache.get(GENERATION_KEY, 0)
    if getattr(_seen, "in_request", False):
        _seen.generation = int(value)
    return int(value)


def _bump() -> None:
    value = time.time_ns()
    cache.set(GENERATION_KEY, value, None)
    _seen.generation = value if getattr(_seen, "in_request", False) else None
    _local.clear()


def content_changed() -> None:
    """Called by every write that changes what a reader's list shows. Moves the generation
    now (this process's next read misses) and after the commit (no other reader keeps a list
    it read, under the new generation, before the commit)."""
    _bump()
    transaction.on_commit(_bump, robust=True)


def cached(key: str, seconds: int, compute: Callable[[], T], *, local: bool = False) -> T:
    """``compute()`` kept under ``key`` in the current generation for ``seconds``; with
    ``local``, also in this process's memory (small structure read on every page)."""
    gen = generation()
    moment = time.monotonic()
    if local:
        kept = _local.get((gen, key))
        if kept is not None and kept[0] > moment:
            return kept[1]
    full = f"content:{gen}:{key}"
    found = cache.get(full)
    if found is None:
        found = compute()
        cache.set(full, found, seconds)
    if local:
        if len(_local) >= _LOCAL_LIMIT:
            _local.clear()
        _local[(gen, key)] = (moment + seconds, found)
    return found


def cached_many(*entries: tuple[str, int, Callable[[], Any]]) -> list[Any]:
    """``cached`` for several ``(key, seconds, compute)`` at once: one read of the cache."""
    gen = generation()
    keys = [f"content:{gen}:{key}" for key, _s, _c in entries]
    found = cache.get_many(keys)
    values = []
    for full, (_key, seconds, compute) in zip(keys, entries, strict=True):
        value = found.get(full)
        if value is None:
            value = compute()
            cache.set(full, value, seconds)
        values.append(value)
    return values


def fragment_key(name: str, *values: Any) -> str:
    """A key for HTML that shows ``values`` (and the active language), for ``{% cache %}``'s
    ``vary_on``: equal values, equal HTML."""
    raw = repr((FRAGMENTS_VERSION, get_language(), name, values)).encode()
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def fragments(*wanted: tuple[str, dict[str, Any], tuple[Any, ...]]) -> list[SafeString]:
    """Each ``(template, context, values)`` rendered with ``context`` (no request: a fragment
    must not show anything of the person asking), kept for ``FRAGMENT_SECONDS`` under
    ``fragment_key(template, *values)``; one round trip to the cache for all. ``values`` must
    hold everything the HTML shows."""
    keys = [f"content:fragment:{fragment_key(name, *values)}" for name, _c, values in wanted]
    found = cache.get_many(keys)
    missing = {}
    html = []
    for key, (name, context, _values) in zip(keys, wanted, strict=True):
        one = found.get(key)
        if one is None:
            one = missing[key] = render_to_string(name, context)
        html.append(mark_safe(one))  # noqa: S308 - rendered by the template engine, escaped there
    if missing:
        cache.set_many(missing, FRAGMENT_SECONDS)
    return html
