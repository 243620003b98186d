"""wss:// with trust on first use: nothing crosses before the certificate is the pinned one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from multichat.desktop.client import ChatClient, State
from multichat.desktop.client.pinning import Untrusted, check
from multichat.desktop.services.hosting import ServerThread
from multichat.server.net import ChatServer
from tests.desktop.helpers import WAIT_MS

OTHER = ":".join(["AB"] * 32)


def tokens_issued(server: ServerThread) -> int:
    """Logins the server ever granted: each password login stores a token."""

    async def count(chat_server: ChatServer) -> int:
        store = chat_server.store
        assert store is not None
        return int(await asyncio.to_thread(
            lambda: store.db.execute_sql("SELECT COUNT(*) FROM token").fetchone()[0]))

    return server.call(count)


def test_check_accepts_only_the_pinned_fingerprint() -> None:
    shown = ":".join(["0F"] * 32)
    check(shown, shown)
    check(shown.lower().replace(":", ""), shown)  # as a person may paste it
    with pytest.raises(Untrusted) as first_use:
        check(None, shown)
    assert first_use.value.pinned is None
    with pytest.raises(Untrusted) as changed:
        check(OTHER, shown)
    assert changed.value.pinned == OTHER and changed.value.presented == shown


def test_first_use_asks_before_logging_in_then_trust_connects(
    qtbot: QtBot, tls_hosted: ServerThread, make_client: Callable[..., ChatClient]
) -> None:
    url = f"wss://127.0.0.1:{tls_hosted.port}"
    client = make_client()
    with qtbot.waitSignal(client.certificateUntrusted, timeout=WAIT_MS) as asked:
        client.open(url, "alice", password="alice-password")
    assert asked.args == [url, tls_hosted.fingerprint, ""]
    assert client.token is None and client.state is State.OFFLINE
    assert tokens_issued(tls_hosted) == 0  # the password never left
    states: list[str] = []
    client.stateChanged.connect(lambda state, _: states.append(state))

    with qtbot.waitSignal(client.loggedIn, timeout=WAIT_MS):
        client.trust(asked.args[1])
    assert client.pin == tls_hosted.fingerprint and states[-1] == "online"
    assert tokens_issued(tls_hosted) == 1


def test_a_changed_certificate_stops_before_anything_is_sent(
    qtbot: QtBot, tls_hosted: ServerThread, make_client: Callable[..., ChatClient]
) -> None:
    url = f"wss://127.0.0.1:{tls_hosted.port}"
    client = make_client()
    details: list[str] = []
    client.stateChanged.connect(lambda _, detail: details.append(detail))
    with qtbot.waitSignal(client.certificateUntrusted, timeout=WAIT_MS) as warned:
        client.open(url, "alice", password="alice-password", pin=OTHER)
    assert warned.args == [url, tls_hosted.fingerprint, OTHER]
    assert "has changed" in details[-1] and client.state is State.OFFLINE
    assert tokens_issued(tls_hosted) == 0  # nothing was sent to the changed server


def test_the_pinned_certificate_logs_in_at_once(
    qtbot: QtBot, tls_hosted: ServerThread, make_client: Callable[..., ChatClient]
) -> None:
    client = make_client()
    untrusted: list[object] = []
    client.certificateUntrusted.connect(lambda *args: untrusted.append(args))
    with qtbot.waitSignal(client.loggedIn, timeout=WAIT_MS):
        client.open(f"wss://127.0.0.1:{tls_hosted.port}", "alice", password="alice-password",
                    pin=tls_hosted.fingerprint)
    assert untrusted == []

