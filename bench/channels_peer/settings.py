"""Django settings of the peer: PostgreSQL and channels_redis from the environment, nothing else.

Persistent database connections (``CONN_MAX_AGE = None``): Django's default
of 0 would open a PostgreSQL connection for every ``send`` (Channels closes
an expired connection around each database call), which no one deploys.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

_database = urlsplit(os.environ.get("PEER_DATABASE", "postgresql://postgres@127.0.0.1/peer"))

SECRET_KEY = "bench-only, not secret"  # a benchmark peer on loopback
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["bench.channels_peer.apps.ChannelsPeerConfig"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _database.path.lstrip("/"),
        "USER": _database.username or "postgres",
        "HOST": _database.hostname or "127.0.0.1",
        "PORT": str(_database.port or 5432),
        "CONN_MAX_AGE": None,
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [os.environ.get("PEER_REDIS", "redis://127.0.0.1:6379/0")]},
    }
}
ASGI_APPLICATION = "bench.channels_peer.asgi.application"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# The seed's message type for a chat message.
MSG_TYPE_MESSAGE = 0
