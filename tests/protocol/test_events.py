"""Frame builders and the encoder: the exact shapes the seed client relies on."""

from __future__ import annotations

import json

from multichat.protocol import ErrorCode, MsgType, encode, events


def test_room_event_keeps_the_seed_keys_and_string_room_ids() -> None:
    frame = events.room_event(room_id=3, message="hi", username="al", msg_type=MsgType.MESSAGE,
                              seq=7, ts_ms=0, client_id="c1")
    assert frame == {
        "room": "3", "message": "hi", "username": "al", "msg_type": 0,
        "seq": 7, "ts": "1970-01-01T00:00:00.000Z", "client_id": "c1",
    }


def test_enter_and_leave_carry_no_seq_and_a_null_message() -> None:
    frame = events.room_event(room_id=1, message=None, username="al", msg_type=MsgType.ENTER)
    assert frame == {"room": "1", "message": None, "username": "al", "msg_type": 4}


def test_timestamps_are_iso_utc_with_milliseconds() -> None:
    assert events.format_ts(1_764_000_000_123) == "2025-11-24T16:00:00.123Z"


def test_errors_echo_ref_and_detail() -> None:
    assert events.error(ErrorCode.ROOM_INVALID) == {"error": "ROOM_INVALID"}
    assert events.error(ErrorCode.BAD_REQUEST, "why", "r") == {
        "error": "BAD_REQUEST", "detail": "why", "ref": "r"
    }


def test_seed_replies() -> None:
    assert events.joined(4, "Lobby") == {"join": "4", "title": "Lobby"}
    assert events.left(4) == {"leave": "4"}
    assert events.members(4, ["bo", "al"]) == {"members": "4", "users": ["al", "bo"]}


def test_encode_is_compact_utf8_json() -> None:
    data = encode({"message": "héllo <b>"})
    assert data == '{"message":"héllo <b>"}'.encode()
    assert json.loads(data) == {"message": "héllo <b>"}


def test_msg_type_numbers_are_frozen() -> None:
    assert [m.value for m in MsgType] == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert [m.name for m in MsgType] == ["MESSAGE", "WARNING", "ALERT", "MUTED", "ENTER", "LEAVE",
                                         "EDIT", "DELETE", "REACTION"]
    assert [m.is_stored for m in MsgType] == [True] * 4 + [False] * 2 + [True] * 3
    assert [m.is_change for m in MsgType] == [False] * 6 + [True] * 3


def test_a_change_event_and_a_folded_message() -> None:
    edit = events.room_event(room_id=1, message="new", username="a", msg_type=MsgType.EDIT,
                             seq=5, ts_ms=0, target=2)
    assert edit["target"] == 2 and "edited" not in edit and "reactions" not in edit
    reaction = events.room_event(room_id=1, message=None, username="a",
                                 msg_type=MsgType.REACTION, seq=6, target=2, emoji="👍", on=False)
    assert (reaction["emoji"], reaction["on"]) == ("👍", False)
    folded = events.room_event(room_id=1, message="new", username="b", msg_type=MsgType.MESSAGE,
                               seq=2, reply_to=1, edited=True,
                               reactions=(("👍", ("a", "c")),))
    assert {k: folded[k] for k in ("reply_to", "edited", "reactions")} == {
        "reply_to": 1, "edited": True, "reactions": {"👍": ["a", "c"]}}
