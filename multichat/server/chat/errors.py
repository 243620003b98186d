"""Errors of the chat rules: each one is an error code the client is told.

ChatError               carries an ErrorCode and an optional detail for a person
"""

from __future__ import annotations

from multichat.protocol.codes import ErrorCode


class ChatError(Exception):
    """A rule said no. The edge answers ``{"error": code, "detail": ...}``."""

    def __init__(self, code: ErrorCode, detail: str | None = None) -> None:
        super().__init__(f"{code.value}: {detail}" if detail else code.value)
        self.code = code
        self.detail = detail
