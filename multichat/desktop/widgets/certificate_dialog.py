"""Asking the person to trust a server's certificate: on first use, or when it changed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from multichat.protocol.fingerprint import for_display, same_fingerprint


def ask_to_trust(parent: QWidget | None, url: str, presented: str, pinned: str | None,
                 announced: str | None = None) -> bool:
    """True when the person trusts ``presented`` for ``url``; nothing was sent to it yet.

    ``announced``: the fingerprint the server's LAN record carries, when it was picked
    from the list. Anyone on the LAN can announce anything, so it is a comparison the
    dialog makes for the person, never a reason to skip asking.
    """
    box = QMessageBox(parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if pinned is None:
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Trust this server?")
        box.setText(f"This is your first connection to {url} over TLS.")
        box.setInformativeText(
            "Its certificate's fingerprint (SHA-256) is:\n\n"
            f"{for_display(presented)}\n\n"
            + _announced_words(presented, announced) +
            "Compare it with the one the server shows: the “multichat serve” command "
            "prints it when it starts, and an app that hosts the chat shows it beside "
            "its addresses. Connect only if they are the same.")
        trust = box.addButton("Trust and connect", QMessageBox.ButtonRole.AcceptRole)
    else:
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("The server's certificate has changed")
        box.setText(f"The certificate of {url} is not the one you trusted before.")
        box.setInformativeText(
            f"Trusted before:\n{for_display(pinned)}\n\nShown now:\n{for_display(presented)}\n\n"
            "This happens when the server was reinstalled or given a new certificate, "
            "and also when someone between you and the server is intercepting the "
            "connection. Nothing was sent. Accept the new certificate only if you know "
            "why it changed.")
        trust = box.addButton("Accept the new certificate", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)  # Enter never trusts by accident
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is trust


def _announced_words(presented: str, announced: str | None) -> str:
    if announced is None:
        return ""
    if same_fingerprint(announced, presented):
        return "It matches the fingerprint this server announces on the network.\n\n"
    return ("It does NOT match the fingerprint announced on the network for this server "
            f"({announced}): another machine may be answering in its place.\n\n")
