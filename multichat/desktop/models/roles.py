"""Role names for QML and tools: an enum member ``MentionsMe`` is named ``mentionsMe``."""

from __future__ import annotations

import enum

from PySide6.QtCore import QByteArray


def role_names(base: dict[int, QByteArray], roles: type[enum.IntEnum]) -> dict[int, QByteArray]:
    names = dict(base)
    for role in roles:
        names[int(role)] = QByteArray((role.name[0].lower() + role.name[1:]).encode())
    return names
