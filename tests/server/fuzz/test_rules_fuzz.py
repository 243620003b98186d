"""Properties of the chat rules under hostile frames, in process.

A logged-out session and bob (no administrator) send fuzzed frames through
the edge's own path (``ChatServer.handle_frame``: decode, execute, error
frame) to a chat service on a real SQLite store. Alice, in the Lobby, and
sam, staff, in the staff room, watch. Every frame is answered, errors carry
known codes, nothing is logged as an error, and a frame answered with an
error changes nothing anyone can see: no frame to a watcher, no row in the
store, no change to the sender's own session.

The service is shared by all the examples of a test (its fixtures are set up
once), so each example checks what changed while it ran.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from multichat.protocol import ErrorCode
from multichat.server.broker import LocalBroker
from multichat.server.chat import ChatService, Session
from multichat.server.chat.limits import UserBuckets
from multichat.server.chat.login_guard import LoginGuard
from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer
from multichat.server.store import Store
from tests.conftest import ALICE, BOB, STAFF, seed_accounts
from tests.helpers.peer import Frame, RecordingPeer
from tests.server.fuzz.frames import USER_COMMANDS, any_frames, command_frames, mostly

FUZZ = settings.get_profile("fuzz")
LOBBY, STAFF_ROOM, GARDEN = 1, 2, 3
ERROR_CODES = {code.value for code in ErrorCode}
# The first key of every frame the server sends that is not an error.
REPLY_KEYS = {
    "pong", "login", "logout", "rooms", "join", "members", "leave", "room", "history",
    "account", "users", "announced", "room.created", "room.updated", "room.deleted",
    "user.created", "user.updated", "user.deleted", "dm", "search", "upload", "file",
}

# Two frames in three are commands a user may send, mostly well-formed, so that the
# rules behind the decoder run; the third is anything (the decoder's own fuzz has more).
attacks = st.lists(mostly(command_frames(USER_COMMANDS), any_frames()), min_size=1, max_size=8)


@dataclass
class Arena:
    """A chat service with two watchers in rooms of their own."""

    chat: ChatService
    store: Store
    alice: RecordingPeer  # in the Lobby, which anyone may join
    sam: RecordingPeer  # staff, in the staff room, where the attackers may not go

    async def connect(self, credentials: tuple[str, str] | None = None,
                      rooms: tuple[int, ...] = ()) -> tuple[Session, RecordingPeer]:
        """A session through the edge's path, logged in and in ``rooms`` if asked."""
        peer = RecordingPeer("198.51.100.7")
        session = self.chat.connect(peer)
        commands: list[dict[str, Any]] = []
        if credentials:
            commands.append({"command": "login", "username": credentials[0],
                             "password": credentials[1]})
        commands += [{"command": "join", "room": room} for room in rooms]
        for command in commands:
            await ChatServer.handle_frame(self.chat, session, json.dumps(command))
            assert not any("error" in frame for frame in peer.take()), peer.frames
        return session, peer

    async def state(self) -> tuple[Any, ...]:
        """What the store holds that a frame could change: rooms, users, messages, complete
        files (an upload in progress is seen by no one; a refused frame may discard it)."""
        store = self.store

        def read() -> tuple[Any, ...]:
            rooms = store.rooms()
            files = [use.record for use in store.files.largest(1000) if use.complete]
            return rooms, store.users(), [store.last_seq(room.id) for room in rooms], files

        return await self.chat.db.run(read)


@pytest.fixture
async def arena(tmp_path: Path, passwords: Passwords) -> AsyncIterator[Arena]:
    store = Store.open_data_dir(tmp_path / "chat")
    seed_accounts(store, passwords)
    store.create_room("Garden")
    config = ServerConfig(poll_interval=0.1, send_burst=5, send_rate=1.0)
    chat = ChatService(store, LocalBroker(), config, passwords=passwords)
    await chat.start()
    try:
        arena = Arena(chat, store, RecordingPeer(), RecordingPeer())
        _, arena.alice = await arena.connect(ALICE, (LOBBY,))
        _, arena.sam = await arena.connect(STAFF, (STAFF_ROOM,))
        yield arena
    finally:
        await chat.stop()
        store.close()


BARRIER = '{"command": "ping", "ref": "fuzz-barrier"}'


def check_frames(replies: list[Frame], frame: str | bytes, *, uploading: bool = False
                 ) -> list[Frame]:
    """Every reply is a known frame or an error with a known code; return the errors.
    ``uploading``: the session had an upload open, whose bytes are answered by nothing
    until the last."""
    assert replies or _answered_by_nothing(frame) or (uploading and isinstance(frame, bytes)), \
        "the frame got no answer"
    errors = [reply for reply in replies if "error" in reply]
    for reply in replies:
        assert isinstance(reply, dict)
        if "error" in reply:
            assert reply["error"] in ERROR_CODES, reply
        else:
            assert next(iter(reply)) in REPLY_KEYS, reply
    return errors


