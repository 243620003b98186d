"""``multichat admin``: users, rooms and files of a server's database, from a shell.

It writes to the database directly, so it works with or without a server
running on it; a running server notices the change within its poll interval.

Names follow the server's rules (``protocol.names``), and every stored name it
prints is escaped (``names.escape_for_terminal``): a room titled with an ESC
sequence or a newline cannot clear the admin's terminal or forge a row. An
account is named by its name or, for one whose name is hard to type, by
``#ID`` (``check-names`` and ``user list`` show ids).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any, TextIO

from multichat.protocol import names
from multichat.protocol.names import escape_for_terminal as shown
from multichat.protocol.passwords import check_password
from multichat.server.chat.passwords import Passwords
from multichat.server.redact import redact
from multichat.server.store import Store, name_keys
from multichat.server.store.errors import StoreError, UnknownRoom, UnknownUser
from multichat.server.store.records import Room
from multichat.server.store.transfer import copy_database


class AdminError(Exception):
    """A refusal to report in one line (not a bug)."""


class UnreadableInput(AdminError):
    """Input that is not text (bytes that are not UTF-8): a usage error, exit code 2."""


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    admin = commands.add_parser(
        "admin", help="manage users and rooms in a server's database",
        description="Manage users and rooms. Works while a server runs on the same database.",
    )
    admin.add_argument("--data-dir", metavar="DIR", help="the server's data directory")
    admin.add_argument("--database", metavar="URL", help="the server's database URL")
    what = admin.add_subparsers(dest="what", required=True,
                                metavar="{user,room,file,check-names,migrate-data}")

    user = what.add_parser("user", help="accounts").add_subparsers(
        dest="action", required=True, metavar="{add,list,passwd,signout,set,rename,delete}")
    add = user.add_parser("add", help="create an account (password from stdin or asked twice)")
    add.add_argument("name")
    add.add_argument("--staff", action="store_true", help="may enter staff-only rooms")
    add.add_argument("--superuser", action="store_true", help="may administer the server")
    user.add_parser("list", help="list accounts")
    passwd = user.add_parser("passwd", help="set a new password; signs the user out everywhere")
    passwd.add_argument("name")
    signout = user.add_parser(
        "signout", help="sign a user out everywhere, keeping the password (a lost device)")
    signout.add_argument("name")
    flags = user.add_parser("set", help="change an account's flags")
    flags.add_argument("name")
    flags.add_argument("--staff", action=argparse.BooleanOptionalAction, default=None)
    flags.add_argument("--superuser", action=argparse.BooleanOptionalAction, default=None)
    rename = user.add_parser(
        "rename", help="give an account a new name (its messages keep the old one)")
    rename.add_argument("name", help="the account's name, or #ID")
    rename.add_argument("new_name")
    delete = user.add_parser("delete", help="delete an account (its messages stay)")
    delete.add_argument("name")

    room = what.add_parser("room", help="rooms").add_subparsers(
        dest="action", required=True, metavar="{add,list,rename,set,delete}")
    room_add = room.add_parser("add", help="create a room and print its id")
    room_add.add_argument("title")
    room_add.add_argument("--staff-only", action="store_true", help="only staff see it")
    room.add_parser("list", help="list rooms")
    rename = room.add_parser("rename", help="give a room a new title")
    rename.add_argument("room", help="the room's id or exact title")
    rename.add_argument("title")
    room_set = room.add_parser("set", help="change who may see a room")
    room_set.add_argument("room", help="the room's id or exact title")
    room_set.add_argument("--staff-only", action=argparse.BooleanOptionalAction, default=None)
    room_delete = room.add_parser("delete", help="delete a room and its messages")
    room_delete.add_argument("room", help="the room's id or exact title")

    file = what.add_parser("file", help="uploaded files").add_subparsers(
        dest="action", required=True, metavar="{list,delete}")
    file_list = file.add_parser("list", help="the largest files first, with their uploaders")
    file_list.add_argument("--limit", type=int, default=20, metavar="N",
                           help="how many to list (default 20)")
    file_delete = file.add_parser(
        "delete", help="delete a file: its bytes, its thumbnail, and it from every message")
    file_delete.add_argument("id", help="the file's id, as `file list` shows it")

    what.add_parser(
        "check-names", help="list names that look like others (set aside by an upgrade)",
        description="List the users and rooms whose names look like an older one's "
        "(case, look-alike letters): names stored before Multichat compared them. "
        "Rename or delete one of each pair.",
    )

    move = what.add_parser(
        "migrate-data", help="copy every user, room, message and token to another database",
        description="Copy a whole Multichat database (e.g. a SQLite file) into an empty one "
        "(e.g. PostgreSQL): users with their passwords, rooms, messages with their seqs, "
        "login tokens. Stop the servers on the source first.",
    )
    move.add_argument("--from", dest="source", metavar="URL", required=True,
                      help="the database to copy, e.g. sqlite:////var/lib/multichat/"
                      "multichat.sqlite3")
    move.add_argument("--to", dest="target", metavar="URL", required=True,
                      help="an empty database, e.g. postgresql://user:pw@host/multichat")


def read_password(stdin: TextIO, *, prompt: Callable[[str], str] = getpass.getpass) -> str:
    """The first line of stdin when it is not a terminal; else asked twice.

    Bytes that are not UTF-8 are refused (``UnreadableInput``), whether the
    stream raises on them or hands them over as lone surrogates
    (``surrogateescape``, Python's UTF-8 mode).
    """
    try:
        if stdin.isatty():
            first = prompt("Password: ")
            if first != prompt("Password again: "):
                raise AdminError("the two passwords differ")
            password = first
        else:
            password = stdin.readline().rstrip("\r\n")
        password.encode("utf-8")
    except UnicodeError as exc:
        raise UnreadableInput("the password is not valid UTF-8 text") from exc
    try:
        return check_password(password)
    except ValueError as exc:
        raise AdminError(str(exc)) from exc


def _find_room(store: Store, key: str) -> Room:
    """A room by id, or by title (exactly, else one that looks the same); never a direct
    conversation: no admin command reads or changes those."""
    room = store.room(int(key)) if key.isascii() and key.isdigit() else None
    if room is not None and room.is_direct:
        room = None
    room = room or store.room_by_title(key)
    if room is None:
        raise UnknownRoom(key)
    return room


def _account_name(store: Store, name: str) -> str:
    """The stored name of the account ``name`` (or ``#ID``) stands for, for the store's calls."""
    if name.startswith("#") and name[1:].isascii() and name[1:].isdigit():
        for user in store.users():
            if user.id == int(name[1:]):
                return user.username
        raise UnknownUser(name)
    return name


def _new_username(name: str) -> str:
    try:
        return names.normalize_username(name)
    except ValueError as exc:
        raise AdminError(str(exc)) from exc


def _check_title(title: str) -> str:
    try:
        return names.normalize_title(title)
    except ValueError as exc:
        raise AdminError(str(exc)) from exc


def _print_clashes(kind: str | None, out: TextIO) -> int:
    """Print the look-alikes of one kind (or all), escaped; return how many."""
    clashes = [c for c in name_keys.clashes() if kind is None or c.kind == kind]
    for clash in clashes:
        print(f"! {clash}", file=out)
    return len(clashes)


def _yes(flag: bool) -> str:
    return "yes" if flag else "-"


def run(store: Store, args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    """Carry out one admin command; raise AdminError or StoreError to refuse."""
    if args.what == "user":
        return _user(store, args, out, stdin)
    if args.what == "check-names":
        if not _print_clashes(None, out):
            print("no name looks like another", file=out)
        return 0
    if args.what == "file":
        return _file(store, args, out)
    return _room(store, args, out)


def _file(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    if args.action == "delete":
        if not store.files.delete(args.id):
            raise AdminError(f"no file {shown(args.id)}")
        print(f"deleted file {shown(args.id)}", file=out)
        return 0
    uses = store.files.largest(max(1, args.limit))
    print(f"{'size':>12}  {'id':<22}  {'uploader':<12}  {'messages':>8}  name", file=out)
    for use in uses:
        uploader = shown(use.uploader) if use.uploader is not None else "(deleted)"
        state = "" if use.complete else "  (uploading)"
        print(f"{use.record.size:>12}  {shown(use.record.id):<22}  {uploader:<12}  "
              f"{use.messages:>8}  {shown(use.record.name)}{state}", file=out)
    return 0


def _user(store: Store, args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    passwords = Passwords()
    if args.action == "add":
        name = _new_username(args.name)
        password = read_password(stdin)
        user = store.create_user(name, passwords.hash(password), is_staff=args.staff,
                                 is_superuser=args.superuser)
        print(f"created user {shown(user.username)}", file=out)
        return 0
    if args.action == "list":
        users = store.users()
        width = max([8, *(len(shown(u.username)) for u in users)])
        print(f"{'username':<{width}}  staff  superuser", file=out)
        for user in users:
            print(f"{shown(user.username):<{width}}  {_yes(user.is_staff):<5}  "
                  f"{_yes(user.is_superuser)}", file=out)
        _print_clashes("user", out)
        return 0
    name = _account_name(store, args.name)
    if args.action == "passwd":
        stored = _stored_name(store, name)
        store.update_user(name, password_hash=passwords.hash(read_password(stdin)))
        print(f"new password set for {shown(stored)}; their sessions are signed out", file=out)
    elif args.action == "signout":
        revoked = store.revoke_user_tokens(name)
        print(f"{shown(_stored_name(store, name))} is signed out everywhere ({revoked} saved "
              "login(s) revoked)", file=out)
    elif args.action == "set":
        if args.staff is None and args.superuser is None:
            raise AdminError("say what to change: --staff/--no-staff, --superuser/--no-superuser")
        # The store refuses to demote the last superuser (LastSuperuser), in one transaction.
        user = store.update_user(name, is_staff=args.staff, is_superuser=args.superuser)
        print(f"{shown(user.username)}: staff {_yes(user.is_staff)}, superuser "
              f"{_yes(user.is_superuser)}", file=out)
    elif args.action == "rename":
        old = _stored_name(store, name)
        user = store.rename_user(name, _new_username(args.new_name))
        print(f"user {shown(old)} is now {shown(user.username)}", file=out)
    elif args.action == "delete":
        user = store.delete_user(name)
        print(f"deleted user {shown(user.username)}", file=out)
    return 0


def _stored_name(store: Store, name: str) -> str:
    user = store.user(name)
    if user is None:
        raise UnknownUser(name)
    return user.username


def _room(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    if args.action == "add":
        room = store.create_room(_check_title(args.title), staff_only=args.staff_only)
        print(room.id, file=out)
    elif args.action == "list":
        rooms = store.rooms(direct=False)
        width = max([5, *(len(shown(r.title)) for r in rooms)])
        print(f"{'id':>4}  {'title':<{width}}  staff-only", file=out)
        for room in rooms:
            print(f"{room.id:>4}  {shown(room.title):<{width}}  {_yes(room.staff_only)}",
                  file=out)
        _print_clashes("room", out)
    elif args.action == "rename":
        title = _check_title(args.title)
        room = store.update_room(_find_room(store, args.room).id, title=title)
        print(f"room {room.id} is now “{shown(room.title)}”", file=out)
    elif args.action == "set":
        if args.staff_only is None:
            raise AdminError("say what to change: --staff-only or --no-staff-only")
        room = store.update_room(_find_room(store, args.room).id, staff_only=args.staff_only)
        print(f"room {room.id} “{shown(room.title)}”: staff-only {_yes(room.staff_only)}",
              file=out)
    elif args.action == "delete":
        room = store.delete_room(_find_room(store, args.room).id)
        print(f"deleted room {room.id} “{shown(room.title)}”", file=out)
    return 0


def migrate_data(source: str, target: str, out: TextIO) -> int:
    copied = copy_database(source, target, say=lambda line: print(line, file=out))
    print(f"copied {copied.users} user(s), {copied.rooms} room(s), {copied.messages} "
          f"message(s) and {copied.tokens} login token(s) to {redact(target)}", file=out)
    return 0


def main(store_url: str, args: argparse.Namespace) -> int:
    if args.what == "migrate-data":
        return migrate_data(args.source, args.target, sys.stdout)
    store = Store.open(store_url)
    try:
        return run(store, args, sys.stdout, sys.stdin)
    finally:
        store.close()


__all__ = ["AdminError", "StoreError", "UnreadableInput", "add_parser", "main", "read_password",
           "run"]
