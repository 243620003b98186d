"""Servers advertising side by side on one host are each listed at their own addresses."""

from __future__ import annotations

import secrets

import pytest

from multichat.lan import Advertiser, Announcement, Browser, FoundServer
from tests.helpers.waiting import eventually

pytestmark = pytest.mark.usefixtures("loopback_multicast")


async def test_a_record_lists_only_its_own_servers_addresses() -> None:
    tag = secrets.token_hex(3)  # other runs may advertise on this host at the same time
    loopback = Announcement(f"Loopback {tag}", 8765, ("127.0.0.1",), False, None)
    # An unrelated server on the same host, bound elsewhere (even on the same port).
    elsewhere = Announcement(f"Elsewhere {tag}", 8765, ("192.0.2.2", "2001:db8::2"), True, "AB")
    advertisers = [Advertiser(a, ["127.0.0.1"]) for a in (loopback, elsewhere)]
    found: dict[str, FoundServer] = {}
    browser = Browser(lambda server: found.__setitem__(server.name, server),
                      lambda key: None, interfaces=["127.0.0.1"])
    try:
        for advertiser in advertisers:
            advertiser.start()
        for advertiser in advertisers:
            await eventually(advertiser.registered.is_set)
        browser.start()
        await eventually(lambda: loopback.name in found and elsewhere.name in found)
    finally:
        await browser.stop()
        for advertiser in advertisers:
            await advertiser.stop()
    assert found[loopback.name].addresses == ("127.0.0.1",)
    assert found[loopback.name].url == "ws://127.0.0.1:8765"
    assert sorted(found[elsewhere.name].addresses) == ["192.0.2.2", "2001:db8::2"]
