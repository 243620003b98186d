"""The ASGI application daphne runs: every WebSocket goes to the seed's consumer."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.channels_peer.settings")

import django

django.setup()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from bench.channels_peer.consumer import ChatConsumer  # noqa: E402

application = ProtocolTypeRouter({"websocket": ChatConsumer.as_asgi()})
