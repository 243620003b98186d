"""The cluster's server side, started from the installed binaries: PostgreSQL, Redis, nginx.

Each runs on a free loopback port in a directory of the run, in the
foreground, with every process (and every process it starts: PostgreSQL's
backends, nginx's worker) pinned to the server's core by ``setup``. They are
started as an operator would run them, with the settings docs/operations.md
gives and otherwise the defaults (PostgreSQL keeps ``fsync`` and
``synchronous_commit`` on). tests/helpers/services.py starts the same for the
tests; bench/ imports nothing of tests/, so the few lines stand in both.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

OPERATIONS = Path(__file__).resolve().parent.parent / "docs" / "operations.md"
START_TIMEOUT = 60.0
# nginx's default of 512 connections per worker is below two per client (client and
# upstream) at a few hundred clients; both sides get the same number.
WORKER_CONNECTIONS = 8192
NGINX_MODULES = Path("/usr/lib/nginx/modules")


@dataclass
class Service:
    """A started server: its root process (the one whose tree is its CPU) and its port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def accepts_unix(path: Path) -> Callable[[], bool]:
    """Whether something listens on the Unix socket at ``path`` (a server's ``ready``)."""
    def ready() -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(str(path)) == 0
    return ready


def wait_for(service: Service, ready: Callable[[], bool], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if service.process.poll() is not None or time.monotonic() > deadline:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"{service.name} did not start:\n{text[-3000:]}")
        time.sleep(0.05)


@contextlib.contextmanager
def running(name: str, command: list[str], port: int, log: Path,
            setup: Callable[[], None] | None, *, env: dict[str, str] | None = None,
            ready: Callable[[], bool] | None = None,
            stop_signal: int = signal.SIGTERM, cwd: Path | None = None) -> Iterator[Service]:
    """Start ``command``, wait until ``port`` accepts (or ``ready``), stop it at the end."""
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                   preexec_fn=setup, env=env, cwd=cwd)
    service = Service(name, process, port)
    try:
        wait_for(service, ready or (lambda: accepts(port)), log)
        yield service
    finally:
        if process.poll() is None:
            process.send_signal(stop_signal)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(30)


def missing() -> list[str]:
    """What the cluster scenario needs and this machine lacks."""
    import importlib.util

    lacking = [name for name, found in (
        ("PostgreSQL", glob.glob("/usr/lib/postgresql/*/bin/postgres")),
        ("redis-server", shutil.which("redis-server") or Path("/usr/bin/redis-server").exists()),
        ("nginx", shutil.which("nginx") or Path("/usr/sbin/nginx").exists()),
    ) if not found]
    lacking += [module for module in ("django", "channels", "channels_redis", "daphne")
                if importlib.util.find_spec(module) is None]
    return lacking


# -- PostgreSQL -----------------------------------------------------------------------


def postgres_bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    if not found:
        raise SystemExit("the cluster bench needs PostgreSQL (apt-get install postgresql)")
    return Path(found[-1]).parent


def _as_postgres(root: Path) -> list[str]:
    """PostgreSQL refuses to run as root: then it runs as the ``postgres`` system user."""
    if os.geteuid() != 0:
        return []
    account = pwd.getpwnam("postgres")
    os.chown(root, account.pw_uid, account.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


@contextlib.contextmanager
def postgres(setup: Callable[[], None] | None,
             settings: dict[str, str] | None = None) -> Iterator[Service]:
    """A fresh PostgreSQL cluster in a temp dir of its own (the ``postgres`` user must
    reach it, and the run's directory is private); see ``postgres_url``."""
    root = Path(tempfile.mkdtemp(prefix="multichat-bench-pg-"))
    try:
        with _postgres_in(root, setup, settings or {}) as service:
            yield service
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def _postgres_in(root: Path, setup: Callable[[], None] | None,
                 settings: dict[str, str]) -> Iterator[Service]:
    bindir, as_user = postgres_bindir(), _as_postgres(root)
    # --no-sync: initdb's own files only; the running server keeps fsync on.
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(root / "data"), "-U",
                    "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"],
                   check=True, capture_output=True, timeout=300)
    port = free_port()
    command = [*as_user, str(bindir / "postgres"), "-D", str(root / "data"), "-p", str(port),
               "-k", str(root), "-c", "listen_addresses=127.0.0.1",
               "-c", "max_connections=200",
               *(arg for name, value in settings.items() for arg in ("-c", f"{name}={value}"))]
    service_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def ready() -> bool:
        try:
            execute(service_url, "SELECT 1")
        except Exception:  # still starting: "the database system is starting up"
            return False
        return True

    # SIGINT is PostgreSQL's fast shutdown.
    with running("postgres", command, port, root / "postgres.log", setup, ready=ready,
                 stop_signal=signal.SIGINT) as service:
        yield service


def postgres_url(service: Service, database: str = "postgres") -> str:
    return f"postgresql://postgres@127.0.0.1:{service.port}/{database}"


