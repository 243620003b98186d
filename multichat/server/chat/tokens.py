"""Session tokens: 256 random bits for the client, only their SHA-256 in the store.

A fast hash is right here: the token has full entropy, so there is nothing to
brute-force, and token logins must stay cheap.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
