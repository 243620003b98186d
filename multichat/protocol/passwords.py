"""The rule every new password follows, wherever it is set.

The decoder bounds a password's length; the admin CLI and the first admin a
hosted server creates check the whole rule here, so that no way of making an
account accepts a password another refuses. Hashing is the server's
(``server/chat/passwords.py``); this is only what a password may be.
"""

from __future__ import annotations

MAX_PASSWORD_CHARS = 1024


def check_password(password: str) -> str:
    """``password`` if a new account or a reset may have it; ValueError saying why not."""
    if not password:
        raise ValueError("the password must not be empty")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValueError(f"the password is longer than {MAX_PASSWORD_CHARS} characters")
    return password