def execute(url: str, sql: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        cursor = conn.execute(sql.encode())
        return cursor.fetchall() if cursor.description else []


# -- Redis ----------------------------------------------------------------------------


@contextlib.contextmanager
def redis(root: Path, setup: Callable[[], None] | None) -> Iterator[Service]:
    """A redis-server as docs/operations.md runs it: no persistence."""
    root.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(root), "--protected-mode", "no"]
    with running("redis", command, port, root / "redis.log", setup) as service:
        yield service


def redis_url(service: Service) -> str:
    return f"redis://127.0.0.1:{service.port}/0"


def redis_info(port: int, section: str) -> str:
    """``INFO section`` over a plain socket (RESP), so the harness needs no client."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"INFO {section}\r\n".encode())
        reply = b""
        while not reply.endswith(b"\r\n") or reply.count(b"\r\n") < 2:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
        header, _, body = reply.partition(b"\r\n")
        length = int(header[1:])
        while len(body) < length + 2:
            body += sock.recv(65536)
    return body[:length].decode()


def redis_commands(port: int) -> dict[str, int]:
    """Calls per command so far (``INFO commandstats``); ``total`` is their sum."""
    calls = {}
    for line in redis_info(port, "commandstats").splitlines():
        match = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
        if match:
            calls[match.group(1)] = int(match.group(2))
    calls["total"] = sum(calls.values())
    return calls


# -- nginx ----------------------------------------------------------------------------


def with_unix_upstream(blocks: Sequence[str], block: str,
                       upstreams: Sequence[int | Path]) -> str:
    """``block`` with the documented ``upstream`` of ``server unix:...;`` lines (one of
    ``blocks``), the run's socket paths in it, when every upstream is a path."""
    if not upstreams or not all(isinstance(upstream, Path) for upstream in upstreams):
        return block
    on_sockets = next(b for b in blocks if re.search(r"^upstream .*server unix:", b,
                                                     re.M | re.S))
    for n, path in enumerate(upstreams, start=8801):
        on_sockets = on_sockets.replace(f"unix:/run/multichat/{n}.sock;", f"unix:{path};")
    return re.sub(r"upstream multichat \{.*?\}", lambda _: on_sockets.strip(), block,
                  count=1, flags=re.S)


def documented_block(kind: str, listen: int, upstreams: Sequence[int | Path]) -> str:
    """The nginx ``http {}`` or ``stream {}`` block of docs/operations.md, its ports the
    run's, TLS lines and comments out.

    The scenario runs the HTTP block because both sides can read its
    X-Forwarded-For (daphne ``--proxy-headers``); daphne speaks no PROXY
    protocol, which the ``stream`` block sends (Multichat alone, to compare).
    Upstreams given as paths are Unix sockets: the block's ``upstream`` is then
    the documented one of ``server unix:...;`` lines, the run's paths in it.
    """
    blocks = re.findall(r"```nginx\n(.*?)```", OPERATIONS.read_text(), re.DOTALL)
    block = next(b for b in blocks if re.search(rf"^{kind} {{", b, re.M))
    block = with_unix_upstream(blocks, block, upstreams)
    block = re.sub(r"listen (443 ssl|8765);", f"listen 127.0.0.1:{listen};", block)
    block = "\n".join(line for line in block.splitlines()
                      if "ssl_" not in line and not line.lstrip().startswith("#"))
    for documented, port in zip((8801, 8802, 8803), upstreams, strict=True):
        block = block.replace(f"127.0.0.1:{documented}", f"127.0.0.1:{port}")
    return block


@contextlib.contextmanager
def nginx(root: Path, upstreams: Sequence[int | Path], setup: Callable[[], None] | None,
          kind: str = "http") -> Iterator[Service]:
    """nginx with a documented block in front of ``upstreams`` (ports, or paths of Unix
    sockets): a master and one worker.

    Wrapped with what a private instance needs (its own pid file, logs and temp
    dirs, no access log) and room for the run's connections. In front of Unix
    sockets its worker runs as the servers' user (an operator puts nginx's user
    in their group: docs/operations.md); started as root it would be ``nobody``.
    """
    root.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    listen = free_port()
    block = documented_block(kind, listen, upstreams)
    preamble = ["daemon off;", "worker_processes 1;", f"pid {root / 'nginx.pid'};",
                f"error_log {root / 'error.log'} warn;",
                f"events {{ worker_connections {WORKER_CONNECTIONS}; }}"]
    if kind == "stream":
        preamble.insert(0, f"load_module {NGINX_MODULES / 'ngx_stream_module.so'};")
    if os.geteuid() == 0 and any(isinstance(upstream, Path) for upstream in upstreams):
        preamble.insert(0, "user root;")
    else:
        private = " ".join(f"{name}_temp_path {root / name};"
                           for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        block = block.replace("http {", f"http {{ access_log off; {private}", 1)
    config = root / "nginx.conf"
    config.write_text("\n".join([*preamble, block]) + "\n")
    command = [binary, "-p", str(root), "-c", str(config), "-e", str(root / "error.log")]
    with running("nginx", command, listen, root / "nginx.log", setup,
                 stop_signal=signal.SIGQUIT) as service:
        yield service
