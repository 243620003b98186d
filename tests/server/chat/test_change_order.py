"""A change takes effect before its reply, and no event stored after it reaches whom it excludes.

Seen before: once the admin had the reply to ``room.update staff_only=true``
or ``user.update is_staff=false``, messages sent afterwards still reached the
people the change excluded (8 of 10 tries). Each race is run ten times.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from websockets.exceptions import ConnectionClosed

from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from tests.conftest import ADMIN, ALICE, STAFF, ClientFactory
from tests.helpers.client import Frame, ProtocolClient

LOBBY, STAFF_ROOM = 1, 2
TRIES = 10


def said(text: str) -> Callable[[Frame], bool]:
    return lambda frame: frame.get("message") == text


async def answer(client: ProtocolClient, **command: object) -> Frame:
    """Send a command and return its reply (the frame echoing its ref), past any pushes."""
    ref = f"ref-{len(client.seen)}-{command['command']}"
    await client.send(**command, ref=ref)
    return await client.expect(lambda frame: frame.get("ref") == ref)


async def sync(client: ProtocolClient, tag: str) -> None:
    """Wait until the server has answered everything the client sent before."""
    await client.send(command="ping", ref=tag)
    await client.expect(lambda frame: frame.get("ref") == tag)


def got(client: ProtocolClient, text: str) -> list[Frame]:
    return [frame for frame in client.seen if frame.get("message") == text]


async def test_a_room_made_staff_only_hears_nothing_more_for_those_it_excludes(
    connect: ClientFactory,
) -> None:
    admin, alice, sam = await connect(ADMIN), await connect(ALICE), await connect(STAFF)
    for attempt in range(TRIES):
        await alice.join(LOBBY)
        await sam.join(LOBBY)
        reply = await answer(admin, command="room.update", room=LOBBY, staff_only=True)
        assert "room.updated" in reply
        text = f"after the change {attempt}"
        await sam.send(command="send", room=LOBBY, message=text)
        await sam.expect(said(text))  # stored and delivered to those still allowed
        await sync(alice, f"sync-{attempt}")
        assert got(alice, text) == [], f"try {attempt}: alice got a staff-only message"
        assert any(frame.get("leave") == str(LOBBY) for frame in alice.seen)
        assert "room.updated" in await answer(admin, command="room.update", room=LOBBY,
                                                     staff_only=False)


async def test_a_demoted_user_hears_nothing_more_of_staff_rooms(connect: ClientFactory) -> None:
    admin, sam = await connect(ADMIN), await connect(STAFF)
    await admin.join(STAFF_ROOM)
    for attempt in range(TRIES):
        await sam.join(STAFF_ROOM)
        reply = await answer(admin, command="user.update", username="sam", is_staff=False)
        assert reply["user.updated"]["is_staff"] is False
        text = f"for staff only {attempt}"
        await admin.send(command="send", room=STAFF_ROOM, message=text)
        await admin.expect(said(text))
        await sync(sam, f"sync-{attempt}")
        assert got(sam, text) == [], f"try {attempt}: sam got a message after his demotion"
        assert "user.updated" in await answer(admin, command="user.update", username="sam",
                                                     is_staff=True)
        await sam.expect(lambda frame: frame.get("account", {}).get("is_staff") is True)


async def test_history_after_the_change_is_refused_to_those_it_excludes(
    connect: ClientFactory,
) -> None:
    admin, alice = await connect(ADMIN), await connect(ALICE)
    await admin.join(LOBBY)
    for _ in range(TRIES):
        assert "room.updated" in await answer(admin, command="room.update", room=LOBBY,
                                                     staff_only=True)
        reply = await answer(alice, command="history", room=LOBBY)
        assert reply.get("error") == "ROOM_ACCESS_DENIED", reply
        assert "room.updated" in await answer(admin, command="room.update", room=LOBBY,
                                                     staff_only=False)


async def test_a_superuser_demoted_elsewhere_can_do_no_more_before_the_next_poll(
    server: ChatServer, connect: ClientFactory, passwords: Passwords,
) -> None:
    """Demoted (or signed out) by `multichat admin` or another process: the rights an
    admin command is judged by are the store's, not this process's last view."""
    assert server.store is not None
    server.store.create_user("root", passwords.hash("root-password"), is_superuser=True)
    root = await connect(("root", "root-password"))
    server.store.update_user("root", is_superuser=False)  # as the CLI would
    reply = await answer(root, command="user.delete", username="alice")
    assert reply.get("error") == "PERMISSION_DENIED"
    assert server.store.user("alice") is not None
    server.store.update_user("root", is_superuser=True)
    server.store.revoke_user_tokens("root")  # `multichat admin user signout root`
    with contextlib.suppress(ConnectionClosed):
        reply = await answer(root, command="user.delete", username="alice")
        assert "error" in reply
    assert server.store.user("alice") is not None
    assert await root.closed() == 4001
