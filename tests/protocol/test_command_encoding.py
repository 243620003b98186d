"""Commands as a client sends them: every command the server would accept round-trips."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from multichat.protocol import commands as cmd
from multichat.protocol.codes import ANNOUNCEMENT_TYPES, MsgType
from multichat.protocol.commands import Command, decode_command

refs = st.none() | st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
room_ids = st.integers(min_value=1, max_value=cmd.MAX_ID)
seqs = st.none() | st.integers(min_value=0, max_value=cmd.MAX_ID)
usernames = st.from_regex(r"[a-z][a-z0-9._-]{0,31}", fullmatch=True)
titles = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ]{0,40}[A-Za-z0-9]", fullmatch=True)
passwords = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
messages = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=60)
client_ids = st.none() | st.text(st.characters(exclude_categories=["Cs"]), min_size=1,
                                 max_size=40)
flags = st.none() | st.booleans()
file_ids = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
file_lists = st.none() | st.lists(file_ids, min_size=1, max_size=cmd.MAX_FILES_PER_MESSAGE,
                                  unique=True).map(tuple)
file_names = st.text(st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"],
                                   exclude_characters="\u202a\u202b\u202c\u202d\u202e"
                                                      "\u2066\u2067\u2068\u2069"),
                     min_size=1, max_size=40).filter(str.strip)
mime_types = st.from_regex(r"(image|text|application)/[a-z0-9][a-z0-9.+-]{0,20}",
                           fullmatch=True)
emoji = st.sampled_from(["👍", "🎉", "👨‍👩‍👧‍👦", "🇫🇷", "👍🏽", "❤️", "é", "1️⃣"])

commands: st.SearchStrategy[Command] = st.one_of(
    st.builds(cmd.Ping, ref=refs),
    st.builds(cmd.PasswordLogin, usernames, passwords, ref=refs),
    st.builds(cmd.TokenLogin, st.from_regex(r"[A-Za-z0-9_-]{43}", fullmatch=True), ref=refs),
    st.builds(cmd.Logout, ref=refs),
    st.builds(cmd.ListRooms, ref=refs),
    st.builds(cmd.Join, room_ids, seqs, ref=refs),
    st.builds(cmd.Leave, room_ids, ref=refs),
    st.builds(cmd.Send, room_ids, messages, client_ids, st.none() | room_ids, ref=refs),
    st.builds(cmd.Send, room_ids, messages | st.just(""), client_ids, st.none() | room_ids,
              file_lists.filter(bool), ref=refs),
    st.builds(cmd.Upload, file_names, st.integers(min_value=0, max_value=cmd.MAX_ID),
              mime_types, ref=refs),
    st.builds(cmd.Edit, room_ids, room_ids, messages, client_ids, ref=refs),
    st.builds(cmd.Delete, room_ids, room_ids, client_ids, ref=refs),
    st.builds(cmd.React, room_ids, room_ids, emoji, st.booleans(), client_ids, ref=refs),
    st.builds(cmd.Typing, room_ids, ref=refs),
    st.builds(cmd.Read, room_ids, st.integers(min_value=0, max_value=cmd.MAX_ID), ref=refs),
    st.builds(cmd.History, room_ids, st.none() | room_ids,
              st.integers(min_value=1, max_value=cmd.HISTORY_MAX_LIMIT),
              st.none() | room_ids, ref=refs),
    st.builds(cmd.CreateRoom, titles, st.booleans(), ref=refs),
    st.builds(cmd.UpdateRoom, room_ids, st.none() | titles, flags, ref=refs),
    st.builds(cmd.DeleteRoom, room_ids, ref=refs),
    st.builds(cmd.ListUsers, ref=refs),
    st.builds(cmd.CreateUser, usernames, passwords, st.booleans(), st.booleans(), ref=refs),
    st.builds(cmd.UpdateUser, usernames, st.none() | passwords, flags, flags, ref=refs),
    st.builds(cmd.DeleteUser, usernames, ref=refs),
    st.builds(cmd.Announce, room_ids, messages, st.sampled_from(sorted(ANNOUNCEMENT_TYPES)),
              ref=refs),
)


@given(commands)
def test_every_command_round_trips(command: Command) -> None:
    assert decode_command(command.encode()) == command


def test_a_command_is_the_json_object_the_protocol_shows() -> None:
    assert cmd.Send(room=1, message="hi", client_id="c1", ref="r").wire() == {
        "command": "send", "room": 1, "message": "hi", "client_id": "c1", "ref": "r"}
    assert cmd.Join(room=2).wire() == {"command": "join", "room": 2}  # no since: none sent
    assert cmd.Announce(room=1, message="Drill", msg_type=MsgType.ALERT).wire()[
        "msg_type"] == 2


def test_an_upload_is_the_json_object_the_protocol_shows() -> None:
    assert cmd.Upload(filename="a.png", size=3, type="image/png", ref="u").wire() == {
        "command": "upload", "name": "a.png", "size": 3, "type": "image/png", "ref": "u"}
    assert cmd.Send(room=1, message="", files=("f1", "f2")).wire() == {
        "command": "send", "room": 1, "message": "", "files": ["f1", "f2"]}
