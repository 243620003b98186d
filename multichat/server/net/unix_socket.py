"""Listening on a Unix socket (``serve --unix PATH``), for a reverse proxy on this machine.

nginx relays every frame twice; on a Unix socket its hop to the server skips
the loopback TCP stack (docs/benchmarks.md, "The cluster, third pass").

Who may connect is the file's mode, not an address: the socket is created
``MODE`` (0660: the server's user and group), so the proxy's user must be in
the server's group or own the directory's group (docs/operations.md). Every
peer on it is therefore the local proxy, and its word on the client's
address is believed (``proxy.TrustedProxies``).

The path is the server's for its life. At start a file left there by a
process that crashed is removed, but only when nothing answers on it (a live
server keeps its socket); anything else at the path is left alone and the
server does not start. At stop the file is removed, unless another process
has put a socket of its own there since.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import sys
from pathlib import Path

MODE = 0o660
# ``sun_path``: 108 bytes on Linux, 104 on macOS and the BSDs, the terminating NUL
# included (which nginx and most tools write).
MAX_PATH_BYTES = (108 if sys.platform.startswith("linux") else 104) - 1
PROBE_TIMEOUT = 1.0  # a live server answers a connect at once, however busy


class UnixSocketError(Exception):
    """The socket cannot be listened on here, in words for a person."""


def supported() -> bool:
    """Whether this platform has Unix sockets for asyncio (not Windows)."""
    return hasattr(socket, "AF_UNIX") and sys.platform != "win32"


def check_path(path: Path) -> None:
    """UnixSocketError when ``path`` is too long for a Unix socket's address."""
    size = len(os.fsencode(path))
    if size > MAX_PATH_BYTES:
        raise UnixSocketError(
            f"--unix {path}: a Unix socket's path may have at most {MAX_PATH_BYTES} bytes "
            f"here, this one has {size}; choose a shorter one (/run/multichat/8801.sock)")


class Listener:
    """The socket file at ``path``: ``bind()`` before serving, ``remove()`` after."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._identity: tuple[int, int] | None = None  # (device, inode) of our file

    def bind(self) -> socket.socket:
        """A bound socket (not yet listening: the loop's ``create_unix_server`` does that)
        whose file has mode ``MODE``; UnixSocketError in words for a person."""
        check_path(self.path)
        if not supported():
            raise UnixSocketError("--unix: this system has no Unix sockets; use --host/--port")
        _clear_stale(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(os.fspath(self.path))
            # Nobody can connect before the loop calls listen(), so no one gets in
            # under the looser mode the umask gave the file at bind().
            os.chmod(self.path, MODE)
            info = os.stat(self.path)
        except OSError as exc:
            sock.close()
            raise UnixSocketError(f"cannot listen on {self.path}: "
                                  f"{exc.strerror or exc}") from exc
        self._identity = (info.st_dev, info.st_ino)
        return sock

    def remove(self) -> None:
        """Remove the socket file, if it is still the one ``bind`` made."""
        if self._identity is None:
            return
        identity, self._identity = self._identity, None
        with contextlib.suppress(OSError):
            info = os.lstat(self.path)
            if (info.st_dev, info.st_ino) == identity:
                os.unlink(self.path)


def _clear_stale(path: Path) -> None:
    """Remove a socket file nothing listens on; refuse anything else at ``path``."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UnixSocketError(f"cannot listen on {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISSOCK(info.st_mode):
        raise UnixSocketError(f"--unix {path}: the path exists and is not a socket; "
                              "not removing it")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(PROBE_TIMEOUT)
        try:
            probe.connect(os.fspath(path))
        except ConnectionRefusedError:  # nobody listens: a crashed server's file
            pass
        except TimeoutError:  # a listener too busy to accept: alive
            raise UnixSocketError(f"another server is listening on {path}") from None
        except OSError as exc:
            raise UnixSocketError(f"cannot listen on {path}: {exc.strerror or exc}") from exc
        else:
            raise UnixSocketError(f"another server is listening on {path}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
