"""Server frames as types: every frame round-trips, and nothing the server says can crash
the client's decoder."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from multichat.protocol import events
from multichat.protocol.codes import ErrorCode, MsgType
from multichat.protocol.frames import (
    Account,
    Activity,
    Announced,
    DmOpened,
    Error,
    FileObj,
    FileStored,
    History,
    Joined,
    Left,
    LoggedIn,
    LoggedOut,
    Members,
    Pong,
    ReadMarker,
    RoomChanged,
    RoomEvent,
    RoomInfo,
    Rooms,
    SearchResults,
    ServerFrame,
    SessionTicket,
    Typing,
    Unknown,
    UploadReady,
    UserChanged,
    UserInfo,
    Users,
    decode_frame,
)

texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
refs = st.none() | texts
room_ids = st.integers(min_value=1, max_value=2**63 - 1)
seqs = st.integers(min_value=0, max_value=2**63 - 1)
room_infos = st.builds(RoomInfo, room_ids, texts, st.booleans(),
                       st.sampled_from(["room", "direct"]), seqs, seqs,
                       st.none() | st.lists(texts, max_size=4).map(
                           lambda u: tuple(sorted(u))), st.none() | seqs)
sizes = st.integers(min_value=0, max_value=2**63 - 1)
pixels = st.integers(min_value=1, max_value=100_000)
file_objs = st.builds(FileObj, texts, texts, sizes, texts,
                      st.from_regex(r"[0-9a-f]{64}", fullmatch=True)) | st.builds(
    FileObj, texts, texts, sizes, texts, st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
    pixels, pixels)
user_infos = st.builds(UserInfo, texts, st.booleans(), st.booleans())
stored_events = st.builds(
    RoomEvent, room=room_ids, message=texts, username=texts,
    msg_type=st.sampled_from([t for t in MsgType if t.is_stored]),
    seq=st.integers(min_value=1, max_value=2**63 - 1),
    ts=st.just("2026-12-06T17:09:55.000Z"), client_id=st.none() | texts,
    reply_to=st.none() | room_ids, target=st.none() | room_ids, emoji=st.none() | texts,
    on=st.none() | st.booleans(), edited=st.booleans(), deleted=st.booleans(),
    reactions=st.dictionaries(texts, st.lists(texts, max_size=3).map(tuple), max_size=3).map(
        lambda d: tuple(d.items())),
    files=st.lists(file_objs, max_size=3).map(tuple))
notices = st.builds(RoomEvent, room=room_ids, message=st.none(), username=texts,
                    msg_type=st.sampled_from([MsgType.ENTER, MsgType.LEAVE]),
                    ts=st.none() | st.just("2026-12-06T17:09:55.000Z"))
room_events = stored_events | notices

frames: st.SearchStrategy[ServerFrame] = st.one_of(
    room_events,
    st.builds(Error, st.sampled_from([c.value for c in ErrorCode]) | texts,
              st.none() | texts.filter(bool), refs),
    st.builds(Pong, refs),
    st.builds(LoggedIn, user_infos, st.none() | texts, refs),
    st.builds(SessionTicket, texts, st.integers(0, 3600), refs),
    st.builds(LoggedOut, refs),
    st.builds(Account, user_infos),
    st.builds(Rooms, st.lists(room_infos, max_size=4).map(tuple), refs),
    st.builds(Joined, room_ids, texts, refs),
    st.builds(Members, room_ids, st.lists(texts, max_size=4).map(lambda u: tuple(sorted(u)))),
    st.builds(Left, room_ids, refs),
    st.builds(History, room_ids, st.lists(stored_events, max_size=3).map(tuple), refs),
    st.builds(RoomChanged, st.sampled_from(RoomChanged.KEYS), room_infos, refs),
    st.builds(UserChanged, st.sampled_from(UserChanged.KEYS), user_infos, refs),
    st.builds(Users, st.lists(user_infos, max_size=3).map(tuple), refs),
    st.builds(Announced, stored_events, refs),
    st.builds(Typing, room_ids, texts),
    st.builds(ReadMarker, room_ids, seqs, st.none() | seqs),
    st.builds(Activity, room_ids, seqs, texts, st.booleans(), st.integers(1, 1000)),
    st.builds(DmOpened, room_infos, refs),
    st.builds(UploadReady, texts, st.integers(1, 2**20), refs),
    st.builds(FileStored, file_objs, refs),
    st.builds(SearchResults, texts, st.lists(stored_events, max_size=3).map(tuple),
              st.booleans(), st.none() | room_ids, refs),
)


@given(frames)
def test_every_frame_round_trips(frame: ServerFrame) -> None:
    assert decode_frame(frame.encode()) == frame


def test_the_servers_own_frames_decode_to_their_types() -> None:
    """The builders the server sends with, read by the client's decoder."""
    event = events.room_event(room_id=3, message="hi", username="alice",
                              msg_type=MsgType.MESSAGE, seq=7, ts_ms=1_000, client_id="c1")
    cases = {
        events.encode(event): RoomEvent(3, "hi", "alice", MsgType.MESSAGE, 7,
                                        "1970-01-01T00:00:01.000Z", "c1"),
        events.encode(events.error(ErrorCode.RATE_LIMITED, "slow down", "r")):
            Error("RATE_LIMITED", "slow down", "r"),
        events.encode(events.joined(3, "Lobby")): Joined(3, "Lobby"),
        events.encode(events.members(3, ["bob", "alice"])): Members(3, ("alice", "bob")),
        events.encode(events.typing(3, "bob")): Typing(3, "bob"),
        events.encode(events.read_marker(3, 9)): ReadMarker(3, 9),
        events.encode(events.rooms([events.room_entry(3, "Lobby", False, last_seq=9,
                                                      read_seq=4)])):
            Rooms((RoomInfo(3, "Lobby", False, "room", 9, 4),)),
        events.encode(events.activity(3, 12, "bob", True)): Activity(3, 12, "bob", True),
        events.encode(events.activity(3, 14, "bob", False, 3)): Activity(3, 14, "bob", False, 3),
        # An older server's frames: no count (one event), no unread (count it by seqs).
        b'{"activity": "3", "seq": 9, "username": "bob", "mention": false}':
            Activity(3, 9, "bob", False, 1),
        b'{"read": "3", "seq": 9}': ReadMarker(3, 9, None),
        events.encode(events.read_marker(3, 9, 2)): ReadMarker(3, 9, 2),
        events.encode(events.dm(events.room_entry(8, "bob", False, kind="direct",
                                                  members=["bob", "alice"]), "d")):
            DmOpened(RoomInfo(8, "bob", False, "direct", members=("alice", "bob")), "d"),
        events.encode(events.admin_reply("room.created", events.room_object(4, "Yard", True),
                                         "c")): RoomChanged("room.created",
                                                            RoomInfo(4, "Yard", True), "c"),
    }
    for data, frame in cases.items():
        assert decode_frame(data) == frame
    error = decode_frame(events.encode(events.error(ErrorCode.LIMIT_REACHED)))
    assert isinstance(error, Error) and error.known is ErrorCode.LIMIT_REACHED


