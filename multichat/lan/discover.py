"""``multichat discover``: the Multichat servers on this LAN, from a shell."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from zeroconf import InterfaceChoice

from multichat.lan.browser import browse
from multichat.lan.record import FoundServer

Browse = Callable[[float, Any], Coroutine[Any, Any, Sequence[FoundServer]]]

NOTHING_FOUND = """\
No Multichat server answered on this network within {seconds:g} s.
It may be that:
  - no server runs here, or it runs with --no-advertise;
  - this network drops multicast (some Wi-Fi guest networks, VPNs) or a firewall
    blocks UDP port 5353 (mDNS);
  - the server is on another subnet or behind a VPN: multicast stays in one subnet.
Connect by address instead: ws://HOST:8765 (or wss:// for a server with --tls)."""


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    parser = commands.add_parser(
        "discover", help="list the Multichat servers on this LAN",
        description="Browse the LAN for Multichat servers (DNS-SD over multicast) and list "
        "them: name, address, TLS and certificate fingerprint.")
    parser.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                        help="how long to listen for answers (default: 3)")
    parser.add_argument("--interface", action="append", default=[], metavar="ADDRESS",
                        help="browse on the interface with this address only (repeatable; "
                        "default: every interface)")
    parser.add_argument("--json", action="store_true", help="one JSON object per server")


def main(args: argparse.Namespace, *, find: Browse = browse) -> int:
    """List what ``find`` (the LAN browser) hears; ``find`` is a parameter because what a
    LAN holds is not the test's to decide (another server may be advertising)."""
    interfaces = args.interface or InterfaceChoice.All
    servers = asyncio.run(find(max(0.1, args.timeout), interfaces))
    if args.json:
        for server in servers:
            print(json.dumps({"name": server.name, "url": server.url, "tls": server.tls,
                              "fingerprint": server.fingerprint, "version": server.version,
                              "addresses": list(server.addresses)}))
        return 0
    if not servers:
        print(NOTHING_FOUND.format(seconds=args.timeout), file=sys.stderr)
        return 0
    for server in servers:
        lock = "TLS" if server.tls else "plain"
        print(f"{server.name}\t{server.url}\t{lock}\tMultichat {server.version}")
        if server.fingerprint:
            print(f"\tcertificate SHA-256 {server.fingerprint}")
    return 0
