"""The wire protocol, pure: codes, typed commands and their decoder, frame builders.

No asyncio, Qt or peewee here; the desktop client imports this package too.
"""

from multichat.protocol.codes import ANNOUNCEMENT_TYPES, CloseCode, ErrorCode, MsgType
from multichat.protocol.commands import Command, ProtocolError, decode_command
from multichat.protocol.events import Frame, encode

__all__ = [
    "ANNOUNCEMENT_TYPES",
    "CloseCode",
    "Command",
    "ErrorCode",
    "Frame",
    "MsgType",
    "ProtocolError",
    "decode_command",
    "encode",
]
