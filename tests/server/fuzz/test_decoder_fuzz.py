"""Properties of ``decode_command`` for any input at all.

Whatever arrives, the decoder returns a command or raises ``ProtocolError``;
a command it returns holds only what the rest of the server can carry (text
that encodes as UTF-8, integers a 64-bit column takes), and the error frame
the edge builds from a ``ProtocolError`` encodes too.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from multichat.protocol import Command, ErrorCode, ProtocolError, decode_command, events
from multichat.protocol import commands as cmd
from tests.server.fuzz.frames import any_frames, command_objects

FUZZ = settings.get_profile("fuzz")


def decode(frame: str | bytes) -> Command | ProtocolError:
    """The decoder's verdict; any other exception fails the test."""
    try:
        return decode_command(frame)
    except ProtocolError as exc:
        return exc


def check_verdict(verdict: Command | ProtocolError) -> None:
    """What the edge does with the verdict must work: encode the fields, or the error frame."""
    if isinstance(verdict, ProtocolError):
        events.encode(events.error(ErrorCode.BAD_REQUEST, verdict.detail, verdict.ref))
        return
    fields = {f.name: getattr(verdict, f.name) for f in dataclasses.fields(verdict)}
    events.encode({"command": verdict.name, **fields})  # no lone surrogate, NaN or infinity
    for name, value in fields.items():
        if isinstance(value, str):
            value.encode("utf-8")
        elif isinstance(value, int):
            assert -(2**63) <= value < 2**63, f"{name}={value} does not fit a 64-bit column"
    room = fields.get("room")
    assert room is None or 0 <= room <= cmd.MAX_ID
    assert fields.get("limit", 1) <= cmd.HISTORY_MAX_LIMIT


# Each @example is a frame that once got past the decoder and broke the server.
@settings(FUZZ, max_examples=400)
@given(any_frames())
@example('{"command": "ping", "ref": "\\ud800"}')  # the error frame echoing it
@example('{"command": "send", "room": 1, "message": "\\udfff"}')  # failed its whole batch
@example('{"command": "login", "username": "bob", "password": "\\ud800"}')  # Argon2
@example('{"command": "login", "username": "\\ud800", "password": "x"}')  # SQLite
@example('{"command": "login", "token": "\\udbff"}')  # the token's hash
@example('{"command": "join", "room": "' + "1" * 5000 + '"}')  # int() of 4301+ digits
@example('{"command": "join", "room": "0000"}')
@example('{"command": "join", "room": 1, "since": ' + str(2**70) + "}")  # SQLite overflow
@example('{"command": "history", "room": 1, "before": ' + str(2**63) + "}")
def test_any_frame_decodes_to_a_command_the_server_can_carry_or_a_protocol_error(
    frame: str | bytes,
) -> None:
    check_verdict(decode(frame))


@settings(FUZZ, max_examples=400)
@given(obj=command_objects(), ensure_ascii=st.booleans())
def test_a_command_object_keeps_its_name_and_ref_or_is_refused(
    obj: dict[str, Any], ensure_ascii: bool
) -> None:
    verdict = decode(json.dumps(obj, ensure_ascii=ensure_ascii))
    check_verdict(verdict)
    if isinstance(verdict, Command):
        assert verdict.name == obj["command"]
        assert verdict.ref == obj.get("ref")
