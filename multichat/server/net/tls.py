"""TLS for the server: a self-signed certificate made on first use, or the operator's own.

A LAN server has no name a public CA would certify, so ``--tls`` makes a
self-signed certificate once (an EC P-256 key, ten years) and keeps it in the
data dir: clients pin it on first use, as SSH does with host keys, by its
SHA-256 fingerprint, which the server prints at start. ``--cert/--key`` take
a real certificate instead. The directory is its owner's only (0700) and so
are its files (0600): new ones are made so, older looser ones are tightened.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from multichat.protocol.fingerprint import fingerprint_of_der
from multichat.server.store.database import make_private, make_private_dir

__all__ = ["Certificate", "TlsError", "fingerprint_of_der", "load", "self_signed",
           "server_context"]

CERT_FILE, KEY_FILE = "cert.pem", "key.pem"
VALID_FOR = datetime.timedelta(days=3650)


class TlsError(Exception):
    """A certificate or key that cannot be made, read or used; the message says which."""


@dataclass(frozen=True, slots=True)
class Certificate:
    cert: Path
    key: Path
    fingerprint: str  # SHA-256 of the DER certificate, "AB:CD:..." (64 hex digits)


def self_signed(directory: Path, host_name: str | None = None) -> Certificate:
    """The certificate in ``directory``, made there first if it isn't yet.

    The directory is made 0700 and the files 0600, or tightened to that if an
    older version left them readable by others.
    """
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    try:
        make_private_dir(directory)
    except OSError as exc:
        raise TlsError(f"cannot make the directory {directory}: {exc}") from exc
    if cert_path.exists() and key_path.exists():
        make_private(key_path, cert_path)
    else:
        _make(cert_path, key_path, host_name or socket.gethostname())
    return load(cert_path, key_path)


def load(cert_path: Path, key_path: Path) -> Certificate:
    """A certificate and key from PEM files, checked to belong together."""
    try:
        pem = cert_path.read_bytes()
        certificate = x509.load_pem_x509_certificate(pem)
    except (OSError, ValueError) as exc:
        raise TlsError(f"cannot read the certificate {cert_path}: {exc}") from exc
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise TlsError(f"cannot read the private key {key_path}: {exc}") from exc
    if key.public_key() != certificate.public_key():
        raise TlsError(f"the key {key_path} does not belong to the certificate {cert_path}")
    der = certificate.public_bytes(serialization.Encoding.DER)
    return Certificate(cert_path, key_path, fingerprint_of_der(der))


def server_context(certificate: Certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certificate.cert, certificate.key)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"cannot use {certificate.cert} with {certificate.key}: {exc}") from exc
    return context


def _make(cert_path: Path, key_path: Path, host_name: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    common_name = host_name[:64] or "multichat"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    # Clients pin the fingerprint, not the names; the names are for a person reading it.
    names = dict.fromkeys(n for n in (host_name, "localhost") if n.isascii() and n)
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1")]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    try:
        _write_private(key_path, key_bytes)
        _write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    except OSError as exc:
        raise TlsError(f"cannot write a certificate to {cert_path.parent}: {exc}") from exc


def _write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with a new file of mode 0600 holding ``data``.

    Written to a new file (mkstemp makes it 0600) that then takes the name, so
    the data is never readable by others for a moment: writing into an existing
    file would keep that file's mode, and anyone holding it open could read on.
    """
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
