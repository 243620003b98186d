"""Files on their way to the server, each tied to the message that will carry it.

An ``Attachment`` is what the person picked, dropped or pasted: a file on disk
or bytes in memory (a pasted image), with its name, size and MIME type. An
``Upload`` is one attachment of one pending message (``client_id``): it waits
in the outbox with that message, goes when connected, one upload at a time
per connection (the protocol's binary frames carry no id), and ends with the
server's FILE_OBJ. A connection lost halfway starts that file again from the
first byte on the next one; a file already stored is not sent again. The
message goes once every one of its files is stored (``Outbox``).
"""

from __future__ import annotations

import enum
import io
import mimetypes
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from multichat.protocol.commands import DEFAULT_FILE_TYPE
from multichat.protocol.frames import FileObj


def guess_type(name: str) -> str:
    """A MIME type from the name ("image/png"), octet-stream when nothing fits."""
    kind, _encoding = mimetypes.guess_type(name, strict=False)
    return kind or DEFAULT_FILE_TYPE


def pasted_image_name(when: datetime) -> str:
    """What a pasted image is called: "Pasted image 2026-12-07 14.03.27.png" (no colons:
    they are not allowed in a file name on Windows, where it may be saved)."""
    return f"Pasted image {when:%Y-%m-%d %H.%M.%S}.png"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to send: on disk (``path``) or in memory (``data``)."""

    name: str
    size: int
    type: str
    path: Path | None = None
    data: bytes | None = None

    @classmethod
    def from_path(cls, path: Path | str) -> Attachment:
        """Raises OSError when it cannot be read (gone, a folder, no permission)."""
        path = Path(path)
        if not path.is_file():
            raise IsADirectoryError(f"{path.name} is not a file") if path.is_dir() else \
                FileNotFoundError(f"{path} does not exist")
        with path.open("rb"):
            pass  # readable now; it is read again when it goes
        return cls(path.name, path.stat().st_size, guess_type(path.name), path=path)

    @classmethod
    def from_bytes(cls, name: str, data: bytes, type: str | None = None) -> Attachment:
        return cls(name, len(data), type or guess_type(name), data=data)

    @property
    def is_image(self) -> bool:
        return self.type.startswith("image/")

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return self.path.open("rb")


class UploadState(enum.StrEnum):
    WAITING = "waiting"  # for a connection, or for the upload before it
    SENDING = "sending"
    STORED = "stored"


@dataclass(slots=True)
class Upload:
    """One attachment of one pending message, and how far it got."""

    room: str
    client_id: str  # the message that carries it
    attachment: Attachment
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: UploadState = UploadState.WAITING
    sent: int = 0  # bytes handed to the socket on the current attempt
    file: FileObj | None = None  # the server's, once stored
    ref: str | None = None  # the ``upload`` command's ref while in flight

    def as_dict(self) -> dict[str, object]:
        """What the windows show of it (``outboxChanged``)."""
        return {"key": self.key, "name": self.attachment.name, "size": self.attachment.size,
                "type": self.attachment.type, "state": self.state.value, "sent": self.sent}

    def restart(self) -> None:
        """The connection went before the file was stored: from the first byte again."""
        if self.state is not UploadState.STORED:
            self.state, self.sent, self.ref = UploadState.WAITING, 0, None
