"""The DNS-SD record: instance names, host names, the URL a found server is reached at."""

from __future__ import annotations

from multichat.lan import Announcement, FoundServer, instance_name, server_host_name


def test_instance_names_are_valid_labels() -> None:
    assert instance_name("chat.example.org", 8765) == "chat example org :8765"
    assert len(instance_name("x" * 100, 8765).encode()) <= 63


def test_a_found_server_is_reached_at_its_first_ipv4_address() -> None:
    found = FoundServer("k", "n", ("fd00::2", "192.0.2.2"), 8765, True, None, "", "/")
    assert found.url == "wss://192.0.2.2:8765"
    v6 = FoundServer("k", "n", ("fd00::2",), 8765, False, None, "", "/chat/")
    assert v6.url == "ws://[fd00::2]:8765/chat/"


def test_each_server_on_a_host_names_a_host_of_its_own() -> None:
    loopback = Announcement("Chat", 8765, ("127.0.0.1",), False, None)
    lan = Announcement("Chat", 8765, ("192.0.2.2",), False, None)
    other_port = Announcement("Chat", 9000, ("127.0.0.1",), False, None)
    names = {server_host_name(a) for a in (loopback, lan, other_port)}
    assert len(names) == 3
    for name in names:
        label, _, domain = name.partition(".")
        assert domain == "local." and 0 < len(label.encode()) <= 63
    # Restarted where it was, a server names the same host again.
    assert server_host_name(Announcement("Renamed", 8765, ("127.0.0.1",), True, "AB")) == \
        server_host_name(loopback)
