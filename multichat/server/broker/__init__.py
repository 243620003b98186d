"""Fan-out of room events between server processes.

A ``Broker`` carries each encoded room event once to every server process
that serves the room; each process then hands the same bytes to its local
members. In one process the ``LocalBroker`` does it with a function call; the
scale-out issue adds Redis pub/sub behind the same interface. The database
stays the source of truth: a broker only notifies, clients fill gaps by seq.
"""

from multichat.server.broker.base import Broker, DeliverFn
from multichat.server.broker.local import LocalBroker

__all__ = ["Broker", "DeliverFn", "LocalBroker"]
