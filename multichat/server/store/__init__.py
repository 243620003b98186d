"""Storage: peewee models behind the Store, which hands out plain records.

SQLite in WAL mode by default, any peewee URL (PostgreSQL) to scale out.
The rest of the server sees ``Store``, ``records`` and ``errors`` only.
"""

from multichat.server.store.errors import StoreError
from multichat.server.store.repository import Store

__all__ = ["Store", "StoreError"]
