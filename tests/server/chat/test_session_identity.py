"""A session is the token it logged in with: reused ids and revocations, attacked over sockets.

The changes are made as ``multichat admin`` (or another server process) makes
them: straight in the database, which the server notices on its next poll.
SQLite hands a deleted row's id to the next insert (without AUTOINCREMENT),
which is what these attacks relied on.
"""

from __future__ import annotations

import contextlib

from websockets.exceptions import ConnectionClosed

from multichat.server.chat.passwords import Passwords
from multichat.server.net import ChatServer
from multichat.server.store import Store
from tests.conftest import ALICE, BOB, ClientFactory
from tests.helpers.client import ProtocolClient

SESSION_REVOKED = 4001


async def answers(client: ProtocolClient) -> bool:
    """The connection is open and served: a ping comes back."""
    await client.send(command="ping", ref="alive?")
    return bool((await client.expect(lambda f: f.get("ref") == "alive?")).get("pong"))


def store_of(server: ChatServer) -> Store:
    assert server.store is not None
    return server.store


async def test_a_deleted_users_open_connection_never_becomes_the_next_account(
    server: ChatServer, connect: ClientFactory, passwords: Passwords,
) -> None:
    """Seen: the connection of a deleted user got a new superuser's account and rooms."""
    store = store_of(server)
    for attempt in range(3):
        name, root = f"temp{attempt}", f"root{attempt}"
        store.create_user(name, passwords.hash("pw"))  # the newest account...
        temp = await connect((name, "pw"))
        store.delete_user(name)  # ...deleted elsewhere: its id (and its token's) is free
        store.create_user(root, passwords.hash("root-pw"), is_superuser=True)
        await connect((root, "root-pw"))  # the new account logs in: a new token row
        assert await temp.closed() == SESSION_REVOKED
        # Until it closed it saw nothing of the new account, nor anything staff see.
        assert not any("account" in frame for frame in temp.seen)
        assert not any("rooms" in frame and any(room["staff_only"] for room in frame["rooms"])
                       for frame in temp.seen)
        store.delete_user(root)


async def test_revocation_holds_when_someone_logs_in_before_the_next_poll(
    server: ChatServer, connect: ClientFactory,
) -> None:
    """Seen: after `admin user signout alice`, bob's login let alice stay, and her logout
    then revoked bob's token."""
    store = store_of(server)
    for _ in range(3):
        alice = await connect(ALICE)
        await alice.join(1)
        store.revoke_user_tokens("alice")  # as `multichat admin user signout alice`
        bob = await connect(BOB)  # a new token row, perhaps with alice's old id
        await alice.send(command="logout", ref="stale")  # before the server polls
        assert await alice.closed() == SESSION_REVOKED
        # bob's token is untouched: he stays, and it logs in again elsewhere
        bob_token = next(f["login"]["token"] for f in bob.seen if "login" in f)
        assert await answers(bob)
        again = await connect()
        assert "login" in await again.request(command="login", token=bob_token)
        await bob.close()


async def test_a_logout_closes_every_connection_on_its_token(
    server: ChatServer, connect: ClientFactory,
) -> None:
    """Seen: a token on two connections, logout on one, bob logs in: the other survived and
    could log bob out."""
    for _ in range(3):
        first = await connect(ALICE)
        token = first.seen[-1]["login"]["token"]
        second = await connect()
        assert "login" in await second.request(command="login", token=token)
        await second.join(1)
        await first.send(command="logout", ref="bye")
        assert (await first.expect(lambda f: f.get("ref") == "bye")).get("logout") is True
        bob = await connect(BOB)
        with contextlib.suppress(ConnectionClosed):  # closed by now, if the fix holds
            await second.send(command="logout")  # the stale connection tries its luck
        assert await second.closed() == SESSION_REVOKED
        assert await answers(bob)
        await first.close()
        await bob.close()


async def test_a_password_reset_closes_the_users_sessions_whatever_happens_meanwhile(
    server: ChatServer, connect: ClientFactory, passwords: Passwords,
) -> None:
    store = store_of(server)
    alice = await connect(ALICE)
    store.update_user("alice", password_hash=passwords.hash("new-alice-password"))
    others: list[ProtocolClient] = [await connect(BOB) for _ in range(3)]
    assert await alice.closed() == SESSION_REVOKED
    for bob in others:
        assert await answers(bob)