# Accepted, these are answered by nothing (the protocol says so): a typing notice, a
# read marker, a reaction that changes nothing. Waiting for their answer timed out.
SILENT_WHEN_ACCEPTED = frozenset({"typing", "read", "react"})


def _answered_by_nothing(frame: str | bytes) -> bool:
    try:
        command = json.loads(frame)
    except ValueError:
        return False
    return isinstance(command, dict) and command.get("command") in SILENT_WHEN_ACCEPTED


async def attack(arena: Arena, session: Session, peer: RecordingPeer, frame: str | bytes,
                 caplog: pytest.LogCaptureFixture) -> None:
    """Send one frame as the edge would and check what it did."""
    before = await arena.state()
    arena.alice.take()  # what alice saw so far is not this frame's doing
    user, rooms = session.user, set(session.rooms)
    peer.take()
    start = len(peer.frames)
    uploading = arena.chat.files.is_receiving(session)
    await ChatServer.handle_frame(arena.chat, session, frame)
    # The pong comes after the outcome of every send and change before it (the writer
    # answers once it has committed, with the event or an error to the sender alone):
    # what came before the pong is this frame's answer, or nothing for a silent one.
    await ChatServer.handle_frame(arena.chat, session, BARRIER)
    await peer.expect(lambda f: f.get("ref") == "fuzz-barrier" and "pong" in f)
    replies = [f for f in peer.frames[start:] if f.get("ref") != "fuzz-barrier"]
    peer.take()
    errors = check_frames(replies, frame, uploading=uploading)
    # What the examples reached: --hypothesis-show-statistics lists these.
    last: Frame = replies[-1] if replies else {"silent": True}
    event(f"error {errors[0]['error']}" if errors else f"answer {next(iter(last))}")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    # A direct conversation made with sam in it reaches sam's room list, rightly; so may
    # activity of a public room sam is not in (a message stored there).
    to_sam = [f for f in arena.sam.take()
              if not ("rooms" in f and not errors and last.get("dm") is not None)
              and not ("activity" in f and not errors)]
    assert to_sam == [], "something reached the staff room"
    if errors:
        assert replies == errors[:1], "an error must come alone"
        assert arena.alice.take() == [], f"{frame!r} was refused, yet alice saw something"
        assert await arena.state() == before, f"{frame!r} was refused, yet the store changed"
        assert (session.user, session.rooms) == (user, rooms)


@settings(FUZZ, max_examples=200)
@given(
    login=st.booleans(),
    rooms=st.lists(st.sampled_from([LOBBY, GARDEN]), max_size=2, unique=True),
    frames=attacks,
)
# Each @example was once answered SERVER_ERROR with an "unexpected error" logged (the
# join also after ENTER, and a lone surrogate in a send failed its writer batch).
@example(login=True, rooms=[LOBBY],
         frames=['{"command": "send", "room": 1, "message": "\\ud800", "client_id": "c9"}'])
@example(login=True, rooms=[], frames=[f'{{"command": "join", "room": 3, "since": {2**64}}}'])
@example(login=True, rooms=[LOBBY],
         frames=[f'{{"command": "history", "room": 1, "before": {2**63}}}'])
@example(login=False, rooms=[],
         frames=['{"command": "login", "username": "bob", "password": "\\ud800"}'])
@example(login=False, rooms=[], frames=['{"command": "ping", "ref": "\\udfff"}'])
@example(login=False, rooms=[], frames=['{"command": "login", "token": "\\udfff"}'])
# Uploads: bytes answered by nothing until the last, then the file; bytes past the size
# refused; a send of a file that is not the sender's refused; bytes with no upload open.
@example(login=True, rooms=[LOBBY],
         frames=['{"command": "upload", "name": "a.txt", "size": 4}', b"ab", b"cd",
                 '{"command": "upload", "name": "b", "size": 3}', b"ab", b"cd", b"x",
                 '{"command": "send", "room": 1, "message": "", "files": ["AAAA"]}'])
async def test_a_refused_frame_changes_nothing_anyone_can_see(
    arena: Arena, caplog: pytest.LogCaptureFixture, login: bool, rooms: list[int],
    frames: list[str | bytes],
) -> None:
    # Lock-outs and the rates shared by a user's connections are per address and user,
    # on a clock: each example starts without any, so that it runs the same way when
    # Hypothesis replays it (bob's joins over 200 examples once emptied his bucket: the
    # arena's own join was refused).
    chat, config = arena.chat, arena.chat.config
    chat.login_guard = LoginGuard()
    chat.user_buckets = UserBuckets(config.user_send_burst, config.user_send_rate)
    chat.join_buckets = UserBuckets(config.user_join_burst, config.user_join_rate)
    session, peer = await arena.connect(BOB if login else None, tuple(rooms) if login else ())
    try:
        for frame in frames:
            await attack(arena, session, peer, frame, caplog)
    finally:
        await arena.chat.disconnect(session)
