from __future__ import annotations

from django.apps import AppConfig


class ChannelsPeerConfig(AppConfig):
    name = "bench.channels_peer"
    label = "channels_peer"
