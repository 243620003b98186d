"""``multichat admin`` as a subprocess: every command, every refusal in one line."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from multichat.server.chat.tokens import token_hash
from multichat.server.cli.admin import AdminError, read_password
from multichat.server.store import Store
from tests.helpers.process import PYTHON_MULTICHAT, cli_env, run_cli
from tests.helpers.timing import TIMEOUT


def admin(data_dir: Path, home: Path, *args: str,
          stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(["admin", "--data-dir", str(data_dir), *args], home, stdin=stdin)


def assert_refused(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 1, result
    assert result.stderr.strip() == f"multichat: error: {words}"
    assert "Traceback" not in result.stderr


def test_users_from_creation_to_deletion(data_dir: Path, home: Path) -> None:
    created = admin(data_dir, home, "user", "add", "alice", "--superuser", stdin="s3cret-words\n")
    assert created.returncode == 0 and created.stdout == "created user alice\n"
    assert admin(data_dir, home, "user", "add", "bob", stdin="password-1\n").returncode == 0
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
    passwd = admin(data_dir, home, "user", "passwd", "bob", stdin="new-password\n")
    assert passwd.returncode == 0 and "signed out" in passwd.stdout
    assert admin(data_dir, home, "user", "delete", "bob").stdout == "deleted user bob\n"
    assert "bob" not in admin(data_dir, home, "user", "list").stdout


def test_user_refusals(data_dir: Path, home: Path) -> None:
    admin(data_dir, home, "user", "add", "alice", "--superuser", stdin="password-1\n")
    assert_refused(admin(data_dir, home, "user", "add", "alice", stdin="password-1\n"),
                   "a user named 'alice' already exists")
    assert_refused(admin(data_dir, home, "user", "add", "bad name", stdin="password-1\n"),
                   "usernames are 1 to 32 letters, digits, '.', '_' or '-': "
                   "U+0020 SPACE is not allowed")
    assert_refused(admin(data_dir, home, "user", "add", "carol", stdin="\n"),
                   "the password must have at least 8 characters")
    assert_refused(admin(data_dir, home, "user", "delete", "nobody"), "no user named 'nobody'")
    assert_refused(admin(data_dir, home, "user", "signout", "nobody"), "no user named 'nobody'")
    assert_refused(admin(data_dir, home, "user", "passwd", "nobody", stdin="x-password\n"),
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


def test_no_room_command_finds_a_direct_conversation(data_dir: Path, home: Path) -> None:
    admin(data_dir, home, "room", "add", "Lobby")
    with contextlib.closing(Store.open_data_dir(data_dir)) as store:
        alice = store.create_user("alice", "h")
        store.create_user("bob", "h")
        direct, _ = store.open_direct(alice.id, ["bob"])
    room = str(direct.room.id)
    assert admin(data_dir, home, "room", "list").stdout.splitlines() == [
        "  id  title  staff-only",
        "   1  Lobby  -",
    ]
    for args in (("rename", room, "Mine"), ("set", room, "--staff-only"), ("delete", room)):
        assert_refused(admin(data_dir, home, "room", *args), f"no room {room}")
    with contextlib.closing(Store.open_data_dir(data_dir)) as store:
        kept = store.room(direct.room.id)
        assert kept is not None and kept.title == "alice, bob" and not kept.staff_only


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

    answers = iter(["same-password", "same-password"])
    assert read_password(Terminal(), prompt=lambda _: next(answers)) == "same-password"
    answers = iter(["password-one", "password-two"])
    with pytest.raises(AdminError, match="differ"):
        read_password(Terminal(), prompt=lambda _: next(answers))
    assert read_password(io.StringIO("piped-password\nignored\n")) == "piped-password"
    with pytest.raises(AdminError, match="at least 8 characters"):
        read_password(io.StringIO("short\n"))


# -- names that deceive ------------------------------------------------------------------

FULLWIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"
ODD_TITLE = "Evil\x1b[2J\n   9  Forged  yes"
DATA = Path(__file__).resolve().parents[1] / "store" / "data"


def test_the_cli_refuses_usernames_that_would_deceive(data_dir: Path, home: Path) -> None:
    admin(data_dir, home, "user", "add", "admin", "--superuser", stdin="password-1\n")
    admin(data_dir, home, "user", "add", "alice", stdin="password-1\n")
    for name, words in [
        ("\u0430dmin", "a user named 'admin' already exists"),  # Cyrillic a
        ("Alice", "a user named 'alice' already exists"),
        (FULLWIDTH_ALICE, "a user named 'alice' already exists"),
        ("ad\u200bmin", "usernames may not contain control or format characters "
         "(U+200B ZERO WIDTH SPACE)"),
        ("ad\u202emin", "usernames may not contain control or format characters "
         "(U+202E RIGHT-TO-LEFT OVERRIDE)"),
        ("eve\x1b[2J", "usernames may not contain control or format characters (U+001B)"),
        ("eve\nadmin", "usernames may not contain control or format characters (U+000A)"),
    ]:
        assert_refused(admin(data_dir, home, "user", "add", name, stdin="password-1\n"), words)
    assert admin(data_dir, home, "user", "list").stdout.splitlines()[1:] == [
        "admin     -      yes", "alice     -      -"]
    # The same look-alikes find the account they look like.
    assert admin(data_dir, home, "user", "set", "ALICE", "--staff").stdout == (
        "alice: staff yes, superuser -\n")


def test_the_cli_refuses_titles_that_would_deceive(data_dir: Path, home: Path) -> None:
    admin(data_dir, home, "room", "add", "Lobby")
    admin(data_dir, home, "room", "add", "Garden")
    for title, words in [
        ("\u200b", "titles may not contain control or format characters "
         "(U+200B ZERO WIDTH SPACE)"),
        ("Lobby\u200b", "titles may not contain control or format characters "
         "(U+200B ZERO WIDTH SPACE)"),
        ("lobby", "a room titled 'Lobby' already exists"),
        ("L\u043ebby", "a room titled 'Lobby' already exists"),  # Cyrillic o
        ("Lo\u202ebby", "titles may not contain control or format characters "
         "(U+202E RIGHT-TO-LEFT OVERRIDE)"),
        ("\x1b[2J", "titles may not contain control or format characters (U+001B)"),
        ("Lobby\n   9  Forged  yes", "titles may not contain control or format characters "
         "(U+000A)"),
    ]:
        assert_refused(admin(data_dir, home, "room", "add", title), words)
        assert_refused(admin(data_dir, home, "room", "rename", "Garden", title), words)
    # (A NUL cannot reach a program's arguments at all: exec takes C strings.)
    assert admin(data_dir, home, "room", "list").stdout.splitlines()[1:] == [
        "   2  Garden  -", "   1  Lobby   -"]


def test_a_stored_odd_title_and_name_are_shown_escaped(data_dir: Path, home: Path) -> None:
    """Rows an older version (or another program) stored raw cannot act on the terminal."""
    admin(data_dir, home, "room", "add", "Lobby")
    with contextlib.closing(sqlite3.connect(data_dir / "multichat.sqlite3")) as con, con:
        con.execute("INSERT INTO room (title, title_key, staff_only, last_seq, created_ms) "
                    "VALUES (?, 'odd', 0, 0, 0)", (ODD_TITLE,))
        con.execute("INSERT INTO account (username, username_key, password_hash, is_staff, "
                    "is_superuser, created_ms) VALUES (?, 'odd', 'x', 0, 0, 0)",
                    ("eve\x1b]0;owned\x07\u202e",))
    rooms = admin(data_dir, home, "room", "list")
    assert rooms.returncode == 0 and "\x1b" not in rooms.stdout
    escaped = "Evil\\x1b[2J\\n   9  Forged  yes"
    width = len(escaped)
    assert rooms.stdout.splitlines() == [
        f"  id  {'title':<{width}}  staff-only",
        f"   2  {escaped}  -",  # one row: the newline did not forge a second one
        f"   1  {'Lobby':<{width}}  -",
    ]
    users = admin(data_dir, home, "user", "list")
    assert users.stdout.splitlines()[1] == "eve\\x1b]0;owned\\x07\\u202e  -      -"
    deleted = admin(data_dir, home, "room", "delete", "2")
    assert deleted.stdout == "deleted room 2 \u201cEvil\\x1b[2J\\n   9  Forged  yes\u201d\n"
    refused = admin(data_dir, home, "user", "set", "eve\x1b]0;owned\x07\u202e", "--no-staff")
    assert "\x1b" not in refused.stdout + refused.stderr


def test_check_names_lists_the_look_alikes_an_upgrade_set_aside(
    data_dir: Path, home: Path
) -> None:
    data_dir.mkdir()
    with contextlib.closing(sqlite3.connect(data_dir / "multichat.sqlite3")) as con:
        con.executescript((DATA / "v1_lookalikes.sql").read_text())
    first = admin(data_dir, home, "check-names")  # this open upgrades it, and warns
    assert first.returncode == 0, first
    listed = first.stdout.splitlines()
    assert listed == [
        "! user 'Alice' (id 3) looks like 'alice' (id 2): rename or delete one of them",
        "! user '\u0430dmin' (id 5) looks like 'admin' (id 1): rename or delete one of them",
        f"! user '{FULLWIDTH_ALICE}' (id 6) looks like 'alice' (id 2): rename or delete one of "
        "them",
        "! room 'Lobby\\u200b' (id 2) looks like 'Lobby' (id 1): rename or delete one of them",
        "! room 'lobby' (id 5) looks like 'Lobby' (id 1): rename or delete one of them",
    ]
    assert all(line[2:] in first.stderr for line in listed)  # the upgrade's warnings
    assert "\u200b" not in first.stderr and "\x1b" not in first.stdout + first.stderr
    users = admin(data_dir, home, "user", "list").stdout.splitlines()
    assert users[-3:] == listed[:3]
    # A name hard to type is reached by its id; renaming clears the mark.
    renamed = admin(data_dir, home, "user", "rename", "#5", "mallory")
    assert renamed.stdout == "user \u0430dmin is now mallory\n"
    assert_refused(admin(data_dir, home, "user", "rename", "#6", "ALICE"),
                   "a user named 'alice' already exists")
    assert admin(data_dir, home, "room", "rename", "2", "Annex").returncode == 0
    assert len(admin(data_dir, home, "check-names").stdout.splitlines()) == 3
    assert admin(data_dir, home, "user", "delete", "#3").stdout == "deleted user Alice\n"
    assert admin(data_dir, home, "user", "delete", "#6").returncode == 0
    admin(data_dir, home, "room", "delete", "5")
    assert admin(data_dir, home, "check-names").stdout == "no name looks like another\n"


def run_raw(args: list[str | bytes], home: Path, *, stdin: bytes = b"",
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """``multichat ARGS`` with arguments and stdin as bytes, as a shell could pass them."""
    return subprocess.run([*PYTHON_MULTICHAT, *args], input=stdin, capture_output=True,
                          env=env or cli_env(home), timeout=TIMEOUT * 6, check=False)


def assert_one_line_usage_error(result: subprocess.CompletedProcess[bytes], words: str) -> None:
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert stderr == f"multichat: error: {words}\n"
    assert result.stdout == b""


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["room", "add", b"caf\xe9"], "argument 6 is not valid UTF-8 text: b'caf\\xe9'"),
        (["user", "add", b"\xff\xfe"], "argument 6 is not valid UTF-8 text: b'\\xff\\xfe'"),
        (["room", "rename", "1", b"\x1b\xc3("],
         "argument 7 is not valid UTF-8 text: b'\\x1b\\xc3('"),
    ],
)
def test_invalid_utf8_in_an_admin_argument_is_one_line(
    data_dir: Path, home: Path, args: list[str | bytes], words: str
) -> None:
    assert_one_line_usage_error(run_raw(["admin", "--data-dir", str(data_dir), *args], home),
                                words)
    assert not data_dir.exists()  # refused before anything was opened


def test_invalid_utf8_in_serve_flags_or_the_environment_is_one_line(home: Path) -> None:
    assert_one_line_usage_error(run_raw(["serve", "--host", b"\xff"], home),
                                "argument 3 is not valid UTF-8 text: b'\\xff'")
    assert_one_line_usage_error(run_raw(["serve", "--data-dir", b"/tmp/\xe9t\xe9"], home),
                                "argument 3 is not valid UTF-8 text: b'/tmp/\\xe9t\\xe9'")
    env: dict[str, Any] = {**cli_env(home), "MULTICHAT_DATA_DIR": b"/tmp/\xff"}
    assert_one_line_usage_error(
        run_raw(["serve"], home, env=env),
        "the environment variable b'MULTICHAT_DATA_DIR' is not valid UTF-8 text")


@pytest.mark.parametrize("utf8_mode", ["0", "1"])  # a strict stdin, a surrogateescape one
def test_invalid_utf8_on_stdin_is_one_line(data_dir: Path, home: Path, utf8_mode: str) -> None:
    result = run_raw(["admin", "--data-dir", str(data_dir), "user", "add", "carol"], home,
                     stdin=b"p\xe4ssword\n", env=cli_env(home, PYTHONUTF8=utf8_mode))
    assert_one_line_usage_error(result, "the password is not valid UTF-8 text")
    assert "carol" not in admin(data_dir, home, "user", "list").stdout


def test_two_processes_cannot_both_create_look_alikes(postgres_url: str, home: Path) -> None:
    """Both pass the look-up at once on PostgreSQL; the unique index refuses the second."""
    run_cli(["admin", "--database", postgres_url, "room", "list"], home)  # create the schema
    for round_ in range(3):
        names = [f"twin{chr(97 + round_)}", f"TWIN{chr(65 + round_)}"]
        processes = [subprocess.Popen(
            [*PYTHON_MULTICHAT, "admin", "--database", postgres_url, "user", "add", name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=cli_env(home)) for name in names]
        outcomes = [process.communicate("password-1\n", timeout=TIMEOUT * 6)
                    for process in processes]
        codes = sorted(process.returncode for process in processes)
        assert codes == [0, 1], outcomes
        assert any("already exists" in err for _, err in outcomes), outcomes
    listed = run_cli(["admin", "--database", postgres_url, "user", "list"], home)
    assert len(listed.stdout.splitlines()) == 1 + 3


def test_files_listed_largest_first_and_deleted(data_dir: Path, home: Path) -> None:
    from multichat.protocol import MsgType
    from multichat.server.store.records import NewMessage

    with contextlib.closing(Store.open_data_dir(data_dir)) as store:
        alice = store.create_user("alice", "h")
        lobby = store.create_room("Lobby")
        for file_id, size in (("small", 3), ("large", 3000), ("odd\x1b[2J", 30)):
            store.files.begin_upload(file_id, alice.id, f"{file_id}.bin", size, "x/y",
                                     now_ms=1, quota_bytes=10**9)
            store.files.write_chunk(file_id, 0, b"x" * size, now_ms=1)
            store.files.complete(file_id, "digest")
        store.append_messages([NewMessage(lobby.id, alice.id, "alice", MsgType.MESSAGE, "",
                                          None, 1, files=("large",))])
    listed = admin(data_dir, home, "file", "list").stdout.splitlines()
    assert listed[0].split() == ["size", "id", "uploader", "messages", "name"]
    assert [line.split()[:4] for line in listed[1:]] == [
        ["3000", "large", "alice", "1"], ["30", "odd\\x1b[2J", "alice", "0"],
        ["3", "small", "alice", "0"]]
    assert len(admin(data_dir, home, "file", "list", "--limit", "1").stdout.splitlines()) == 2
    assert admin(data_dir, home, "file", "delete", "large").stdout == "deleted file large\n"
    with contextlib.closing(Store.open_data_dir(data_dir)) as store:
        assert store.files.stored_file("large") is None
        assert store.messages_before(lobby.id, None, 5)[0].files == ()
    assert_refused(admin(data_dir, home, "file", "delete", "large"), "no file large")
