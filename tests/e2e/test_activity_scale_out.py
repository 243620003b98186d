"""Activity crosses processes: three ``multichat serve`` on one PostgreSQL and one Redis.

A viewer connected to one process hears of messages sent through another, whether
or not anyone on its own process has joined the room (a process whose sequencer
does not follow the room still tells the connections outside it).
"""

from __future__ import annotations

import pytest

from tests.e2e.test_scale_out import Cluster, cluster, seeded, send_burst  # noqa: F401 - fixtures
from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.timing import TIMEOUT

pytestmark = pytest.mark.slow


async def activity_up_to(client: ProtocolClient, seq: int) -> list[Frame]:
    """Read until the lobby's activity reaches ``seq``; return the activity frames seen."""
    await client.expect(lambda f: f.get("activity") == "1" and f["seq"] >= seq, TIMEOUT * 2)
    return [frame for frame in client.seen if frame.get("activity") == "1"]


def counted(client: ProtocolClient) -> int:
    """The messages the lobby's activity frames so far stand for."""
    return sum(frame["count"] for frame in client.seen if frame.get("activity") == "1")


async def test_a_message_sent_on_one_process_is_activity_on_the_others(
    cluster: Cluster,  # noqa: F811 - the fixture
) -> None:
    alice = await cluster.client(0, "alice")
    bob = await cluster.client(1, "bob")  # nobody on process 1 is in the lobby
    carol = await cluster.client(2, "carol")  # process 2 follows the lobby for carol ...
    dave = await cluster.client(2, "dave")  # ... and dave, beside her, is outside it
    for member in (alice, carol):
        await member.join(1)

    await alice.send(command="send", room=1, message="hello @dave", client_id="hello")
    first = (await alice.expect(lambda f: f.get("client_id") == "hello"))["seq"]
    for viewer in (bob, dave):
        frame = (await activity_up_to(viewer, first))[-1]
        assert frame == {"activity": "1", "seq": first, "username": "alice",
                         "mention": viewer is dave, "count": 1}

    # A burst through two processes: folded, and the last seq reaches every viewer.
    await send_burst(alice, "a", 30)
    await send_burst(carol, "c", 30)
    last = max([(await alice.expect(lambda f: f.get("client_id") == "a-29"))["seq"],
                (await carol.expect(lambda f: f.get("client_id") == "c-29"))["seq"]])
    assert last == first + 60
    for viewer in (bob, dave):
        frames = await activity_up_to(viewer, last)
        seqs = [frame["seq"] for frame in frames]
        assert seqs == sorted(set(seqs)) and seqs[-1] == last and len(seqs) < 61
        # Every message counted once, across the two processes' events (the unread count);
        # an event that came late to this process is counted at the tick after.
        if counted(viewer) < 61:
            await viewer.expect(
                lambda _f, v=viewer: counted(v) >= 61, TIMEOUT * 2)  # type: ignore[misc]
        assert counted(viewer) == 61
    assert [f for f in (*alice.seen, *carol.seen) if "activity" in f] == []
