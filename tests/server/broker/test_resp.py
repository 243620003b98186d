"""The subscription's reader (broker/resp.py): Redis's bytes, however the socket cuts them."""

from __future__ import annotations

import pytest

from multichat.server.broker.resp import MAX_LENGTH, PushReader, RespError, Value, command

CHANNEL = b"multichat:events"


def pushed(channel: bytes, payload: bytes) -> bytes:
    return command("message", channel, payload)


STREAM = b"".join([
    b"*3\r\n$9\r\nsubscribe\r\n$16\r\n" + CHANNEL + b"\r\n:1\r\n",  # the confirmation
    pushed(CHANNEL, b"E\x1fone"),
    pushed(CHANNEL, b""),
    pushed(CHANNEL, b"with\r\n$3\r\nlines\r\n inside" * 3),
    b"*2\r\n$4\r\npong\r\n$0\r\n\r\n",
    pushed(b"elsewhere", b"not ours"),
    b"-ERR something\r\n",
    pushed(CHANNEL, "é ✓ 💬".encode() * 1000),
])


def read(chunks: list[bytes]) -> tuple[list[bytes], list[object]]:
    """The payloads and the other replies (an error as its words, to compare)."""
    messages: list[bytes] = []
    others: list[object] = []

    def other(value: Value) -> None:
        others.append(("error", str(value)) if isinstance(value, RespError) else value)

    reader = PushReader(CHANNEL, messages.append, other)
    for chunk in chunks:
        reader.feed(chunk)
    return messages, others


def test_pushes_are_cut_out_and_other_replies_read_whole() -> None:
    messages, others = read([STREAM])
    assert messages == [b"E\x1fone", b"", b"with\r\n$3\r\nlines\r\n inside" * 3,
                        "é ✓ 💬".encode() * 1000]
    assert others[0] == [b"subscribe", CHANNEL, 1]
    assert others[1] == [b"pong", b""]
    assert others[2] == [b"message", b"elsewhere", b"not ours"]
    assert others[3] == ("error", "ERR something")


def test_the_same_whatever_the_reads_cut() -> None:
    whole = read([STREAM])
    for cut in range(1, len(STREAM)):
        assert read([STREAM[:cut], STREAM[cut:]]) == whole, cut
    assert read([STREAM[i:i + 1] for i in range(len(STREAM))]) == whole


def test_a_length_past_the_bound_is_refused_not_buffered() -> None:
    """A forged or corrupt length would otherwise make the reader wait for (and
    buffer) up to that many bytes; it raises, and the link is dropped and refilled."""
    for stream in (b"*3\r\n$7\r\nmessage\r\n$16\r\n" + CHANNEL + b"\r\n$%d\r\n" % (MAX_LENGTH + 1),
                   b"$%d\r\n" % (MAX_LENGTH + 1), b"*%d\r\n" % (MAX_LENGTH + 1)):
        reader = PushReader(CHANNEL, lambda payload: None, lambda value: None)
        with pytest.raises(RespError, match="past"):
            reader.feed(stream)