def test_what_this_client_does_not_know_is_unknown_not_an_exception() -> None:
    for text in ("not json", "[1, 2]", '{"future": true}', "[" * 100_000,
                 '{"room": "1", "msg_type": 99, "username": "a", "message": null}'):
        assert decode_frame(text) == Unknown(text)
    frame = decode_frame('{"error": "FROM_THE_FUTURE"}')
    assert isinstance(frame, Error) and frame.known is None
    # the ref of a frame it cannot read is kept, so the request it answers can be settled
    assert decode_frame('{"join": "x", "title": 1, "ref": "r7"}') == Unknown(
        '{"join": "x", "title": 1, "ref": "r7"}', "r7")


def test_a_room_list_keeps_the_entries_this_client_can_read() -> None:
    """An entry of a newer shape (members as objects, say) is left out, not the list."""
    listed = decode_frame(json.dumps({"rooms": [
        {"id": "1", "title": "Lobby", "staff_only": False},
        {"id": "2", "title": "x", "staff_only": False, "kind": "direct",
         "members": [{"name": "bob"}]}]}))
    assert listed == Rooms((RoomInfo(1, "Lobby", False),))


def test_a_history_page_keeps_the_events_this_client_can_read() -> None:
    """A newer server's kind of event in a page leaves it out, not the page."""
    known = events.room_event(room_id=1, message="hi", username="a", msg_type=MsgType.MESSAGE,
                              seq=1, ts_ms=0)
    newer = {**known, "seq": 2, "msg_type": 42}
    page = decode_frame(events.encode(events.history(1, [known, newer], "h")))
    assert isinstance(page, History) and page.ref == "h"
    assert [event.seq for event in page.messages] == [1]


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A named function: Hypothesis reads a lambda's source to see that it recurses,
    # and sometimes misreads one (HypothesisDeprecationWarning, a failed run).
    return st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    _containers, max_leaves=12)
keys = st.sampled_from(["error", "room", "msg_type", "history", "messages", "join", "title",
                        "members", "users", "leave", "rooms", "account", "login", "token",
                        "logout", "pong", "ref", "room.created", "users", "announced",
                        "username", "seq", "ts", "id", "staff_only", "reply_to", "target",
                        "emoji", "on", "edited", "deleted", "reactions", "typing", "read",
                        "kind", "last_seq", "read_seq", "search", "results", "more", "next",
                        "upload", "file", "files", "chunk", "name", "size", "type", "sha256",
                        "width", "height"])


@given(st.dictionaries(keys, json_values, max_size=6))
def test_no_frame_of_known_keys_with_any_values_makes_the_decoder_raise(
    data: dict[str, object],
) -> None:
    decoded = decode_frame(json.dumps(data))
    assert isinstance(decoded, ServerFrame)


def test_an_old_frame_decodes_with_the_new_fields_at_their_defaults() -> None:
    frame = decode_frame('{"room": "1", "message": "hi", "username": "a", "msg_type": 0, '
                         '"seq": 1, "ts": "2026-12-06T17:09:55.000Z"}')
    assert isinstance(frame, RoomEvent)
    assert (frame.reply_to, frame.target, frame.emoji, frame.on, frame.edited, frame.deleted,
            frame.reactions) == (None, None, None, None, False, False, ())


