"""PROXY protocol headers as nginx and HAProxy write them, built by hand for the tests.

Written from the specification (haproxy.org, doc/proxy-protocol.txt), apart from
the parser they test.
"""

from __future__ import annotations

import ipaddress
import struct

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
LOCAL, PROXY = 0x20, 0x21  # version 2 with command LOCAL or PROXY
UNSPEC, TCP4, TCP6, UNIX_STREAM = 0x00, 0x11, 0x21, 0x31


def v1(source: str, destination: str | None = None, source_port: int = 51000,
       destination_port: int = 8765) -> bytes:
    family = "TCP6" if ":" in source else "TCP4"
    destination = destination or ("::1" if family == "TCP6" else "127.0.0.1")
    return f"PROXY {family} {source} {destination} {source_port} {destination_port}\r\n".encode()


def v2(source: str | None, destination: str = "127.0.0.1", *, command: int = PROXY,
       tlvs: bytes = b"") -> bytes:
    """A v2 header; ``source`` None makes a LOCAL one (a health check) of family UNSPEC."""
    if source is None:
        body, family = b"", UNSPEC
    else:
        src, dst = ipaddress.ip_address(source), ipaddress.ip_address(destination)
        if src.version == 6 and dst.version == 4:
            dst = ipaddress.IPv6Address(f"::ffff:{dst}")
        family = TCP6 if src.version == 6 else TCP4
        body = src.packed + dst.packed + struct.pack("!HH", 51000, 8765)
    body += tlvs
    return V2_SIGNATURE + bytes([command, family]) + struct.pack("!H", len(body)) + body


def tlv(kind: int, value: bytes) -> bytes:
    return bytes([kind]) + struct.pack("!H", len(value)) + value
