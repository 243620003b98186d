"""Fan-out of room events between server processes.

A ``Broker`` carries each encoded room event once to every server process
that serves the room; each process then hands the same bytes to its local
members. In one process the ``LocalBroker`` does it with a function call;
``RedisBroker`` does it between processes over Redis pub/sub and shares room
presence. The database stays the source of truth: a broker only notifies,
and gaps are filled from the store by seq.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from multichat.server.broker.base import Broker, BrokerListener, DeliverFn, SharedPresence
from multichat.server.broker.local import LocalBroker

REDIS_SCHEMES = ("redis", "rediss", "unix")


def open_broker(url: str | None, *, presence_ttl: float = 15.0) -> Broker:
    """The broker a URL names: none for this process alone, ``redis://...`` for several."""
    if not url:
        return LocalBroker()
    if urlsplit(url).scheme not in REDIS_SCHEMES:
        raise ValueError(f"a broker URL starts with redis://, rediss:// or unix://, not {url!r}")
    from multichat.server.broker.redis_broker import RedisBroker  # noqa: PLC0415

    return RedisBroker(url, presence_ttl=presence_ttl)


__all__ = ["Broker", "BrokerListener", "DeliverFn", "LocalBroker", "SharedPresence",
           "open_broker"]
