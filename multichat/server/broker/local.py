"""The in-process broker: one server process, no network between publish and deliver."""

from __future__ import annotations

from multichat.server.broker.base import BrokerListener, DeliverFn, SharedPresence


class LocalBroker:
    ordered = True
    presence: SharedPresence | None = None

    def __init__(self) -> None:
        self._deliver: DeliverFn | None = None

    async def start(self, deliver: DeliverFn, listener: BrokerListener | None = None) -> None:
        self._deliver = deliver

    def publish(self, room_id: int, seq: int | None, data: bytes, version: int) -> None:
        if self._deliver is None:
            raise RuntimeError("publish before start")
        self._deliver(room_id, seq, data, version)

    def notify_changes(self) -> None:
        """Nothing to tell: there is no other process."""

    def publish_user(self, user_id: int, data: bytes) -> None:
        """Nothing to send: there is no other process."""

    async def close(self) -> None:
        self._deliver = None
