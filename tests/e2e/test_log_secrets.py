"""The server's log holds no secret at any verbosity: no password, no token or any part of
one, no Argon2 or token hash, no message text.

A real ``multichat serve`` process (``-v`` and not) goes through what carries secrets over
a real socket: password logins, a failed one, a token login, sends, ``user.create`` and
``user.update`` with a new password, ``logout``. Then its whole output (stdout and stderr)
and any log file is searched for each secret, the hashes read from its database.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import signal
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from multichat.server.store.database import DATABASE_FILENAME
from tests.helpers.client import Frame, ProtocolClient
from tests.helpers.process import ServerProcess, run_cli

pytestmark = pytest.mark.slow

LOBBY = 1


def windows(secret: str, width: int) -> Iterator[str]:
    """Every substring of ``secret`` ``width`` characters long (the whole if shorter)."""
    for start in range(max(1, len(secret) - width + 1)):
        yield secret[start:start + width]


def argon2_parts(encoded: str) -> list[str]:
    """The salt and the digest of an encoded Argon2 hash ($argon2id$v=19$m=...$SALT$HASH)."""
    return encoded.split("$")[-2:]


def stored_hashes(data_dir: Path) -> set[str]:
    """Every Argon2 hash and token hash in the database now (read beside the server)."""
    with contextlib.closing(sqlite3.connect(data_dir / DATABASE_FILENAME)) as db:
        rows = db.execute("SELECT password_hash FROM account UNION ALL "
                          "SELECT token_hash FROM token").fetchall()
    return {str(value) for (value,) in rows}


class Secrets:
    """What the log must not hold, gathered as the scenario makes it."""

    def __init__(self) -> None:
        self.passwords: list[str] = []
        self.tokens: list[str] = []
        self.texts: list[str] = []
        self.hashes: set[str] = set()

    def password(self, name: str) -> str:
        value = f"{name}-pw-{secrets.token_urlsafe(12)}"
        self.passwords.append(value)
        return value

    def text(self) -> str:
        value = f"note {secrets.token_hex(12)}"
        self.texts.append(value)
        return value

    def login(self, reply: Frame) -> None:
        assert "login" in reply, reply
        self.tokens.append(reply["login"]["token"])

    def leaks(self, log: str) -> list[str]:
        """Which secrets (or parts of them) the log holds, named by kind."""
        found = [f"password {p!r}" for p in self.passwords if p in log]
        found += [f"token part {part!r}" for token in self.tokens
                  for part in windows(token, 8) if part in log]
        found += [f"text {t!r}" for t in self.texts
                  for part in (t, t.split()[-1]) if part in log]
        token_hashes = {hashlib.sha256(t.encode()).hexdigest() for t in self.tokens}
        for value in self.hashes | token_hashes:
            found += [f"hash {value!r}"] if value in log else []
            # An Argon2 hash's "$argon2id$v=19$m=..." is the same in all: its salt and digest.
            parts = argon2_parts(value) if value.startswith("$argon2") else [value]
            found += [f"hash part {piece!r}" for part in parts
                      for piece in windows(part, 16) if piece in log]
        return found


# Each secret goes first in its frame, so that no truncation of a logged frame hides it.


async def request(client: ProtocolClient, ref: str, **frame: object) -> Frame:
    """Send a command with ``ref`` and return its reply or error (other frames are skipped)."""
    await client.send(**frame, ref=ref)
    return await client.expect(lambda f: f.get("ref") == ref)


async def login(client: ProtocolClient, username: str, password: str) -> Frame:
    return await client.request(password=password, command="login", username=username)


async def send(client: ProtocolClient, text: str) -> Frame:
    """Send to the Lobby; return the stored event (its client_id echoed) or the error."""
    tag = secrets.token_hex(4)
    await client.send(message=text, command="send", room=LOBBY, client_id=tag, ref=tag)
    return await client.expect(lambda f: tag in (f.get("client_id"), f.get("ref")))


async def go_through_everything_secret(server: ServerProcess, root_password: str,
                                       alice_password: str, found: Secrets) -> None:
    clients: list[ProtocolClient] = []

    async def client() -> ProtocolClient:
        opened = await ProtocolClient.open(server.url)
        clients.append(opened)
        return opened

    try:
        root, alice = await client(), await client()
        found.login(await login(root, "root", root_password))
        found.login(await login(alice, "alice", alice_password))
        await root.join(LOBBY)
        await alice.join(LOBBY)
        for sender in (alice, root):
            reply = await send(sender, found.text())
            assert "error" not in reply, reply

        failing = await client()  # a wrong password for a real user, and an unknown user
        for name in ("alice", "mallory"):
            reply = await login(failing, name, found.password("wrong"))
            assert reply.get("error") == "LOGIN_FAILED", reply

        again = await client()  # the app coming back with its saved token
        found.login(await again.request(token=found.tokens[1], command="login"))

        first = found.password("carol")
        reply = await request(root, "create", password=first, command="user.create",
                              username="carol")
        assert "error" not in reply, reply
        carol = await client()
        found.login(await login(carol, "carol", first))
        found.hashes |= stored_hashes(server.data_dir)  # carol's first hash, her token's
        reply = await request(root, "update", password=found.password("carol-new"),
                              command="user.update", username="carol")
        assert "error" not in reply, reply
        carol = await client()
        found.login(await login(carol, "carol", found.passwords[-1]))
        await carol.join(LOBBY)
        reply = await send(carol, found.text())
        assert "error" not in reply, reply

        found.hashes |= stored_hashes(server.data_dir)  # before logout deletes tokens
        reply = await request(alice, "bye", command="logout")
        assert "error" not in reply, reply
    finally:
        for opened in clients:
            with contextlib.suppress(Exception):
                await opened.close()


def log_files(*roots: Path) -> Iterable[Path]:
    return (path for root in roots for path in root.rglob("*.log") if path.is_file())


@pytest.mark.parametrize("verbosity", [["-v"], []], ids=["verbose", "default"])
async def test_the_server_log_holds_no_password_token_hash_or_message_text(
        tmp_path: Path, verbosity: list[str]) -> None:
    home, data_dir = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    found = Secrets()
    root_password, alice_password = found.password("root"), found.password("alice")
    for name, password, flags in (("root", root_password, ["--superuser"]),
                                  ("alice", alice_password, [])):
        added = run_cli(["admin", "--data-dir", str(data_dir), "user", "add", name, *flags],
                        home, stdin=password + "\n")
        assert added.returncode == 0, added.stderr
    added = run_cli(["admin", "--data-dir", str(data_dir), "room", "add", "Lobby"], home)
    assert added.returncode == 0, added.stderr

    server = ServerProcess(data_dir, home, *verbosity)
    try:
        await go_through_everything_secret(server, root_password, alice_password, found)
        assert server.signal(signal.SIGINT) == 0
    finally:
        server.kill()
    found.hashes |= stored_hashes(data_dir)

    log = server.log() + "".join(path.read_text(errors="replace")
                                 for path in log_files(home, data_dir))
    assert "listening on" in log  # the log was read
    assert len(found.tokens) == 5 and len(found.texts) == 3
    assert found.hashes, "no hashes were read from the database"
    leaks = found.leaks(log)
    kinds = sorted({leak.split(" ")[0] for leak in leaks})
    sample = leaks[::len(leaks) // 8 + 1]
    assert not leaks, f"{len(leaks)} leaks ({', '.join(kinds)}), e.g. {sample}"
