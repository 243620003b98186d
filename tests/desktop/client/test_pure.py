"""Backoff, outbox and error words: pure logic, no Qt, no sockets."""

from __future__ import annotations

import random

from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from multichat.desktop.client.backoff import Backoff
from multichat.desktop.client.outbox import Outbox
from multichat.desktop.client.words import describe, describe_connection_error
from multichat.protocol.commands import Delete, Edit, React, Send


def test_backoff_grows_to_its_cap_with_jitter_and_resets() -> None:
    backoff = Backoff(initial=1.0, maximum=8.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(6)]
    ceilings = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)  # jittered, not lockstep
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_outbox_keeps_writing_order_per_room() -> None:
    outbox = Outbox()
    a1 = outbox.add("1", "first")
    b1 = outbox.add("2", "other room")
    a2 = outbox.add("1", "second")
    assert [m.text for m in outbox.for_room("1")] == ["first", "second"]
    assert a1.client_id != a2.client_id
    assert outbox.remove(a1.client_id) == a1
    assert outbox.remove(a1.client_id) is None
    assert outbox.drop_room("2") == [b1]
    assert len(outbox) == 1
    assert a2.as_dict() == {"client_id": a2.client_id, "message": "second"}


def test_changes_to_a_pending_message_are_worked_into_it_or_wait_for_its_seq() -> None:
    outbox = Outbox()
    message = outbox.add("1", "draft", reply_to=3)
    assert isinstance(message.command, Send) and message.command.reply_to == 3
    assert outbox.amend(message.client_id, "final") and message.text == "final"
    message.sent = True  # it went out: the server may have it
    assert not outbox.amend(message.client_id, "too late")
    edit = outbox.add_change("1", Edit(room=1, seq=0, message="later"), after=message.client_id)
    react = outbox.add_change("1", React(room=1, seq=2, emoji="👍"))
    assert react.command.client_id == react.client_id and not react.is_message
    assert [i.client_id for i in outbox.for_room("1")] == [message.client_id, edit.client_id,
                                                         react.client_id]  # as done
    assert outbox.messages("1") == [message]
    assert outbox.resolve(message.client_id, 9) == [edit]
    assert isinstance(edit.command, Edit) and edit.command.seq == 9 and edit.after is None
    react.barrier = "7"
    assert outbox.confirmed_by("7") == [react] and outbox.get(react.client_id) is None
    refused = outbox.add("1", "refused")
    waiting = outbox.add_change("1", Delete(room=1, seq=0), after=refused.client_id)
    outbox.remove(refused.client_id)  # refused: what waited behind it goes too
    assert outbox.get(waiting.client_id) is None


def test_errors_are_described_in_words() -> None:
    assert describe("ROOM_ACCESS_DENIED") == "This room is for staff only."
    assert "not in this room" in describe("ROOM_ACCESS_DENIED", command="send")
    assert describe("RATE_LIMITED", "too many failed logins; try again in 4 s") == (
        "Too many failed logins; try again in 4 s."
    )
    assert describe("SOMETHING_NEW", "odd") == "The server answered SOMETHING_NEW: odd"
    assert describe("PERMISSION_DENIED", command="edit") == "You can edit only your own messages."
    assert describe("PERMISSION_DENIED") == "Only administrators may do that."
    assert "deleted" in describe("MESSAGE_INVALID")
    assert "nobody by that name" in describe("USER_INVALID")


def test_a_refused_handshake_says_why_and_other_failures_say_what() -> None:
    too_many = Response(429, "Too Many Requests", Headers(),
                        b"too many connections from your address; close some and try again\n")
    assert describe_connection_error(InvalidStatus(too_many)) == (
        "The server refused the connection: too many connections from your address; "
        "close some and try again."
    )
    not_chat = InvalidStatus(Response(404, "Not Found", Headers(), b"<html>"))
    assert describe_connection_error(not_chat) == "That address is not a Multichat server."
    assert describe_connection_error(ConnectionRefusedError()) == "No server is listening there."


def test_server_details_win_where_they_say_more() -> None:
    assert describe("SERVER_ERROR", "the message was not stored: the disk is full") == (
        "The message was not stored: the disk is full."
    )
    assert describe("LIMIT_REACHED") == "Too many rooms open at once: leave one first."
    assert describe("ROOM_INVALID", "no such room") == "This room does not exist (any more)."


def test_backoff_is_capped_at_ten_seconds_and_can_be_exact() -> None:
    backoff = Backoff(initial=1.0, rng=random.Random(3))
    delays = [backoff.next_delay() for _ in range(12)]
    assert max(delays) <= 10.0 and delays[-1] >= 5.0  # jitter keeps the top half
    exact = Backoff(initial=2.0, maximum=2.0, jitter=0.0)
    assert [exact.next_delay() for _ in range(3)] == [2.0, 2.0, 2.0]


def test_connection_failures_name_the_server() -> None:
    import socket
    import ssl

    url = "wss://10.0.0.5:8765"
    assert describe_connection_error(TimeoutError(), url, 10.0) == (
        "No answer from 10.0.0.5:8765 within 10 s: is the server running, and is the "
        "address right?")
    assert describe_connection_error(ConnectionRefusedError(), url) == (
        "No server is listening at 10.0.0.5:8765.")
    assert describe_connection_error(socket.gaierror(-2, "Name or service not known"),
                                     "ws://chat.invalid:8765") == (
        "Cannot find the computer “chat.invalid”: check the address.")
    assert describe_connection_error(ssl.SSLError(1, "WRONG_VERSION_NUMBER"), url).startswith(
        "The secure connection to 10.0.0.5:8765 failed")
