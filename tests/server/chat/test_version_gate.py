"""The VersionGate without a server: what passes, what waits, in what order."""

from __future__ import annotations

from multichat.server.chat.version_gate import VersionGate


class Downstream:
    def __init__(self) -> None:
        self.passed: list[bytes] = []
        self.wanted = 0
        self.overflows = 0

    def gate(self, applied: int = 5, max_held: int = 100) -> VersionGate:
        return VersionGate(lambda room, seq, data: self.passed.append(data), self.want,
                           overflowed=self.overflow, applied=applied, max_held=max_held)

    def want(self) -> None:
        self.wanted += 1

    def overflow(self) -> None:
        self.overflows += 1


def test_events_of_known_versions_pass_at_once() -> None:
    down = Downstream()
    gate = down.gate(applied=5)
    gate.offer(1, 1, b"a", 5)
    gate.offer(1, 2, b"b", 3)
    assert down.passed == [b"a", b"b"] and down.wanted == 0 and gate.holding == 0


def test_a_newer_event_waits_and_everything_after_it_keeps_its_place() -> None:
    down = Downstream()
    gate = down.gate(applied=5)
    gate.offer(1, 1, b"after the change", 6)
    gate.offer(2, None, b"a notice made before", 5)  # behind it, in arrival order
    assert down.passed == [] and down.wanted == 1 and gate.holding == 2
    gate.advance(5)  # a reconcile that had not reached it yet: still waiting, asked again
    assert down.passed == [] and down.wanted == 2
    gate.advance(6)
    assert down.passed == [b"after the change", b"a notice made before"]
    assert gate.holding == 0 and gate.applied == 6


def test_advancing_passes_what_it_can_and_asks_for_the_rest() -> None:
    down = Downstream()
    gate = down.gate(applied=1)
    for version, data in ((2, b"two"), (3, b"three"), (2, b"two again")):
        gate.offer(1, None, data, version)
    gate.advance(2)
    assert down.passed == [b"two"]  # "two again" waits behind "three"
    gate.advance(3)
    assert down.passed == [b"two", b"three", b"two again"]


def test_a_gate_that_cannot_advance_drops_its_backlog_past_the_bound() -> None:
    down = Downstream()
    gate = down.gate(applied=1, max_held=3)
    for n in range(4):
        gate.offer(1, n, b"x", 2)
    assert gate.holding == 0 and down.overflows == 1 and down.passed == []
