"""The PROXY protocol parser and the X-Forwarded-For rule, bytes and strings in, no socket."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from multichat.server.net.proxy import (
    V1_MAX_BYTES,
    V2_MAX_BYTES,
    ForwardedForError,
    ProxyHeader,
    ProxyHeaderError,
    TrustedProxies,
    parse_proxy_header,
    starts_with_proxy_header,
    unix_peer,
)
from tests.server.net import proxy_headers as ph

REQUEST = b"GET / HTTP/1.1\r\nHost: chat\r\n\r\n"

VALID = [
    (ph.v1("203.0.113.7"), "203.0.113.7"),
    (ph.v1("2001:db8::7", "2001:db8::1"), "2001:db8::7"),
    (b"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", "255.255.255.255"),
    (b"PROXY UNKNOWN\r\n", None),
    (b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", None),
    (ph.v2("203.0.113.7"), "203.0.113.7"),
    (ph.v2("2001:db8::7"), "2001:db8::7"),
    (ph.v2("::ffff:203.0.113.7"), "203.0.113.7"),  # IPv4-mapped: counted as IPv4
    (ph.v2("203.0.113.7", tlvs=ph.tlv(0x01, b"h2") + ph.tlv(0x04, b"\0" * 10)), "203.0.113.7"),
    (ph.v2(None, command=ph.LOCAL), None),  # a health check speaks for the proxy
    (ph.v2(None), None),  # PROXY of family UNSPEC: the proxy's own address
    (ph.V2_SIGNATURE + bytes([ph.PROXY, ph.UNIX_STREAM]) + (216).to_bytes(2, "big")
     + b"/run/x".ljust(216, b"\0"), None),
]


@pytest.mark.parametrize(("header", "source"), VALID)
def test_a_header_gives_its_source_and_its_size_and_leaves_the_rest(
    header: bytes, source: str | None
) -> None:
    assert parse_proxy_header(header + REQUEST) == ProxyHeader(len(header), source)
    assert starts_with_proxy_header(header + REQUEST)


@pytest.mark.parametrize(("header", "source"), VALID)
def test_any_part_of_a_header_asks_for_more(header: bytes, source: str | None) -> None:
    for end in range(len(header)):
        assert parse_proxy_header(header[:end]) is None


@pytest.mark.parametrize("data", [
    REQUEST,  # a proxy that was to send a header, and did not
    b"\x16\x03\x01\x02\x00",  # a TLS hello
    b"PROXY TCP4 203.0.113.7 127.0.0.1 51000\r\n",
    b"PROXY TCP4 2001:db8::7 127.0.0.1 51000 80\r\n",
    b"PROXY TCP6 203.0.113.7 ::1 51000 80\r\n",
    b"PROXY TCP4 203.0.113.7 127.0.0.1 51000 65536\r\n",
    b"PROXY TCP4 203.0.113.7 127.0.0.1 -1 80\r\n",
    b"PROXY TCP4 203.0.113.7  127.0.0.1 51000 80\r\n",
    b"PROXY TCP4 203.0.113.07 127.0.0.1 51000 80\r\n",
    b"PROXY UDP4 203.0.113.7 127.0.0.1 51000 80\r\n",
    b"PROXY TCP4 203.0.113.7 127.0.0.1 \xd9\xa1 80\r\n",
    b"PROXY " + b"9" * (V1_MAX_BYTES - 6),  # no end of line where one must be
    ph.V2_SIGNATURE + bytes([0x11, ph.TCP4]) + (12).to_bytes(2, "big") + b"\0" * 12,
    ph.V2_SIGNATURE + bytes([0x22, ph.TCP4]) + (12).to_bytes(2, "big") + b"\0" * 12,
    ph.V2_SIGNATURE + bytes([ph.PROXY, 0x41]) + (12).to_bytes(2, "big") + b"\0" * 12,
    ph.V2_SIGNATURE + bytes([ph.PROXY, 0x13]) + (12).to_bytes(2, "big") + b"\0" * 12,
    ph.V2_SIGNATURE + bytes([ph.PROXY, ph.TCP4]) + (8).to_bytes(2, "big") + b"\0" * 8,
    ph.V2_SIGNATURE + bytes([ph.PROXY, ph.TCP6]) + (12).to_bytes(2, "big") + b"\0" * 12,
])
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(ProxyHeaderError):
        parse_proxy_header(data)


def test_an_oversized_v2_header_is_refused_from_its_first_16_bytes() -> None:
    length = V2_MAX_BYTES - 16 + 1
    start = ph.V2_SIGNATURE + bytes([ph.PROXY, ph.TCP4]) + length.to_bytes(2, "big")
    with pytest.raises(ProxyHeaderError, match="bytes"):
        parse_proxy_header(start)
    largest = ph.V2_SIGNATURE + bytes([ph.PROXY, ph.TCP4]) + (length - 1).to_bytes(2, "big")
    assert parse_proxy_header(largest) is None  # still waits for its body


def test_a_wrong_first_byte_is_refused_at_once() -> None:
    for data in (b"G", b"\x16", b"PROXX", b"\r\n\r\n\x01"):
        with pytest.raises(ProxyHeaderError):
            parse_proxy_header(data)


@given(st.binary(max_size=300))
def test_any_bytes_give_a_header_a_wait_or_a_refusal(data: bytes) -> None:
    try:
        header = parse_proxy_header(data)
    except ProxyHeaderError:
        return
    assert header is None or 0 < header.size <= len(data)


@given(st.sampled_from([h for h, _ in VALID]), st.binary(max_size=100))
def test_what_follows_a_header_never_changes_it(header: bytes, rest: bytes) -> None:
    assert parse_proxy_header(header + rest) == parse_proxy_header(header)


def test_only_a_header_at_the_start_is_one() -> None:
    assert not starts_with_proxy_header(REQUEST)
    assert not starts_with_proxy_header(REQUEST + ph.v1("203.0.113.7"))


# -- the settings -------------------------------------------------------------------------


def test_trusted_proxies_are_addresses_and_networks() -> None:
    proxies = TrustedProxies.parse(" 127.0.0.1, 10.0.0.0/8 ,, fd00::/8")
    assert [proxies.trusts(a) for a in ("127.0.0.1", "10.200.0.3", "fd00::1")] == [True] * 3
    assert [proxies.trusts(a) for a in ("127.0.0.2", "11.0.0.1", "::1", "unknown", "")] == [
        False] * 5
    assert proxies.trusts("::ffff:10.0.0.1")  # an IPv4 peer on a dual-stack socket
    assert not TrustedProxies.parse("").trusts("127.0.0.1")


@pytest.mark.parametrize("setting", ["localhost", "10.0.0.0/33", "127.0.0.1:80", "*"])
def test_a_bad_entry_is_named(setting: str) -> None:
    with pytest.raises(ValueError, match="is not an address or network"):
        TrustedProxies.parse(f"127.0.0.1, {setting}")


def test_proxy_protocol_needs_trusted_proxies_and_no_tls_of_the_servers_own() -> None:
    with pytest.raises(ValueError, match="needs --trusted-proxies"):
        TrustedProxies.parse("", proxy_protocol=True)
    with pytest.raises(ValueError, match="terminate TLS at the proxy"):
        TrustedProxies.parse("127.0.0.1", proxy_protocol=True, tls=True)
    assert TrustedProxies.parse("127.0.0.1", tls=True).trusts("127.0.0.1")  # XFF works with TLS


def test_a_peer_on_the_unix_socket_is_the_proxy_and_an_entry_never_names_the_socket() -> None:
    socket_peer = unix_peer("/run/multichat/8801.sock")
    for proxies in (TrustedProxies(), TrustedProxies.parse("10.0.0.0/8")):
        assert proxies.trusts(socket_peer)
        assert proxies.forwarded_client(socket_peer, ["203.0.113.66, 198.51.100.9"]) == (
            "198.51.100.9")
        assert proxies.forwarded_client(socket_peer, []) is None  # the socket's own
        assert not proxies.trusts("unix")
        with pytest.raises(ForwardedForError):  # its own name as a client: not an address
            proxies.forwarded_client(socket_peer, [socket_peer])
    assert TrustedProxies.parse("", proxy_protocol=True, unix=True).expects_proxy_header(
        socket_peer)
    assert not TrustedProxies.parse("", unix=True).expects_proxy_header(socket_peer)


def test_only_a_trusted_proxy_is_expected_to_send_a_header_and_only_with_proxy_protocol() -> None:
    assert TrustedProxies.parse("127.0.0.1", proxy_protocol=True).expects_proxy_header(
        "127.0.0.1")
    assert not TrustedProxies.parse("127.0.0.1", proxy_protocol=True).expects_proxy_header(
        "127.0.0.2")
    assert not TrustedProxies.parse("127.0.0.1").expects_proxy_header("127.0.0.1")


# -- X-Forwarded-For ------------------------------------------------------------------------

PROXIES = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8")


@pytest.mark.parametrize(("forwarded_for", "client"), [
    (["198.51.100.9"], "198.51.100.9"),
    # The client wrote the left part; the proxy appended what it saw.
    (["203.0.113.66, 198.51.100.9"], "198.51.100.9"),
    (["not an address, 198.51.100.9"], "198.51.100.9"),
    # Proxies of ours in a chain are walked past, right to left.
    (["203.0.113.66, 198.51.100.9, 10.1.2.3"], "198.51.100.9"),
    # Several headers are one list, in order.
    (["203.0.113.66", "198.51.100.9, 10.1.2.3"], "198.51.100.9"),
    # Every hop is ours: the farthest is the client.
    (["10.9.9.9, 10.1.2.3"], "10.9.9.9"),
    (["198.51.100.9:4321"], "198.51.100.9"),
    (["[2001:db8::9]:4321"], "2001:db8::9"),
    (["2001:db8::9"], "2001:db8::9"),
    (["::ffff:198.51.100.9"], "198.51.100.9"),
    ([" 198.51.100.9 "], "198.51.100.9"),
    ([], None),  # a client on the proxy's machine, straight to us: the peer is the client
])
def test_the_client_is_the_right_most_address_that_is_no_proxy_of_ours(
    forwarded_for: list[str], client: str | None
) -> None:
    assert PROXIES.forwarded_client("127.0.0.1", forwarded_for) == client


def test_from_an_untrusted_peer_x_forwarded_for_is_ignored() -> None:
    assert PROXIES.forwarded_client("127.0.0.2", ["198.51.100.9"]) is None
    assert TrustedProxies().forwarded_client("127.0.0.1", ["198.51.100.9"]) is None
    assert PROXIES.forwarded_client("127.0.0.2", ["garbage"]) is None


def test_with_the_proxy_protocol_x_forwarded_for_is_the_clients_word_and_ignored() -> None:
    proxies = TrustedProxies.parse("127.0.0.1", proxy_protocol=True)
    assert proxies.forwarded_client("127.0.0.1", ["198.51.100.9"]) is None


@pytest.mark.parametrize("forwarded_for", [
    ["unknown"], [""], ["198.51.100.9, "], ["198.51.100.9,,10.1.2.3"], ["[2001:db8::9"],
    ["2001:db8::9]:80"], ["example.com"], ["198.51.100.9, 10.1.2.3:x"],
])
def test_a_malformed_entry_where_the_client_should_be_is_an_error(
    forwarded_for: list[str]
) -> None:
    with pytest.raises(ForwardedForError, match=r"from proxy 127\.0\.0\.1 is not an address"):
        PROXIES.forwarded_client("127.0.0.1", forwarded_for)
