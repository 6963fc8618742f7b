"""The member's WebSocket: authenticated only, receives pushes sent after commit."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from xuexi.accounts.tests.factories import UserFactory
from xuexi.notifications.consumers import MemberConsumer
from xuexi.notifications.services import notify_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def communicator_for(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(MemberConsumer.as_asgi(), "/ws/me/")
    communicator.scope["user"] = user
    return communicator


async def test_an_anonymous_socket_is_closed():
    communicator = communicator_for(AnonymousUser())
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401


async def test_a_member_receives_what_is_pushed_to_him_and_answers_pings():
    user = await database_sync_to_async(UserFactory)()
    communicator = communicator_for(user)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await database_sync_to_async(notify_user)(
        user_id=user.pk, payload={"type": "notice", "title": "测试"}
    )
    assert await communicator.receive_json_from(timeout=5) == {"type": "notice", "title": "测试"}
    await communicator.disconnect()
