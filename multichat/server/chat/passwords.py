"""Password hashing with Argon2id (argon2-cffi).

Hashing costs tens of milliseconds on purpose; callers run it on a thread.
Verifying an unknown user's login against a dummy hash keeps the time of a
failed login the same whether or not the user exists.
"""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hashes and checks passwords with one Argon2id parameter set."""

    def __init__(self, parameters: argon2.Parameters | None = None) -> None:
        params = parameters or argon2.profiles.RFC_9106_LOW_MEMORY
        self._hasher = argon2.PasswordHasher.from_parameters(params)
        # What an unknown user's login is checked against: made with the same
        # parameters as every new hash, so it costs the same to verify.
        self.dummy_hash = self._hasher.hash("not a password anyone has")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; ``None`` (no such user) costs the same and fails."""
        try:
            ok = self._hasher.verify(password_hash or self.dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def cheap_passwords() -> Passwords:
    """The cheapest Argon2id parameters: for tests and benchmarks, never for real accounts."""
    return Passwords(argon2.profiles.CHEAPEST)
