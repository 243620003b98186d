"""Certificate pinning for wss:// servers: trust on first use, then only that certificate.

A LAN server's certificate is self-signed, so CAs can't vouch for it; the
person confirms its fingerprint once (the server prints it at start), and the
app then accepts that certificate and no other. A changed certificate stops
the connection before anything is sent, until the person accepts it
deliberately.
"""

from __future__ import annotations

import ssl

from websockets.asyncio.client import ClientConnection

from multichat.protocol.fingerprint import fingerprint_of_der, same_fingerprint


class Untrusted(Exception):
    """The server showed a certificate that is not the pinned one (or nothing is pinned)."""

    def __init__(self, presented: str, pinned: str | None) -> None:
        super().__init__(presented)
        self.presented = presented
        self.pinned = pinned

    def words(self, url: str) -> str:
        if self.pinned is None:
            return f"Confirm the certificate of {url} to connect."
        return (f"The certificate of {url} has changed. Nothing was sent; connect only "
                "if you know why it changed.")


def client_context() -> ssl.SSLContext:
    """TLS without CA checks: the fingerprint check below stands in for them."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def presented(connection: ClientConnection) -> str:
    """The fingerprint of the certificate the server showed on this connection."""
    ssl_object = connection.transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        raise ssl.SSLError("the server showed no certificate")
    return fingerprint_of_der(der)


def check(pinned: str | None, shown: str) -> None:
    """Raise Untrusted unless ``shown`` is the pinned fingerprint."""
    if pinned is None or not same_fingerprint(pinned, shown):
        raise Untrusted(shown, pinned)
