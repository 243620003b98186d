"""What the server keeps on disk is its owner's alone, whatever the umask.

The data dir is 0700; the database, its ``-wal`` and ``-shm``, and the TLS key and
certificate are 0600, their directory 0700: when ``multichat serve``, ``multichat admin``
or the app's hosted server make them, and when an older version left them looser. Each
test sets the umask of most systems (022, which made them 0755 and 0644) and reads the
modes with stat: the tests run as root, which reads any file whatever its mode.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from multichat.desktop.services.hosting import ServerThread
from multichat.server.config import ServerConfig
from multichat.server.store.database import DATABASE_FILENAME
from multichat.server.store.repository import Store
from tests.helpers.process import ServerProcess, run_cli

PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


@pytest.fixture(autouse=True)
def common_umask() -> Iterator[None]:
    """umask 022, as on most systems; child processes inherit it. Restored after."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def home(isolated_home: Path) -> Path:
    return isolated_home


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(*paths: Path) -> dict[str, str]:
    """Each path's mode in octal, by its name: what the assertions compare."""
    return {path.name: f"{mode(path):04o}" for path in paths}


def database_files(data_dir: Path) -> list[Path]:
    db = data_dir / DATABASE_FILENAME
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


def admin(data_dir: Path, home: Path, *args: str, stdin: str | None = None) -> str:
    """Run ``multichat admin``; return its stderr."""
    result = run_cli(["admin", "--data-dir", str(data_dir), *args], home, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_a_new_data_dir_database_and_tls_key_are_for_their_owner_only(
        tmp_path: Path, home: Path) -> None:
    data_dir = tmp_path / "data"
    server = ServerProcess(data_dir, home, "--tls")
    try:  # -wal and -shm exist while the server has the database open
        tls = data_dir / "tls"
        assert modes(data_dir, tls) == {"data": "0700", "tls": "0700"}
        files = modes(*database_files(data_dir), tls / "key.pem", tls / "cert.pem")
        assert files == dict.fromkeys(["multichat.sqlite3", "multichat.sqlite3-wal",
                                       "multichat.sqlite3-shm", "key.pem", "cert.pem"], "0600")
    finally:
        server.kill()
    assert "made private" not in server.log()  # nothing was ever readable by others


def test_an_older_data_dir_readable_by_others_is_made_private_at_start(
        tmp_path: Path, home: Path) -> None:
    data_dir, tls = tmp_path / "data", tmp_path / "data" / "tls"
    admin(data_dir, home, "room", "add", "Lobby")
    tls.mkdir()
    # As an older version left them: a key written into a key.pem of 0644 kept that mode.
    (tls / "key.pem").write_text("an old key\n")
    for path, loose in ((data_dir, 0o755), (tls, 0o755), (tls / "key.pem", 0o644),
                        (data_dir / DATABASE_FILENAME, 0o644)):
        path.chmod(loose)
    # A -wal and -shm left behind (a killed server), open meanwhile by another reader.
    with contextlib.closing(sqlite3.connect(data_dir / DATABASE_FILENAME)) as reader:
        reader.execute("SELECT count(*) FROM room").fetchall()
        for path in database_files(data_dir)[1:]:
            path.chmod(0o644)
        server = ServerProcess(data_dir, home, "--tls")
        try:
            assert modes(data_dir, tls) == {"data": "0700", "tls": "0700"}
            assert set(modes(*database_files(data_dir), tls / "key.pem",
                             tls / "cert.pem").values()) == {"0600"}
        finally:
            server.kill()
    assert (tls / "key.pem").read_text() != "an old key\n"  # a new key, in a new 0600 file
    log = server.log()
    assert "made private" in log and f"{data_dir} (0755 -> 0700)" in log
    assert f"{data_dir / DATABASE_FILENAME} (0644 -> 0600)" in log


def test_the_admin_cli_makes_the_data_dir_private_and_tightens_an_older_one(
        tmp_path: Path, home: Path) -> None:
    data_dir, db = tmp_path / "data", tmp_path / "data" / DATABASE_FILENAME
    assert admin(data_dir, home, "user", "add", "alice", stdin="alice-pw\n") == ""
    assert (mode(data_dir), mode(db)) == (PRIVATE_DIR, PRIVATE_FILE)

    data_dir.chmod(0o755)
    db.chmod(0o644)
    said = admin(data_dir, home, "user", "list")
    assert (mode(data_dir), mode(db)) == (PRIVATE_DIR, PRIVATE_FILE)
    assert "made private" in said and f"{db} (0644 -> 0600)" in said
    assert admin(data_dir, home, "user", "list") == ""  # said once, when it did it


def test_a_database_given_by_url_and_its_wal_are_private(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'chat.db'}")
    try:
        store.create_room("Lobby")  # a write: the -wal and -shm exist now
        db = tmp_path / "chat.db"
        assert {mode(p) for p in (db, tmp_path / "chat.db-wal", tmp_path / "chat.db-shm")} == {
            PRIVATE_FILE}
    finally:
        store.close()


def test_a_store_opened_on_a_data_dir_makes_it_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    store = Store.open_data_dir(data_dir)
    store.close()
    assert (mode(data_dir), mode(data_dir / DATABASE_FILENAME)) == (PRIVATE_DIR, PRIVATE_FILE)


def test_the_apps_hosted_server_keeps_its_data_dir_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "hosted"
    host = ServerThread(ServerConfig(host="127.0.0.1", port=0, data_dir=data_dir, tls=True,
                                     advertise=False))
    host.start()
    try:
        tls = data_dir / "tls"
        assert {mode(p) for p in (data_dir, tls)} == {PRIVATE_DIR}
        assert {mode(p) for p in (*database_files(data_dir), tls / "key.pem")} == {PRIVATE_FILE}
    finally:
        host.stop()
