"""The rule every new password follows, wherever it is set.

The decoder bounds a password's length; the admin CLI and the first admin a
hosted server creates check the whole rule here, so that no way of making an
account accepts a password another refuses. Logging in checks no rule: an
account made before the minimum keeps working. Hashing is the server's
(``server/chat/passwords.py``); this is only what a password may be.
"""

from __future__ import annotations

# NIST SP 800-63B, 5.1.1.2: at least 8 characters chosen by the person, any
# characters, no composition rules; long passphrases welcome up to the bound.
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024


def check_password(password: str) -> str:
    """``password`` if a new account or a reset may have it; ValueError saying why not."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValueError(f"the password is longer than {MAX_PASSWORD_CHARS} characters")
    return password
