"""What the person did that the server has not confirmed yet: messages, edits,
deletions and reactions, in the order they were done.

Each gets a ``client_id`` when made. It goes out when its room is open, and
again after every reconnect, until the server confirms it; the server stores
a (user, client_id) once, so however often it is resent nothing is stored
twice. A message is confirmed by its room event (which carries the
``client_id``). A change is confirmed the same way or, since a reaction that
changes nothing is answered by nothing, by the answer to a ``ping`` sent right
behind it (the server carries out one connection's commands in order): once
that comes, the change was carried out or had nothing to do.

Everything leaves in the order it was made, so a change always follows the
message it targets. A change to a message still in the outbox (it has no
``seq`` yet) is worked into that message where it never left this app: an edit
rewrites the pending text, a deletion drops it, and the server never hears of
either. Once the message may have reached the server (sent on a connection
that was lost before the confirmation came), the change waits behind it
(``after``) and takes the ``seq`` from the confirmation.

A message with files waits for its ``uploads`` (``uploads.py``): it goes once
each is stored, with their ids as its ``files``; until then it is not sent,
however often the connection comes back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from multichat.desktop.client.uploads import Attachment, Upload, UploadState
from multichat.protocol import commands as cmd
from multichat.protocol.frames import FileObj

OutgoingCommand = cmd.Send | cmd.Edit | cmd.Delete | cmd.React


@dataclass(slots=True)
class Pending:
    """One unconfirmed command, with its ``client_id`` set."""

    client_id: str
    room: str
    command: OutgoingCommand
    sent: bool = False  # went out on some connection: the server may have it
    # A change to a message still pending: that message's client_id, until its seq is known.
    after: str | None = None
    # The ref of the ping whose answer confirms this change; None while not in flight.
    barrier: str | None = None
    # A message's files, in the order attached; it waits until every one is stored.
    uploads: list[Upload] = field(default_factory=list)

    @property
    def is_message(self) -> bool:
        return isinstance(self.command, cmd.Send)

    @property
    def text(self) -> str:
        return self.command.message if isinstance(self.command, cmd.Send | cmd.Edit) else ""

    @property
    def waiting_for_files(self) -> bool:
        return any(upload.state is not UploadState.STORED for upload in self.uploads)

    def as_dict(self) -> dict[str, object]:
        shown: dict[str, object] = {"client_id": self.client_id, "message": self.text}
        if self.uploads:
            shown["files"] = [upload.as_dict() for upload in self.uploads]
        return shown


def _carry_files(item: Pending) -> None:
    """Every file of a message is stored: its ``send`` names them, in the order attached."""
    assert isinstance(item.command, cmd.Send)
    ids = tuple(upload.file.id for upload in item.uploads if upload.file is not None)
    item.command = replace(item.command, files=ids or None)


def new_client_id() -> str:
    return uuid.uuid4().hex


class Outbox:
    def __init__(self) -> None:
        self._pending: dict[str, Pending] = {}  # insertion order = the order things were done

    def add(self, room: str, text: str, reply_to: int | None = None,
            attachments: tuple[Attachment, ...] = ()) -> Pending:
        """A new message, with files to upload before it goes, if any."""
        client_id = new_client_id()
        command = cmd.Send(room=int(room), message=text, client_id=client_id, reply_to=reply_to)
        uploads = [Upload(room, client_id, attachment) for attachment in attachments]
        return self._put(Pending(client_id, room, command, uploads=uploads))

    # -- uploads -----------------------------------------------------------------------------

    def next_upload(self) -> Upload | None:
        """The first file not stored yet, in the order things were done."""
        return next((upload for item in self._pending.values() for upload in item.uploads
                     if upload.state is not UploadState.STORED), None)

    def upload(self, key: str) -> tuple[Pending, Upload] | None:
        for item in self._pending.values():
            for upload in item.uploads:
                if upload.key == key:
                    return item, upload
        return None

    def uploads(self) -> list[Upload]:
        return [upload for item in self._pending.values() for upload in item.uploads]

    def stored(self, upload: Upload, file: FileObj) -> Pending | None:
        """``upload`` is on the server as ``file``; its message, when that is now ready to go
        (its ``files`` set to the ids, in the order attached)."""
        upload.state, upload.file, upload.ref = UploadState.STORED, file, None
        upload.sent = upload.attachment.size
        item = self._pending.get(upload.client_id)
        if item is None or item.waiting_for_files:
            return None
        _carry_files(item)
        return item

    def drop_upload(self, key: str) -> Pending | None:
        """Take one file off its message (cancelled, or refused). Its message: removed too
        (and returned with ``uploads`` empty) when nothing is left to send, else returned
        with the rest; None when no such upload is pending."""
        found = self.upload(key)
        if found is None:
            return None
        item, upload = found
        item.uploads.remove(upload)
        if not item.uploads and not item.text.strip():
            self.remove(item.client_id)
        elif not item.waiting_for_files:
            _carry_files(item)
        return item

    def add_change(self, room: str, command: cmd.Edit | cmd.Delete | cmd.React,
                   after: str | None = None) -> Pending:
        """An edit, deletion or reaction of a stored message (or, with ``after``, of the
        pending message with that client_id, once it is stored)."""
        client_id = new_client_id()
        return self._put(Pending(client_id, room, replace(command, client_id=client_id),
                                 after=after))

    def _put(self, item: Pending) -> Pending:
        self._pending[item.client_id] = item
        return item

    def amend(self, client_id: str, text: str) -> bool:
        """Rewrite a pending message that never left; False if it may have (or is gone)."""
        item = self._pending.get(client_id)
        if item is None or item.sent or not isinstance(item.command, cmd.Send):
            return False
        item.command = replace(item.command, message=text)
        return True

    def resolve(self, client_id: str, seq: int) -> list[Pending]:
        """The message ``client_id`` was stored as ``seq``: the changes waiting behind it
        now target that seq; they are returned, ready to go."""
        ready = []
        for item in self._pending.values():
            if item.after == client_id:
                assert not isinstance(item.command, cmd.Send)
                item.command = replace(item.command, seq=seq)
                item.after = None
                ready.append(item)
        return ready

    def get(self, client_id: str) -> Pending | None:
        return self._pending.get(client_id)

    def remove(self, client_id: str) -> Pending | None:
        """Confirmed or refused: gone, and the changes waiting behind a refused message
        with it (they target nothing). The removed item, or None."""
        item = self._pending.pop(client_id, None)
        if item is not None:
            for dependent in [i for i in self._pending.values() if i.after == client_id]:
                del self._pending[dependent.client_id]
        return item

    def confirmed_by(self, barrier: str) -> list[Pending]:
        """The ping ``barrier`` was answered: the changes it follows are done; removed."""
        done = [item for item in self._pending.values() if item.barrier == barrier]
        for item in done:
            del self._pending[item.client_id]
        return done

    def for_room(self, room: str) -> list[Pending]:
        """Everything pending in a room, in the order it was done."""
        return [item for item in self._pending.values() if item.room == room]

    def messages(self, room: str) -> list[Pending]:
        return [item for item in self.for_room(room) if item.is_message]

    def drop_room(self, room: str) -> list[Pending]:
        dropped = self.for_room(room)
        for item in dropped:
            del self._pending[item.client_id]
        return dropped

    def __len__(self) -> int:
        return len(self._pending)
