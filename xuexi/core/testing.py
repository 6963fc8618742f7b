"""Helpers for the tests of every app: races on PostgreSQL and the persona matrix.

Imported by tests only; nothing here runs in production.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

T = TypeVar("T")

# The marks of a module that races real row locks: its tests commit (each thread has its own
# database session) and run on PostgreSQL only.
POSTGRESQL_RACES = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row-lock concurrency is proven on PostgreSQL"
    ),
]


def race(work: Callable[[int], T], racers: int) -> tuple[list[T], list[BaseException]]:
    """Run ``work(n)`` for n in 0..racers-1 at the same moment, each in its own thread and
    database session; returns the results and the exceptions raised."""
    barrier = threading.Barrier(racers)
    results: list[T] = []
    errors: list[BaseException] = []

    def runner(n: int) -> None:
        try:
            barrier.wait()
            results.append(work(n))
        except BaseException as exc:  # reported to the test: a thread must not die silently
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


# --- the persona matrix (SECURITY S8) -------------------------------------------------------
# A matrix module asks every route of a table the same request as each persona of the cast (the
# root conftest's ``personas``, or a module's ``cast`` built on it) and checks the exact status.

Cast = dict[str, Any]


@dataclass(frozen=True)
class Route:
    """One request of a matrix: its method, its path and body built from the cast, and the
    status each persona must get."""

    method: str
    path: Callable[[Cast], str]
    body: Callable[[Cast], dict[str, Any]] | None
    expect: dict[str, int]


def admin_scope(allowed: int, **overrides: int) -> dict[str, int]:
    """A route on county A's objects: its administrators get ``allowed``, the sibling county's
    (``outsider``) 404 — existence is private —, anyone without an administrative role 403,
    anonymous visitors 401."""
    table = {
        "operator": allowed,
        "province_admin": allowed,
        "county_admin": allowed,
        "outsider": 404,
        "branch_admin": allowed,
        "member": 403,
        "member_b": 403,
        "stranger": 403,
        "anonymous": 401,
    }
    table.update(overrides)
    return table


def org(name: str) -> Callable[[Cast], int]:
    """The primary key of the cast's organisation ``name``."""
    return lambda p: p["orgs"][name].pk


def console_path(
    name: str, target: Callable[[Cast], Any] | None = None, query: str = ""
) -> Callable[[Cast], str]:
    """The path of ``console:<name>``, on the object (or primary key) ``target`` finds in the
    cast when the route takes one, followed by ``query``."""

    def path(p: Cast) -> str:
        args = []
        if target is not None:
            found = target(p)
            args = [getattr(found, "pk", found)]
        return reverse(f"console:{name}", args=args) + query

    return path


class Asked(Protocol):
    """A request of a matrix (a ``Route``, or a module's own kind with a ``path`` method)."""

    @property
    def method(self) -> str: ...
    @property
    def body(self) -> Callable[[Cast], dict[str, Any]] | None: ...
    @property
    def expect(self) -> dict[str, int]: ...
    def path(self, cast: Cast, /) -> str: ...


def ask(
    client: Client,
    cast: Cast,
    persona: str,
    name: str,
    route: Asked,
    before: Callable[[], T],
    *,
    json: bool = False,
) -> tuple[Any, T]:
    """Ask ``route`` as ``persona`` and check the status the matrix says (see ``assert_answers``;
    ``json``: an API route). ``before`` measures what the request may change, once the persona
    is signed in; returns the response and that measure."""
    path = route.path(cast)
    body = route.body(cast) if route.body else None
    sign_in_as(client, cast, persona)
    measured = before()
    response = send(client, route.method, path, body, json=json)
    assert_answers(response, route.expect[persona], name, persona, api=json)
    return response, measured


def sign_in_as(client: Client, cast: Cast, persona: str) -> None:
    """Sign the persona in; ``anonymous`` stays signed out."""
    if persona != "anonymous":
        client.force_login(cast[persona])


def send(
    client: Client, method: str, path: str, body: dict[str, Any] | None, *, json: bool = False
) -> Any:
    """The request, with its body as JSON (the API) or as a form (the console)."""
    if body is None:
        return getattr(client, method)(path)
    if json:
        return getattr(client, method)(path, body, content_type="application/json")
    return getattr(client, method)(path, body)


def assert_answers(response: Any, expected: int, *context: str, api: bool = False) -> None:
    """The response has the status the matrix says; an API refusal has the error shape of
    API.md (code, message, details)."""
    status = response.status_code
    if status != expected:
        raise AssertionError(f"{context}: {status}, not {expected}: {response.content[:300]!r}")
    if api and status >= 400 and set(response.json()) != {"code", "message", "details"}:
        raise AssertionError(f"{context}: not the API's error shape: {response.json()}")
