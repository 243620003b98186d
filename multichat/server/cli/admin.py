"""``multichat admin``: users and rooms of a server's database, from a shell.

It writes to the database directly, so it works with or without a server
running on it; a running server notices the change within its poll interval.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any, TextIO

from multichat.server.chat.passwords import Passwords
from multichat.server.chat.service import valid_username
from multichat.server.protocol.commands import MAX_PASSWORD_CHARS, MAX_TITLE_CHARS
from multichat.server.store import Store
from multichat.server.store.database import redact
from multichat.server.store.errors import StoreError, UnknownRoom, UnknownUser
from multichat.server.store.records import Room
from multichat.server.store.transfer import copy_database


class AdminError(Exception):
    """A refusal to report in one line (not a bug)."""


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    admin = commands.add_parser(
        "admin", help="manage users and rooms in a server's database",
        description="Manage users and rooms. Works while a server runs on the same database.",
    )
    admin.add_argument("--data-dir", metavar="DIR", help="the server's data directory")
    admin.add_argument("--database", metavar="URL", help="the server's database URL")
    what = admin.add_subparsers(dest="what", required=True,
                                metavar="{user,room,migrate-data}")

    user = what.add_parser("user", help="accounts").add_subparsers(
        dest="action", required=True, metavar="{add,list,passwd,set,delete}")
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
    """The first line of stdin when it is not a terminal; else asked twice."""
    if stdin.isatty():
        first = prompt("Password: ")
        if first != prompt("Password again: "):
            raise AdminError("the two passwords differ")
        password = first
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        raise AdminError("the password must not be empty")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AdminError(f"the password is longer than {MAX_PASSWORD_CHARS} characters")
    return password


def _find_room(store: Store, key: str) -> Room:
    room = store.room(int(key)) if key.isdigit() else None
    room = room or store.room_by_title(key)
    if room is None:
        raise UnknownRoom(key)
    return room


def _check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise AdminError("the title must not be blank")
    if len(title) > MAX_TITLE_CHARS:
        raise AdminError(f"titles are at most {MAX_TITLE_CHARS} characters")
    return title


def _keep_a_superuser(store: Store, name: str) -> None:
    user = store.user(name)
    if user is None:
        raise UnknownUser(name)
    if user.is_superuser and store.count_superusers() <= 1:
        raise AdminError(f"{name} is the last superuser; make another one first")


def _yes(flag: bool) -> str:
    return "yes" if flag else "-"


def run(store: Store, args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    """Carry out one admin command; raise AdminError or StoreError to refuse."""
    if args.what == "user":
        return _user(store, args, out, stdin)
    return _room(store, args, out)


def _user(store: Store, args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    passwords = Passwords()
    if args.action == "add":
        if not valid_username(args.name):
            raise AdminError("usernames are 1 to 32 letters, digits, '.', '_' or '-'")
        password = read_password(stdin)
        store.create_user(args.name, passwords.hash(password), is_staff=args.staff,
                          is_superuser=args.superuser)
        print(f"created user {args.name}", file=out)
    elif args.action == "list":
        users = store.users()
        width = max([8, *(len(u.username) for u in users)])
        print(f"{'username':<{width}}  staff  superuser", file=out)
        for user in users:
            print(f"{user.username:<{width}}  {_yes(user.is_staff):<5}  "
                  f"{_yes(user.is_superuser)}", file=out)
    elif args.action == "passwd":
        if store.user(args.name) is None:
            raise UnknownUser(args.name)
        store.update_user(args.name, password_hash=passwords.hash(read_password(stdin)))
        print(f"new password set for {args.name}; their sessions are signed out", file=out)
    elif args.action == "signout":
        revoked = store.revoke_user_tokens(args.name)
        print(f"{args.name} is signed out everywhere ({revoked} saved login(s) revoked)",
              file=out)
    elif args.action == "set":
        if args.staff is None and args.superuser is None:
            raise AdminError("say what to change: --staff/--no-staff, --superuser/--no-superuser")
        if args.superuser is False:
            _keep_a_superuser(store, args.name)
        user = store.update_user(args.name, is_staff=args.staff, is_superuser=args.superuser)
        print(f"{user.username}: staff {_yes(user.is_staff)}, superuser "
              f"{_yes(user.is_superuser)}", file=out)
    elif args.action == "delete":
        _keep_a_superuser(store, args.name)
        store.delete_user(args.name)
        print(f"deleted user {args.name}", file=out)
    return 0


def _room(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    if args.action == "add":
        room = store.create_room(_check_title(args.title), staff_only=args.staff_only)
        print(room.id, file=out)
    elif args.action == "list":
        rooms = store.rooms()
        width = max([5, *(len(r.title) for r in rooms)])
        print(f"{'id':>4}  {'title':<{width}}  staff-only", file=out)
        for room in rooms:
            print(f"{room.id:>4}  {room.title:<{width}}  {_yes(room.staff_only)}", file=out)
    elif args.action == "rename":
        room = store.update_room(_find_room(store, args.room).id, title=_check_title(args.title))
        print(f"room {room.id} is now “{room.title}”", file=out)
    elif args.action == "set":
        if args.staff_only is None:
            raise AdminError("say what to change: --staff-only or --no-staff-only")
        room = store.update_room(_find_room(store, args.room).id, staff_only=args.staff_only)
        print(f"room {room.id} “{room.title}”: staff-only {_yes(room.staff_only)}", file=out)
    elif args.action == "delete":
        room = store.delete_room(_find_room(store, args.room).id)
        print(f"deleted room {room.id} “{room.title}”", file=out)
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


__all__ = ["AdminError", "StoreError", "add_parser", "main", "read_password", "run"]
