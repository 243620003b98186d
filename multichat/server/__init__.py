"""The Multichat server: owns the wire protocol and everything behind it.

Layers, from the wire inwards (each imports only the ones below it):

- ``protocol``: pure codec of frames to typed commands and back; no I/O.
- ``net``: the WebSocket adapter; moves frames between sockets and ``chat``.
- ``chat``: the rules (login, rooms, send, history, admin, limits).
- ``broker``: fan-out of room events between server processes.
- ``store``: peewee models and queries behind plain dataclasses.
- ``cli``: ``multichat serve`` and ``multichat admin``.
"""
