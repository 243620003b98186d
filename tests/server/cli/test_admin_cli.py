"""``multichat admin`` as a subprocess: every command, every refusal in one line."""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import pytest

from multichat.server.chat.tokens import token_hash
from multichat.server.cli.admin import AdminError, read_password
from multichat.server.store import Store
from tests.helpers.process import run_cli


def admin(data_dir: Path, home: Path, *args: str,
          stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(["admin", "--data-dir", str(data_dir), *args], home, stdin=stdin)


def assert_refused(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 1, result
    assert result.stderr.strip() == f"multichat: error: {words}"
    assert "Traceback" not in result.stderr


def test_users_from_creation_to_deletion(data_dir: Path, home: Path) -> None:
    created = admin(data_dir, home, "user", "add", "alice", "--superuser", stdin="s3cret\n")
    assert created.returncode == 0 and created.stdout == "created user alice\n"
    assert admin(data_dir, home, "user", "add", "bob", stdin="pw\n").returncode == 0
    listed = admin(data_dir, home, "user", "list")
    assert listed.stdout.splitlines() == [
        "username  staff  superuser",
        "alice     -      yes",
        "bob       -      -",
    ]
    assert admin(data_dir, home, "user", "set", "bob", "--staff").stdout == (
        "bob: staff yes, superuser -\n"
    )
    with contextlib.closing(Store.open_data_dir(data_dir)) as store:
        bob = store.user("bob")
        assert bob is not None
        store.add_token(bob.id, token_hash("bobs-laptop"), expires_ms=2**62)
    signout = admin(data_dir, home, "user", "signout", "bob")
    assert signout.stdout == "bob is signed out everywhere (1 saved login(s) revoked)\n"
    with contextlib.closing(Store.open_data_dir(data_dir)) as store:
        assert store.token_owner(token_hash("bobs-laptop"), 0) is None
    passwd = admin(data_dir, home, "user", "passwd", "bob", stdin="new-pw\n")
    assert passwd.returncode == 0 and "signed out" in passwd.stdout
    assert admin(data_dir, home, "user", "delete", "bob").stdout == "deleted user bob\n"
    assert "bob" not in admin(data_dir, home, "user", "list").stdout


def test_user_refusals(data_dir: Path, home: Path) -> None:
    admin(data_dir, home, "user", "add", "alice", "--superuser", stdin="pw\n")
    assert_refused(admin(data_dir, home, "user", "add", "alice", stdin="pw\n"),
                   "a user named 'alice' already exists")
    assert_refused(admin(data_dir, home, "user", "add", "bad name", stdin="pw\n"),
                   "usernames are 1 to 32 letters, digits, '.', '_' or '-'")
    assert_refused(admin(data_dir, home, "user", "add", "carol", stdin="\n"),
                   "the password must not be empty")
    assert_refused(admin(data_dir, home, "user", "delete", "nobody"), "no user named 'nobody'")
    assert_refused(admin(data_dir, home, "user", "signout", "nobody"), "no user named 'nobody'")
    assert_refused(admin(data_dir, home, "user", "passwd", "nobody", stdin="x\n"),
                   "no user named 'nobody'")
    assert_refused(admin(data_dir, home, "user", "delete", "alice"),
                   "alice is the last superuser; make another one first")
    assert_refused(admin(data_dir, home, "user", "set", "alice", "--no-superuser"),
                   "alice is the last superuser; make another one first")


def test_rooms_from_creation_to_deletion(data_dir: Path, home: Path) -> None:
    added = admin(data_dir, home, "room", "add", "Lobby")
    assert (added.returncode, added.stdout) == (0, "1\n")
    assert admin(data_dir, home, "room", "add", "Staff", "--staff-only").stdout == "2\n"
    assert admin(data_dir, home, "room", "list").stdout.splitlines() == [
        "  id  title  staff-only",
        "   1  Lobby  -",
        "   2  Staff  yes",
    ]
    assert admin(data_dir, home, "room", "rename", "Lobby", "Hall").returncode == 0
    assert admin(data_dir, home, "room", "set", "1", "--staff-only").returncode == 0
    assert "   1  Hall   yes" in admin(data_dir, home, "room", "list").stdout
    assert admin(data_dir, home, "room", "delete", "Staff").stdout == "deleted room 2 “Staff”\n"
    assert "Staff" not in admin(data_dir, home, "room", "list").stdout


def test_room_refusals(data_dir: Path, home: Path) -> None:
    admin(data_dir, home, "room", "add", "Lobby")
    assert_refused(admin(data_dir, home, "room", "add", "Lobby"),
                   "a room titled 'Lobby' already exists")
    assert_refused(admin(data_dir, home, "room", "delete", "Nowhere"), "no room Nowhere")
    assert_refused(admin(data_dir, home, "room", "rename", "7", "X"), "no room 7")
    assert_refused(admin(data_dir, home, "room", "add", "   "), "the title must not be blank")


def test_an_unreachable_database_is_one_line(tmp_path: Path, home: Path) -> None:
    result = run_cli(["admin", "--database", f"sqlite:///{tmp_path}/missing/db.sqlite3",
                      "room", "list"], home)
    assert_refused(result, f"no such directory: {tmp_path}/missing")
    result = run_cli(["admin", "--database", "postgresql://u:topsecret@127.0.0.1:1/x",
                      "room", "list"], home)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "topsecret" not in result.stderr  # the password never reaches the screen


def test_a_newer_schema_is_refused_in_one_line(data_dir: Path, home: Path) -> None:
    import sqlite3

    admin(data_dir, home, "room", "add", "Lobby")
    with sqlite3.connect(data_dir / "multichat.sqlite3") as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    result = admin(data_dir, home, "room", "list")
    assert result.returncode == 1 and "newer than this Multichat" in result.stderr


@pytest.mark.parametrize(
    "args",
    [["--help"], ["serve", "--help"], ["admin", "--help"], ["admin", "user", "--help"],
     ["admin", "user", "add", "--help"], ["admin", "room", "--help"],
     ["admin", "room", "set", "--help"]],
)
def test_help_everywhere(args: list[str], home: Path) -> None:
    result = run_cli(args, home)
    assert result.returncode == 0 and result.stdout.startswith("usage: multichat")


def test_usage_errors_exit_2(home: Path) -> None:
    result = run_cli(["admin", "user"], home)
    assert result.returncode == 2 and "multichat: error:" in result.stderr
    result = run_cli(["serve", "--port", "eighty"], home)
    assert result.returncode == 2
    assert result.stderr.strip() == "multichat: error: --port: 'eighty' is not a valid int for port"


def test_version(home: Path) -> None:
    from multichat import __version__

    assert run_cli(["--version"], home).stdout == f"multichat {__version__}\n"


def test_password_prompt_asks_twice_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["same", "same"])
    assert read_password(Terminal(), prompt=lambda _: next(answers)) == "same"
    answers = iter(["one", "two"])
    with pytest.raises(AdminError, match="differ"):
        read_password(Terminal(), prompt=lambda _: next(answers))
    assert read_password(io.StringIO("piped\nignored\n")) == "piped"
