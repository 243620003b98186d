"""The certificate fingerprint a server prints and a client pins: part of the contract.

SHA-256 of the DER certificate as upper-case hex pairs joined by colons
(``AB:CD:...``, 95 characters), the form ``openssl x509 -fingerprint -sha256``
prints, so a person can compare it with either.
"""

from __future__ import annotations

import hashlib


def fingerprint_of_der(der: bytes) -> str:
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def same_fingerprint(a: str, b: str) -> bool:
    """Equal fingerprints, whatever the case and separators a person typed or pasted."""
    def canonical(value: str) -> str:
        return "".join(c for c in value.upper() if c in "0123456789ABCDEF")
    return canonical(a) == canonical(b) and len(canonical(a)) == 64


def for_display(fingerprint: str, pairs_per_line: int = 16) -> str:
    """The fingerprint on two lines of 16 pairs, so a dialog or label shows it whole."""
    pairs = fingerprint.split(":")
    return "\n".join(":".join(pairs[i:i + pairs_per_line])
                     for i in range(0, len(pairs), pairs_per_line))
