"""Saved logins in the OS keyring: the session token, never the password.

Keyed by server and username. Where no keyring works (a headless machine's
``keyring.backends.fail``, a locked collection, no D-Bus), nothing is
remembered, the person is told once, and no secret is ever written to a file.

keyring is imported on first use: the app's first window does not wait for it
(nor for its backend discovery, see ``check_now``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

TOKEN_SERVICE = "multichat:"
PASSWORD_SERVICE = "multichat-password:"


def server_key(url: str) -> str:
    """One spelling per server: lower-case scheme and host, a path of at least "/"."""
    parts = urlsplit(url.strip())
    netloc = parts.netloc.lower()
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, "", ""))


class CredentialStore:
    """Tokens in the keyring. ``on_unavailable(reason)`` is called the first time it fails."""

    def __init__(self, on_unavailable: Callable[[str], None] | None = None, *,
                 check_now: bool = True) -> None:
        """``check_now=False`` leaves finding the keyring to the first use or ``check()``:
        keyring's backend discovery (an entry-point scan, a D-Bus probe) is work the
        app does after its first window, not before."""
        self.on_unavailable = on_unavailable
        self.unavailable_reason: str | None = None
        if check_now:
            self.check()

    def check(self) -> bool:
        """Whether a keyring works; the first time it does not, ``on_unavailable``."""
        return self._backend_ok()

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None

    def _fail(self, reason: str) -> None:
        first = self.unavailable_reason is None
        self.unavailable_reason = reason
        if first:
            log.warning("cannot use the keyring: %s", reason)
            if self.on_unavailable is not None:
                self.on_unavailable(reason)

    def _backend_ok(self) -> bool:
        import keyring  # noqa: PLC0415
        from keyring.backends import fail  # noqa: PLC0415

        if isinstance(keyring.get_keyring(), fail.Keyring):
            self._fail("no keyring service is running")
        return self.available

    def save_token(self, server: str, username: str, token: str) -> bool:
        if not self._backend_ok():
            return False
        import keyring  # noqa: PLC0415

        try:
            keyring.set_password(TOKEN_SERVICE + server_key(server), username, token)
        except Exception as exc:  # every backend error means "cannot remember"
            self._fail(f"the keyring refused to store the login ({type(exc).__name__})")
            return False
        return True

    def load_token(self, server: str, username: str) -> str | None:
        return self._read(TOKEN_SERVICE + server_key(server), username)

    def load_password(self, server: str, username: str) -> str | None:
        """A password the person stored themselves for scripted starts; we never store one."""
        return self._read(PASSWORD_SERVICE + server_key(server), username)

    def _read(self, service: str, username: str) -> str | None:
        if not self._backend_ok():
            return None
        import keyring  # noqa: PLC0415

        try:
            return keyring.get_password(service, username)
        except Exception as exc:  # a locked or broken backend: as if nothing were saved
            self._fail(f"the keyring could not be read ({type(exc).__name__})")
            return None

    def forget(self, server: str, username: str) -> None:
        if not self._backend_ok():
            return
        import keyring  # noqa: PLC0415

        try:
            keyring.delete_password(TOKEN_SERVICE + server_key(server), username)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing was saved
        except Exception as exc:
            self._fail(f"the keyring could not forget the login ({type(exc).__name__})")
