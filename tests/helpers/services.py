"""Real PostgreSQL and Redis servers for the tests, started from the installed binaries.

Each runs on a free loopback port in a temp dir of its own and is stopped at
the end. Where a binary is missing the tests that need it are skipped with a
reason, except under CI (``CI=true``), where a missing service is a failure:
``.ci/run`` installs Debian's ``postgresql`` and ``redis-server``.

PostgreSQL refuses to run as root, so as root its programs run as the
``postgres`` system user (Debian's package creates it).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
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
from pathlib import Path

import pytest

from bench.services import with_unix_upstream
from tests.helpers.timing import TIMEOUT

POLL = 0.02  # seconds between checks while waiting for a server to come up


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is not installed; .ci/run installs it", pytrace=False)
    pytest.skip(f"{what} is not installed (apt-get install {what})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    """Poll a condition until it holds; fail with ``what`` when it does not in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(POLL)


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# -- Redis ------------------------------------------------------------------------


class RedisService:
    """A redis-server on a free loopback port; it can be stopped and started again."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def socket_url(self) -> str:
        """The same Redis over its Unix socket (a process on its host, docs/operations.md)."""
        return f"unix://{self.workdir / 'redis.sock'}?db=0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--protected-mode", "no",
             "--unixsocket", str(self.workdir / "redis.sock"), "--unixsocketperm", "700"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self._ready, f"redis-server on port {self.port}")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.process.returncode}")
        return _accepts(self.port)

    def stop(self) -> None:
        """Kill it (SIGKILL: an outage, not a clean shutdown); the port stays ours."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(TIMEOUT)
        self.process = None


@pytest.fixture
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisService]:
    """A fresh, empty Redis for one test."""
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        _missing("redis-server")
    assert binary is not None
    service = RedisService(binary, tmp_path_factory.mktemp("redis"))
    service.start()
    try:
        yield service
    finally:
        service.stop()


# -- PostgreSQL -------------------------------------------------------------------------