def test_an_old_room_list_decodes_with_kind_and_seqs_at_their_defaults() -> None:
    frame = decode_frame('{"rooms": [{"id": "1", "title": "Lobby", "staff_only": false}]}')
    assert frame == Rooms((RoomInfo(1, "Lobby", False),))
    assert frame.rooms[0].kind == "room" and frame.rooms[0].last_seq == 0
    assert frame.rooms[0].read_seq == 0
    bad = '{"rooms": [{"id": "1", "title": "L", "staff_only": false, "last_seq": "9"}]}'
    assert decode_frame(bad) == Rooms(())  # the entry it can't read is left out
    assert isinstance(decode_frame('{"rooms": "none"}'), Unknown)
    assert isinstance(decode_frame('{"read": "1", "seq": null}'), Unknown)


def test_changes_and_folded_messages_decode() -> None:
    edit = decode_frame('{"room": "1", "message": "new", "username": "a", "msg_type": 6, '
                        '"seq": 4, "target": 2}')
    assert isinstance(edit, RoomEvent) and edit.msg_type is MsgType.EDIT and edit.target == 2
    page = decode_frame(json.dumps({"history": "1", "messages": [
        {"room": "1", "message": None, "username": "a", "msg_type": 0, "seq": 2,
         "deleted": True},
        {"room": "1", "message": "x", "username": "b", "msg_type": 0, "seq": 3, "reply_to": 2,
         "edited": True, "reactions": {"👍": ["a", "b"]}},
        {"room": "1", "message": "x", "username": "b", "msg_type": 0, "seq": 4,
         "reactions": {"👍": "not a list"}},
    ]}))
    assert isinstance(page, History)
    deleted, edited = page.messages  # the malformed one is left out, not the page
    assert deleted.deleted and deleted.message is None
    assert edited.edited and edited.reply_to == 2 and edited.reactions == (("👍", ("a", "b")),)


def test_search_results_decode_with_their_cursor_and_skip_what_they_cannot_read() -> None:
    hit = events.room_event(room_id=4, message="Résumé", username="a", msg_type=MsgType.MESSAGE,
                            seq=9, ts_ms=0, edited=True)
    newer = {**hit, "seq": 10, "msg_type": 42}
    page = decode_frame(events.encode(events.search_results("resume", [hit, newer], True, 123,
                                                            "s")))
    assert isinstance(page, SearchResults)
    assert (page.query, page.more, page.next, page.ref) == ("resume", True, 123, "s")
    assert [(r.room, r.seq, r.edited) for r in page.results] == [(4, 9, True)]
    assert json.loads(page.encode())["next"] == "123"  # a string on the wire
    last = decode_frame('{"search": "x", "results": [], "more": false}')
    assert last == SearchResults("x", (), False)
    for bad in ('{"search": "x", "results": [], "more": "no"}',
                '{"search": "x", "results": [], "more": true, "next": 5}',
                '{"search": "x", "results": [], "more": true, "next": "-5"}'):
        assert isinstance(decode_frame(bad), Unknown)


def test_files_frames_decode_from_what_the_server_builds() -> None:
    png = events.file_object("f1", "cat.png", 10, "image/png", "ab" * 32, width=640,
                            height=480)
    doc = events.file_object("f2", "notes.txt", 3, "text/plain", "cd" * 32)
    assert "width" not in doc  # only an image the server decoded has a size in pixels
    assert decode_frame(events.encode(events.upload_ready("f1", 65536, "u"))) == \
        UploadReady("f1", 65536, "u")
    assert decode_frame(events.encode(events.file_stored(png, "u"))) == FileStored(
        FileObj("f1", "cat.png", 10, "image/png", "ab" * 32, 640, 480), "u")
    event = events.room_event(room_id=3, message="", username="a", msg_type=MsgType.MESSAGE,
                              seq=4, ts_ms=0, files=[png, doc])
    decoded = decode_frame(events.encode(event))
    assert isinstance(decoded, RoomEvent)
    assert [file.id for file in decoded.files] == ["f1", "f2"]
    assert decoded.files[0].is_image and not decoded.files[1].is_image
    assert json.loads(decoded.encode())["files"] == [png, doc]


def test_an_event_without_files_has_no_files_key() -> None:
    event = RoomEvent(1, "hi", "a", MsgType.MESSAGE, 1)
    assert event.files == () and "files" not in json.loads(event.encode())


def test_malformed_files_frames_are_unknown() -> None:
    for bad in ('{"upload": {"id": "f", "chunk": 0}}',
                '{"upload": {"id": 5, "chunk": 10}}',
                '{"file": {"id": "f", "name": "a", "size": -1, "type": "t", "sha256": "x"}}',
                '{"file": {"id": "f", "name": "a", "size": 1, "type": "t", "sha256": "x", '
                '"width": 5}}',
                '{"room": "1", "message": "", "username": "a", "msg_type": 0, "files": "f"}'):
        assert isinstance(decode_frame(bad), Unknown), bad
