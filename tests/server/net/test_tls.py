"""TLS: a self-signed certificate made once and kept, or the operator's; wss:// end to end."""

from __future__ import annotations

import datetime
import logging
import re
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from multichat.server.chat.passwords import Passwords
from multichat.server.config import ServerConfig
from multichat.server.net import ChatServer, tls
from tests.conftest import ALICE, seed_accounts
from tests.helpers.client import ProtocolClient
from tests.helpers.process import ServerProcess, run_cli
from tests.helpers.services import wait_until

FINGERPRINT = re.compile(r"(?:[0-9A-F]{2}:){31}[0-9A-F]{2}")


def unverified() -> ssl.SSLContext:
    """A client context that accepts any certificate: these tests compare fingerprints."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def peer_fingerprint(client: ProtocolClient) -> str:
    ssl_object = client.connection.transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True)
    return tls.fingerprint_of_der(der)


def test_a_self_signed_certificate_is_made_once_and_kept(tmp_path: Path) -> None:
    first = tls.self_signed(tmp_path / "tls", "chat-host")
    assert FINGERPRINT.fullmatch(first.fingerprint)
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600  # the key is its owner's alone
    certificate = x509.load_pem_x509_certificate(first.cert.read_bytes())
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "chat-host"
    assert certificate.not_valid_after_utc > datetime.datetime.now(datetime.UTC) + \
        datetime.timedelta(days=9 * 365)
    again = tls.self_signed(tmp_path / "tls", "another-name")
    assert again.fingerprint == first.fingerprint  # kept, not made again


def test_a_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    one = tls.self_signed(tmp_path / "one")
    other = tls.self_signed(tmp_path / "other")
    with pytest.raises(tls.TlsError, match="does not belong"):
        tls.load(one.cert, other.key)


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    good = tls.self_signed(tmp_path / "good")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(tls.TlsError, match=r"garbage\.pem"):
        tls.load(garbage, good.key)
    with pytest.raises(tls.TlsError, match=r"garbage\.pem"):
        tls.load(good.cert, garbage)
    with pytest.raises(tls.TlsError, match=r"missing\.pem"):
        tls.load(tmp_path / "missing.pem", good.key)


async def test_the_server_speaks_wss_with_the_fingerprint_it_logs(
    tmp_path: Path, passwords: Passwords, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    config = ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "server", tls=True)
    server = ChatServer(config, passwords=passwords)
    await server.start()
    try:
        assert server.store is not None and server.certificate is not None
        seed_accounts(server.store, passwords)
        assert server.certificate.cert.parent == tmp_path / "server" / "tls"
        assert server.certificate.fingerprint in caplog.text
        assert server.urls() and all(url.startswith("wss://") for url in server.urls())

        client = await ProtocolClient.open(f"wss://127.0.0.1:{server.port}", ssl=unverified())
        try:
            assert peer_fingerprint(client) == server.certificate.fingerprint
            await client.login(*ALICE)
            members = await client.join(1)
            assert members["users"] == [ALICE[0]]
        finally:
            await client.close()
        # Plain WebSocket to a TLS port gets no chat at all.
        with pytest.raises(Exception):  # noqa: B017, PT011 - websockets' error, whichever it is
            await ProtocolClient.open(f"ws://127.0.0.1:{server.port}", open_timeout=5)
    finally:
        await server.stop()


async def test_a_given_certificate_and_key_are_used(tmp_path: Path, passwords: Passwords) -> None:
    own = tls.self_signed(tmp_path / "operator", "chat.example")
    config = ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "server",
                          cert=own.cert, key=own.key)
    server = ChatServer(config, passwords=passwords)
    await server.start()
    try:
        client = await ProtocolClient.open(f"wss://127.0.0.1:{server.port}", ssl=unverified())
        try:
            assert peer_fingerprint(client) == own.fingerprint
        finally:
            await client.close()
        assert not (tmp_path / "server" / "tls").exists()  # no self-signed one was made
    finally:
        await server.stop()


@pytest.mark.slow
def test_serve_prints_the_fingerprint_and_names_a_half_given_pair(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    server = ServerProcess(tmp_path / "data", home, "--tls")
    try:
        fingerprint = tls.self_signed(tmp_path / "data" / "tls").fingerprint
        wait_until(lambda: fingerprint in "".join(server.output), "the fingerprint printed")
        assert f"wss://127.0.0.1:{server.port}" in "".join(server.output)
    finally:
        server.kill()
    own = tls.self_signed(tmp_path / "own")
    result = run_cli(["serve", "--host", "127.0.0.1", "--port", "0", "--data-dir",
                      str(tmp_path / "data"), "--cert", str(own.cert)], home)
    assert result.returncode == 1
    assert "--cert and --key go together" in result.stderr
