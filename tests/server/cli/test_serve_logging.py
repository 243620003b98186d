"""The serve log's last guard: a secret that an exception's words carry is blanked.

``-v`` never turns on the loggers that write frames or queries (tests/e2e/test_log_secrets.py
shows the whole log clean); these tests are about what is left: an error's message, which
can quote what it failed on. Real errors from real PostgreSQL, Argon2 and tokens.
"""

from __future__ import annotations

import logging

import psycopg
import pytest

from multichat.server.chat.passwords import cheap_passwords
from multichat.server.chat.tokens import new_token, token_hash
from multichat.server.cli.serve import RedactingFormatter

FORMAT = "%(levelname)s %(message)s"


def record(message: str, *args: object, error: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(error), error, error.__traceback__) if error else None
    return logging.LogRecord("multichat.test", logging.ERROR, __file__, 1, message, args,
                             exc_info)


def logged(message: str, *args: object, error: BaseException | None = None) -> str:
    """The line(s) the serve log writes for this record, traceback included."""
    return RedactingFormatter(FORMAT).format(record(message, *args, error=error))


def raised(error: BaseException) -> BaseException:
    """``error`` with a traceback, as a log call's exc_info has it."""
    try:
        raise error
    except BaseException as caught:  # returned, not swallowed
        return caught


def test_the_row_postgresql_quotes_back_in_an_error_is_not_logged(postgres_url: str) -> None:
    text, password_hash = "a staff-only secret", cheap_passwords().hash("pw")
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("CREATE TABLE note (body text UNIQUE, hash text, n int NOT NULL)")
        db.execute("INSERT INTO note VALUES ('the body', 'h', 1)")
        failures = []
        for row in ((text, password_hash, None), ("the body", "h", 2)):
            with pytest.raises(psycopg.IntegrityError) as failed:
                db.execute("INSERT INTO note VALUES (%s, %s, %s)", row)
            failures.append(failed.value)
    assert text in str(failures[0]) and "the body" in str(failures[1])  # what is at stake

    line = logged("storing 1 message(s) failed: %s", failures[0], error=failures[0])
    line += logged("store error on user.create: %s", failures[1], error=failures[1])
    assert text not in line and "the body" not in line
    assert password_hash not in line and password_hash.split("$")[-1] not in line
    assert "violates not-null constraint" in line and "Failing row contains" in line
    assert "violates unique constraint" in line and "Key (body)=" in line


def test_hashes_and_tokens_in_an_exceptions_words_are_not_logged() -> None:
    token, password_hash = new_token(), cheap_passwords().hash("a password")
    # As peewee's query log and errors show parameters: a tuple's repr.
    error = raised(ValueError(("INSERT INTO token ...", [7, token_hash(token), password_hash])))
    line = logged("unexpected error on login from %r, token %s", "<Session>", token,
                  error=error)
    for secret in (token, token_hash(token), password_hash, *password_hash.split("$")[-2:]):
        assert secret not in line
    assert "INSERT INTO token" in line and "ValueError" in line


def test_ordinary_lines_are_written_as_they_are() -> None:
    fingerprint = ":".join(["AB"] * 32)  # SHA-256, as the TLS line shows it
    error = raised(RuntimeError("database is locked"))
    lines = [
        ("Multichat %s listening on %s (on this network: %s; database %s)",
         ("1.0", "0.0.0.0:8765", "ws://192.168.1.20:8765",
          "postgresql://chat:***@db.example/chat")),
        ("TLS certificate %s, SHA-256 fingerprint %s", ("/data/tls/cert.pem", fingerprint)),
        ("%s logged in from %s", ("alice", "127.0.0.1")),
        ("storing %d message(s) failed: %s", (3, error)),
    ]
    for message, args in lines:
        exc = error if isinstance(args[-1], BaseException) else None
        plain = logging.Formatter(FORMAT).format(record(message, *args, error=exc))
        assert logged(message, *args, error=exc) == plain
