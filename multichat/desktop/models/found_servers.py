"""The servers found on the LAN, for the connect screen: one row each, sorted by name."""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt

from multichat.desktop.models.roles import ModelIndex, RoleListModel
from multichat.lan.record import FoundServer  # not multichat.lan: no zeroconf yet


class FoundServerRole(enum.IntEnum):
    Url = Qt.ItemDataRole.UserRole + 1
    Fingerprint = enum.auto()
    Tls = enum.auto()
    Server = enum.auto()


def _order(server: FoundServer) -> tuple[str, str]:
    return server.name.casefold(), server.url


class FoundServerModel(RoleListModel):
    ROLES = FoundServerRole

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._servers: list[FoundServer] = []

    def upsert(self, server: FoundServer) -> None:
        """A server appeared or changed (a restart on another port, a new certificate).

        A known one is updated where it is (dataChanged) or moved (rows moved), never
        removed and inserted again: a row the person selected stays selected.
        """
        old = next((i for i, s in enumerate(self._servers) if s.key == server.key), None)
        others = [s for s in self._servers if s.key != server.key]
        position = sum(1 for s in others if _order(s) < _order(server))
        if old is None:
            self.beginInsertRows(QModelIndex(), position, position)
            self._servers.insert(position, server)
            self.endInsertRows()
            return
        if self._servers[old] == server:
            return  # announced again, unchanged: nothing to repaint
        if position != old:
            # Qt's destination is the row before which it lands, counted before the move.
            destination = position + 1 if position > old else position
            self.beginMoveRows(QModelIndex(), old, old, QModelIndex(), destination)
            self._servers = [*others[:position], server, *others[position:]]
            self.endMoveRows()
        else:
            self._servers[old] = server
        index = self.index(position)
        self.dataChanged.emit(index, index)

    def remove(self, key: str) -> None:
        for position, server in enumerate(self._servers):
            if server.key == key:
                self.beginRemoveRows(QModelIndex(), position, position)
                del self._servers[position]
                self.endRemoveRows()
                return

    def servers(self) -> list[FoundServer]:
        return list(self._servers)

    def row_count(self) -> int:
        return len(self._servers)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.holds(index):
            return None
        server = self._servers[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            mark = "TLS" if server.tls else "not encrypted"
            return f"{server.name} — {server.url} · {mark}"
        if role == Qt.ItemDataRole.ToolTipRole:
            trust = (f"TLS; certificate SHA-256 {server.fingerprint}" if server.fingerprint
                     else "TLS" if server.tls else "not encrypted (ws://)")
            return f"{server.name}\n{server.url}\nMultichat {server.version}\n{trust}"
        if role == FoundServerRole.Url:
            return server.url
        if role == FoundServerRole.Fingerprint:
            return server.fingerprint or ""
        if role == FoundServerRole.Tls:
            return server.tls
        if role == FoundServerRole.Server:
            return server
        return None
