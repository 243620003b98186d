"""The command decoder, fed text and read back as typed commands: no sockets."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from multichat.protocol import MsgType, ProtocolError, decode_command
from multichat.protocol import commands as cmd


def decode(**obj: Any) -> cmd.Command:
    return decode_command(json.dumps(obj))


def test_seed_commands_decode_with_room_as_number_or_numeric_string() -> None:
    assert decode(command="join", room=1) == cmd.Join(room=1)
    assert decode(command="join", room="12") == cmd.Join(room=12)
    assert decode(command="leave", room="3") == cmd.Leave(room=3)
    assert decode(command="send", room=1, message="hi") == cmd.Send(room=1, message="hi")


def test_login_by_password_and_by_token() -> None:
    assert decode(command="login", username="a", password="p") == cmd.PasswordLogin("a", "p")
    assert decode(command="login", token="t") == cmd.TokenLogin("t")


def test_ref_is_kept_on_every_command() -> None:
    assert decode(command="rooms", ref="r1") == cmd.ListRooms(ref="r1")
    assert decode(command="ping", ref="x").ref == "x"


def test_optional_fields_and_defaults() -> None:
    assert decode(command="join", room=1, since=0) == cmd.Join(room=1, since=0)
    assert decode(command="history", room=1) == cmd.History(room=1, before=None, limit=50)
    assert decode(command="history", room=1, before=9, limit=500) == cmd.History(
        room=1, before=9, limit=200
    )
    assert decode(command="send", room=1, message="m", client_id="c") == cmd.Send(
        room=1, message="m", client_id="c"
    )
    assert decode(command="room.create", title="  Lobby ") == cmd.CreateRoom(title="Lobby")
    assert decode(command="room.update", room=2, staff_only=True) == cmd.UpdateRoom(
        room=2, staff_only=True
    )
    assert decode(command="user.update", username="u", is_staff=False) == cmd.UpdateUser(
        username="u", is_staff=False
    )


def test_announce_takes_only_notice_types() -> None:
    assert decode(command="announce", room=1, message="m", msg_type=2) == cmd.Announce(
        room=1, message="m", msg_type=MsgType.ALERT
    )
    for bad in (0, 4, 5, "1"):
        with pytest.raises(ProtocolError):
            decode(command="announce", room=1, message="m", msg_type=bad)


def test_out_of_range_room_ids_are_well_formed_but_name_no_room() -> None:
    assert decode(command="join", room=0) == cmd.Join(room=0)
    assert decode(command="join", room=-5) == cmd.Join(room=0)
    assert decode(command="join", room=2**70) == cmd.Join(room=0)


def test_room_ids_as_strings_of_any_number_of_digits() -> None:
    # int() refuses more than 4300 digits: such a string once escaped as a ValueError.
    assert decode(command="join", room="9" * 5000) == cmd.Join(room=0)
    assert decode(command="join", room="0" * 5000 + "7") == cmd.Join(room=7)
    assert decode(command="join", room="000") == cmd.Join(room=0)
    assert decode(command="join", room=str(cmd.MAX_ID)) == cmd.Join(room=cmd.MAX_ID)
    assert decode(command="join", room=str(cmd.MAX_ID + 1)) == cmd.Join(room=0)


def test_integers_for_the_store_fit_in_64_bits() -> None:
    # Larger ones overflowed SQLite's INTEGER: an "unexpected error" after the join reply.
    assert decode(command="join", room=1, since=cmd.MAX_ID) == cmd.Join(room=1, since=cmd.MAX_ID)
    for frame in (
        {"command": "join", "room": 1, "since": cmd.MAX_ID + 1},
        {"command": "history", "room": 1, "before": 2**70},
    ):
        with pytest.raises(ProtocolError, match="at most"):
            decode(**frame)
    # limit is clamped, not refused, however large.
    assert decode(command="history", room=1, limit=2**70) == cmd.History(room=1, limit=200)


SEND = {"command": "send", "room": 1, "message": "m"}
LOGIN = {"command": "login", "username": "u", "password": "p"}


@pytest.mark.parametrize(
    ("base", "field"),
    [(SEND, "message"), (SEND, "client_id"), (LOGIN, "username"), (LOGIN, "password"),
     (LOGIN, "token"), ({"command": "room.create"}, "title"), ({"command": "user.delete"},
     "username")],
)
def test_strings_with_lone_surrogates_are_refused(base: dict[str, Any], field: str) -> None:
    # JSON's "\ud800" escape decodes to a string with no UTF-8 form, which SQLite,
    # Argon2 and the frame encoder all refuse with an exception.
    with pytest.raises(ProtocolError, match="surrogate") as info:
        decode(**{**base, field: "a\ud800", "ref": "r"})
    assert info.value.ref == "r"


@pytest.mark.parametrize(
    ("base", "field"),
    [(SEND, "message"), (SEND, "client_id"),
     ({"command": "send", "room": 1, "files": ["f1"]}, "message"),
     ({"command": "edit", "room": 1, "seq": 1}, "message"),
     ({"command": "announce", "room": 1, "msg_type": 1}, "message")],
)
def test_stored_text_with_nul_is_refused(base: dict[str, Any], field: str) -> None:
    # PostgreSQL's text cannot hold U+0000: refused here, on every backend, instead of
    # failing the writer's batch (other users' messages in it too) as a database error.
    with pytest.raises(ProtocolError, match=r"NUL \(U\+0000\)") as info:
        decode(**{**base, field: "a\x00b", "ref": "r"})
    assert info.value.ref == "r"


def test_a_ref_with_a_lone_surrogate_is_refused_and_not_echoed() -> None:
    with pytest.raises(ProtocolError) as info:
        decode_command('{"command": "ping", "ref": "\\udfff"}')
    assert info.value.ref is None
    # A well-formed surrogate pair is one character, and fine.
    assert decode_command('{"command": "ping", "ref": "\\ud83d\\ude00"}').ref == "\U0001f600"


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "not json",
        "[1, 2]",
        "42",
        '"join"',
        "null",
        "{}",
        '{"command": 5}',
        '{"command": "fly"}',
        '{"command": "join"}',
        '{"command": "join", "room": "lobby"}',
        '{"command": "join", "room": true}',
        '{"command": "join", "room": 1.5}',
        '{"command": "join", "room": 1, "since": -1}',
        '{"command": "join", "room": 1, "since": "3"}',
        '{"command": "send", "room": 1}',
        '{"command": "send", "room": 1, "message": 7}',
        '{"command": "send", "room": 1, "message": ""}',
        '{"command": "history", "room": 1, "limit": 0}',
        '{"command": "history", "room": 1, "before": 0}',
        '{"command": "login", "username": "a"}',
        '{"command": "room.create", "title": "   "}',
        '{"command": "room.create", "title": "t", "staff_only": "yes"}',
        '{"command": "rooms", "ref": 5}',
        '{"command": "join", "room": NaN}',
        "[" * 100_000,
    ],
)
def test_malformed_frames_raise_protocol_error(frame: str) -> None:
    with pytest.raises(ProtocolError):
        decode_command(frame)


def test_binary_frames_are_rejected() -> None:
    with pytest.raises(ProtocolError, match="binary"):
        decode_command(b'{"command": "ping"}')


def test_protocol_error_carries_the_ref_when_readable() -> None:
    with pytest.raises(ProtocolError) as info:
        decode_command('{"command": "join", "ref": "abc"}')
    assert info.value.ref == "abc"


def test_limits_on_field_lengths() -> None:
    with pytest.raises(ProtocolError):
        decode(command="ping", ref="r" * 129)
    with pytest.raises(ProtocolError):
        decode(command="send", room=1, message="m", client_id="c" * 129)
    with pytest.raises(ProtocolError):
        decode(command="room.create", title="t" * 101)
    with pytest.raises(ProtocolError):
        decode(command="user.create", username="u" * 33, password="p")


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A named function: Hypothesis reads a lambda's source to see that it recurses,
    # and sometimes misreads one (HypothesisDeprecationWarning, a failed run).
    return st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    _containers,
    max_leaves=12,
)


@given(
    name=st.sampled_from([*sorted(cmd.COMMAND_NAMES), "", "nope"]),
    fields=st.dictionaries(
        st.sampled_from(["room", "message", "since", "before", "limit", "title", "staff_only",
                         "username", "password", "token", "client_id", "msg_type", "ref",
                         "is_staff", "is_superuser"]),
        json_values,
        max_size=6,
    ),
)
def test_any_object_decodes_to_a_command_or_a_protocol_error(
    name: str, fields: dict[str, Any]
) -> None:
    try:
        command = decode_command(json.dumps({"command": name, **fields}))
    except ProtocolError:
        return
    assert command.name == name


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_any_frame_decodes_or_raises_protocol_error(frame: str | bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_command(frame)


def test_edits_deletions_reactions_and_replies() -> None:
    assert decode(command="send", room=1, message="re", reply_to=4) == cmd.Send(
        room=1, message="re", reply_to=4)
    assert decode(command="edit", room="2", seq=3, message="new", client_id="e") == cmd.Edit(
        room=2, seq=3, message="new", client_id="e")
    assert decode(command="delete", room=2, seq=3) == cmd.Delete(room=2, seq=3)
    assert decode(command="react", room=2, seq=3, emoji="👍", on=False) == cmd.React(
        room=2, seq=3, emoji="👍", on=False)
    assert decode(command="react", room=2, seq=3, emoji="👍") == cmd.React(
        room=2, seq=3, emoji="👍", on=True)
    assert decode(command="history", room=1, around=7, limit=9) == cmd.History(
        room=1, around=7, limit=9)


def test_read_names_a_room_and_a_seq_of_zero_or_more() -> None:
    assert decode(command="read", room="3", seq=0) == cmd.Read(room=3, seq=0)
    assert decode(command="read", room=3, seq=41, ref="r") == cmd.Read(room=3, seq=41, ref="r")
    for bad in ({"room": 3}, {"room": 3, "seq": -1}, {"room": 3, "seq": "4"},
                {"room": 3, "seq": 1.0}, {"room": 3, "seq": True}, {"seq": 4},
                {"room": 3, "seq": cmd.MAX_ID + 1}):
        with pytest.raises(ProtocolError):
            decode_command(json.dumps({"command": "read", **bad}))


def test_typing_names_a_room() -> None:
    assert decode(command="typing", room="3", ref="t") == cmd.Typing(room=3, ref="t")
    for bad in ({"command": "typing"}, {"command": "typing", "room": None},
                {"command": "typing", "room": 1.5}):
        with pytest.raises(ProtocolError):
            decode_command(json.dumps(bad))


@pytest.mark.parametrize("obj", [
    {"command": "edit", "room": 1, "seq": 1},  # no message
    {"command": "edit", "room": 1, "seq": 1, "message": ""},
    {"command": "edit", "room": 1, "message": "x"},  # no seq
    {"command": "delete", "room": 1, "seq": 0},
    {"command": "delete", "room": 1, "seq": "3"},
    {"command": "delete", "room": 1, "seq": True},
    {"command": "react", "room": 1, "seq": 1},  # no emoji
    {"command": "react", "room": 1, "seq": 1, "emoji": "👍", "on": "yes"},
    {"command": "send", "room": 1, "message": "x", "reply_to": 0},
    {"command": "send", "room": 1, "message": "x", "reply_to": 2**63},
    {"command": "history", "room": 1, "around": -1},
])
def test_ill_formed_changes_are_refused(obj: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        decode(**obj)


@pytest.mark.parametrize("emoji", ["👍", "❤️", "👨‍👩‍👧‍👦", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🇫🇷", "👍🏽", "é", "e\u0301"])
def test_an_emoji_is_one_grapheme(emoji: str) -> None:
    assert cmd.is_one_grapheme(emoji)


@pytest.mark.parametrize("emoji", ["", "👍👍", "ab", "🇫🇷🇩🇪", " ", "\n", "\x00", "\u200b",
                                   "😀" * 10, "a" * 1_000_000, "\ud83d"])
def test_what_is_not_one_emoji(emoji: str) -> None:
    assert not cmd.is_one_grapheme(emoji)


def test_dm_open_names_one_to_fifteen_others() -> None:
    assert decode(command="dm.open", users=["bob"], ref="d") == cmd.DmOpen(
        users=("bob",), ref="d")
    fifteen = [f"user{n}" for n in range(15)]
    assert decode(command="dm.open", users=fifteen) == cmd.DmOpen(users=tuple(fifteen))
    # Repeats and the opener's own name fold away later: a list may be longer than 15.
    assert decode(command="dm.open", users=["bob"] * 16) == cmd.DmOpen(users=("bob",) * 16)
    bad_lists: list[object] = [[], "bob", [f"u{n}" for n in range(cmd.MAX_DM_NAMES + 1)], [""],
                               [3], ["x" * 33], ["\ud800"]]
    for bad in [{}, *({"users": users} for users in bad_lists)]:
        with pytest.raises(ProtocolError):
            decode_command(json.dumps({"command": "dm.open", **bad}))


def test_search_takes_a_query_and_optionally_a_room_a_cursor_and_a_limit() -> None:
    assert decode(command="search", query="Résumé") == cmd.Search(query="Résumé", limit=20)
    found = decode(command="search", query="  plan B ", room="3", before="1234", limit=7,
                   ref="s")
    assert found == cmd.Search(query="  plan B ", room=3, before=1234, limit=7, ref="s")
    assert isinstance(found, cmd.Search) and found.words == ["plan", "b"]
    # The cursor a server handed out is a string; its number is accepted too.
    assert decode(command="search", query="x", before=99) == cmd.Search(query="x", before=99)
    assert decode(command="search", query="x", limit=2**70) == cmd.Search(query="x", limit=100)
    assert decode(command="search", query="x", room=None) == cmd.Search(query="x")
    # FTS syntax is nothing but separators here: the words are what is searched.
    query = 'a"b* NEAR(c) AND -d e:f^'
    syntax = decode(command="search", query=query)
    assert isinstance(syntax, cmd.Search)
    assert syntax.words == ["a", "b", "near", "c", "and", "d", "e", "f"]
    assert decode_command(cmd.Search(query="x", room=3, before=5, limit=9).encode()) == \
        cmd.Search(query="x", room=3, before=5, limit=9)


@pytest.mark.parametrize("obj", [
    {"command": "search"},
    {"command": "search", "query": 5},
    {"command": "search", "query": ""},
    {"command": "search", "query": "   "},
    {"command": "search", "query": "?! -- ** 👍"},  # no word
    {"command": "search", "query": "x" * (cmd.MAX_QUERY_CHARS + 1)},
    {"command": "search", "query": " ".join("abcdefghi")},  # 9 words
    {"command": "search", "query": "x", "limit": 0},
    {"command": "search", "query": "x", "limit": "5"},
    {"command": "search", "query": "x", "before": 0},
    {"command": "search", "query": "x", "before": "abc"},
    {"command": "search", "query": "x", "before": "-1"},
    {"command": "search", "query": "x", "before": "9" * 40},
    {"command": "search", "query": "x", "before": True},
    {"command": "search", "query": "x", "room": 1.5},
    {"command": "search", "query": "\ud800"},
])
def test_ill_formed_searches_are_refused(obj: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        decode(**obj)


def test_upload_names_a_file_its_size_and_its_type() -> None:
    assert decode(command="upload", name="cat.png", size=10, type="image/png", ref="u") == \
        cmd.Upload(filename="cat.png", size=10, type="image/png", ref="u")
    # the type as the server keeps it: lower case, parameters dropped; none is octet-stream
    assert decode(command="upload", name="a.txt", size=0,
                  type="Text/Plain; charset=UTF-8") == cmd.Upload("a.txt", 0, "text/plain")
    assert decode(command="upload", name="a", size=1) == cmd.Upload(
        "a", 1, "application/octet-stream")
    assert decode(command="upload", name="a", size=1, type="") == cmd.Upload(
        "a", 1, "application/octet-stream")


@pytest.mark.parametrize("obj", [
    {"command": "upload", "size": 1},
    {"command": "upload", "name": "", "size": 1},
    {"command": "upload", "name": "   ", "size": 1},
    {"command": "upload", "name": "a\r\nSet-Cookie: x=1", "size": 1},
    {"command": "upload", "name": "a\x00b", "size": 1},
    {"command": "upload", "name": "photo\u202egpj.exe", "size": 1},
    {"command": "upload", "name": "x" * 256, "size": 1},
    {"command": "upload", "name": "a"},
    {"command": "upload", "name": "a", "size": -1},
    {"command": "upload", "name": "a", "size": "1"},
    {"command": "upload", "name": "a", "size": 2**63},
    {"command": "upload", "name": "a", "size": 1, "type": "html"},
    {"command": "upload", "name": "a", "size": 1, "type": "text/html\r\nX: y"},
    {"command": "upload", "name": "a", "size": 1, "type": 5},
])
def test_ill_formed_uploads_are_refused(obj: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        decode(**obj)


def test_a_send_may_carry_files_and_then_no_text() -> None:
    assert decode(command="send", room=1, message="", files=["a", "b"]) == cmd.Send(
        room=1, message="", files=("a", "b"))
    assert decode(command="send", room=1, files=["a"]) == cmd.Send(room=1, message="",
                                                                  files=("a",))
    assert decode(command="send", room=1, message="hi", files=[]) == cmd.Send(room=1,
                                                                            message="hi")
    limit = [f"f{n}" for n in range(cmd.MAX_FILES_PER_MESSAGE)]
    assert decode(command="send", room=1, message="", files=limit) == cmd.Send(
        room=1, message="", files=tuple(limit))


@pytest.mark.parametrize("obj", [
    {"command": "send", "room": 1, "message": "", "files": []},
    {"command": "send", "room": 1, "message": "", "files": None},
    {"command": "send", "room": 1, "message": "x", "files": "a"},
    {"command": "send", "room": 1, "message": "x", "files": [1]},
    {"command": "send", "room": 1, "message": "x", "files": ["a/b"]},
    {"command": "send", "room": 1, "message": "x", "files": ["a", "a"]},
    {"command": "send", "room": 1, "message": "x", "files": ["x" * 65]},
    {"command": "send", "room": 1, "message": "x",
     "files": [f"f{n}" for n in range(cmd.MAX_FILES_PER_MESSAGE + 1)]},
])
def test_ill_formed_file_lists_are_refused(obj: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        decode(**obj)
