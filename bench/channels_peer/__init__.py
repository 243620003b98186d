"""The Django Channels peer: the seed's multichat consumer on channels_redis, for bench/cluster.py.

A minimal Django project (settings, one model, one consumer) run by daphne:
``DJANGO_SETTINGS_MODULE=bench.channels_peer.settings daphne bench.channels_peer.asgi:application``.
Its database and Redis come from the environment (``PEER_DATABASE``, ``PEER_REDIS``).
"""