class PostgresService:
    """A PostgreSQL cluster in a temp dir; ``new_database()`` gives each test its own."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="multichat-pg-"))
        self.datadir = self.root / "data"
        self.process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL will not run as root
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def socket_url(self, url: str) -> str:
        """``url``'s database over the Unix socket (libpq's ``host`` naming its directory)."""
        database = url.rsplit("/", 1)[1]
        return f"postgresql://postgres@/{database}?host={self.root}&port={self.port}"

    def start(self) -> None:
        subprocess.run(
            [*self._as_user, str(self.bindir / "initdb"), "-D", str(self.datadir), "-U",
             "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, timeout=TIMEOUT * 6,
        )
        self._run()

    def restart(self) -> None:
        """Stop it as an operator's restart would (a fast shutdown: every session is
        ended) and start it again, on the same port and data."""
        self._shut_down()
        self._run()

    def _run(self) -> None:
        # Durability settings off: the tests kill server processes, never the database.
        self.process = subprocess.Popen(
            [*self._as_user, str(self.bindir / "postgres"), "-D", str(self.datadir),
             "-p", str(self.port), "-k", str(self.root), "-c", "listen_addresses=127.0.0.1",
             "-F", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self._ready, f"PostgreSQL on port {self.port}", TIMEOUT * 3)

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"postgres exited with {self.process.returncode}")
        if not _accepts(self.port):
            return False
        try:
            self.execute("SELECT 1")
        except Exception:  # still starting up: "the database system is starting up"
            return False
        return True

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.encode())

    def new_database(self) -> str:
        """An empty database of its own; returns its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        self._shut_down()
        shutil.rmtree(self.root, ignore_errors=True)

    def _shut_down(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # A fast shutdown (SIGINT), to the postmaster itself: sent to runuser, with a
            # client connected it ended no session and left the postmaster running.
            postmaster = self._postmaster_pid()
            if self._as_user and postmaster is not None:
                os.kill(postmaster, signal.SIGINT)
            else:
                self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(TIMEOUT)
        self.process = None


def _postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    return Path(found[-1]).parent if found else None


@contextlib.contextmanager
def _postgres_cluster() -> Iterator[PostgresService]:
    bindir = _postgres_bindir()
    if bindir is None:
        _missing("postgresql")
    assert bindir is not None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg")
    service = PostgresService(bindir)
    try:
        service.start()
        yield service
    finally:
        with contextlib.suppress(Exception):
            service.stop()


@pytest.fixture(scope="session")
def postgres_service() -> Iterator[PostgresService]:
    """One PostgreSQL cluster for the whole session."""
    with _postgres_cluster() as service:
        yield service


@pytest.fixture
def own_postgres_service() -> Iterator[PostgresService]:
    """A PostgreSQL cluster for one test alone, which it may restart."""
    with _postgres_cluster() as service:
        yield service


@pytest.fixture
def postgres_url(postgres_service: PostgresService) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return postgres_service.new_database()


# -- load balancers: nginx and HAProxy ----------------------------------------------------

NGINX_MODULES = Path("/usr/lib/nginx/modules")


class ProxyService:
    """A load balancer in the foreground, listening on ``port`` as its config says."""

    def __init__(self, command: list[str], port: int, log: Path) -> None:
        self.command = command
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._ready, f"{self.command[0]} on port {self.port}")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.command[0]} exited with {self.process.returncode}:\n"
                               + self.log.read_text(errors="replace"))
        return _accepts(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(TIMEOUT)
        self.process = None


def nginx_proxy(workdir: Path, block: str, port: int) -> ProxyService:
    """nginx running ``block``, a top-level ``stream {}`` or ``http {}`` as an operator writes it.

    Wrapped with what a private instance needs: its own pid file, logs and temp
    dirs, and one process (no worker switching to another user).
    """
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                       else None)
    if binary is None:
        _missing("nginx")
    assert binary is not None
    preamble = []
    if block.lstrip().startswith("stream"):
        module = NGINX_MODULES / "ngx_stream_module.so"
        if not module.exists():
            _missing("libnginx-mod-stream")
        preamble.append(f"load_module {module};")
    preamble += ["daemon off;", "master_process off;", f"pid {workdir / 'nginx.pid'};",
                 f"error_log {workdir / 'error.log'} info;", "events {}"]
    if block.lstrip().startswith("http"):
        private = " ".join(f"{kind}_temp_path {workdir / kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        block = block.replace("http {", f"http {{ access_log off; {private}", 1)
    config = workdir / "nginx.conf"
    config.write_text("\n".join([*preamble, block]) + "\n")
    return ProxyService([binary, "-p", str(workdir), "-c", str(config), "-e",
                         str(workdir / "error.log")], port, workdir / "error.log")


def haproxy_proxy(workdir: Path, config: str, port: int) -> ProxyService:
    """HAProxy in the foreground (-db) running ``config`` as an operator writes it."""
    binary = shutil.which("haproxy") or ("/usr/sbin/haproxy"
                                         if Path("/usr/sbin/haproxy").exists() else None)
    if binary is None:
        _missing("haproxy")
    assert binary is not None
    path = workdir / "haproxy.cfg"
    path.write_text(config + "\n")
    return ProxyService([binary, "-db", "-f", str(path)], port, workdir / "haproxy.log")


OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
PROXY_KINDS = ("stream", "http", "haproxy")
# The settings docs/operations.md gives the servers behind each proxy: the proxy on
# 127.0.0.1 is trusted; nginx stream and HAProxy speak the PROXY protocol, nginx http
# sends X-Forwarded-For.
BEHIND_PROXY = {
    "stream": {"MULTICHAT_TRUSTED_PROXIES": "127.0.0.1", "MULTICHAT_PROXY_PROTOCOL": "true"},
    "http": {"MULTICHAT_TRUSTED_PROXIES": "127.0.0.1"},
    "haproxy": {"MULTICHAT_TRUSTED_PROXIES": "127.0.0.1", "MULTICHAT_PROXY_PROTOCOL": "true"},
}


def documented_proxy_config(kind: str, listen: int, upstreams: Sequence[int | Path]) -> str:
    """The nginx ``stream`` or ``http`` block, or the HAProxy config, of docs/operations.md.

    The documented ports become the test's and comments go; the nginx HTTP block
    loses its TLS lines (certificates are the operator's). Upstreams given as
    paths are Unix sockets: the block's ``upstream`` is then the documented one
    of ``server unix:...;`` lines, with the test's paths. Nothing else changes.
    """
    language = "haproxy" if kind == "haproxy" else "nginx"
    blocks = re.findall(rf"```{language}\n(.*?)```", OPERATIONS.read_text(), re.DOTALL)
    block = next(b for b in blocks if kind == "haproxy" or re.search(rf"^{kind} {{", b, re.M))
    block = with_unix_upstream(blocks, block, upstreams)
    block = re.sub(r"listen (443 ssl|8765);", f"listen 127.0.0.1:{listen};", block)
    block = block.replace("bind :8765", f"bind 127.0.0.1:{listen}")
    block = "\n".join(line for line in block.splitlines()
                      if "ssl_" not in line and not line.lstrip().startswith("#"))
    for documented, port in zip((8801, 8802, 8803), upstreams, strict=True):
        block = block.replace(f"127.0.0.1:{documented}", f"127.0.0.1:{port}")
    return block


def documented_proxy(kind: str, workdir: Path,
                     upstreams: Sequence[int | Path]) -> ProxyService:
    """nginx (``stream`` or ``http``) or HAProxy as docs/operations.md configures it, in
    front of the three ``upstreams`` (one port may stand for all three); not started."""
    workdir.mkdir(parents=True, exist_ok=True)
    listen = free_port()
    config = documented_proxy_config(kind, listen, upstreams)
    if kind == "haproxy":
        return haproxy_proxy(workdir, config, listen)
    return nginx_proxy(workdir, config, listen)


# -- multicast ------------------------------------------------------------------------------

_PROBE_GROUP = "239.255.77.77"


def loopback_multicast_works() -> bool:
    """Whether a multicast datagram sent on the loopback interface comes back here."""
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        try:
            receiver.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            receiver.bind(("", port))
            membership = socket.inet_aton(_PROBE_GROUP) + socket.inet_aton("127.0.0.1")
            receiver.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
            receiver.settimeout(2)
            sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                              socket.inet_aton("127.0.0.1"))
            sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            sender.sendto(b"probe", (_PROBE_GROUP, port))
            return receiver.recv(16) == b"probe"
        except OSError:
            return False


@pytest.fixture(scope="session")
def loopback_multicast() -> None:
    """Skip (fail under CI) where this machine carries no multicast on loopback."""
    if not loopback_multicast_works():
        _missing_capability("multicast on the loopback interface")


def _missing_capability(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} does not work on this CI machine", pytrace=False)
    pytest.skip(f"{what} does not work on this machine")
