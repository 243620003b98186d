"""Running ``multichat`` as a real process: the CLI and the server, as a user would."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from tests.helpers.timing import TIMEOUT

LISTENING = re.compile(r"listening on (\S+):(\d+)")
LISTENING_UNIX = "listening on unix:"


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a child process: our venv, a temp home, no MULTICHAT_* leaks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"),
               XDG_CONFIG_HOME=str(home / "config"), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


PYTHON_MULTICHAT = (sys.executable, "-m", "multichat")


def run_cli(args: Sequence[str], home: Path, *, stdin: str | None = None,
            env: dict[str, str] | None = None,
            command: Sequence[str] = PYTHON_MULTICHAT) -> subprocess.CompletedProcess[str]:
    """Run ``multichat ARGS``: this venv's, or ``command`` (a built binary)."""
    return subprocess.run(
        [*command, *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env or cli_env(home),
        timeout=TIMEOUT * 6,
        check=False,
    )


class ServerProcess:
    """``multichat serve`` in a child process, on a free loopback port (or ``unix``)."""

    def __init__(self, data_dir: Path, home: Path, *extra: str,
                 command: Sequence[str] = PYTHON_MULTICHAT,
                 env: dict[str, str] | None = None, unix: Path | None = None) -> None:
        self.data_dir = data_dir
        self.unix = unix
        where = ["--unix", str(unix)] if unix is not None else ["--host", "127.0.0.1",
                                                                "--port", "0"]
        self.process = subprocess.Popen(
            [*command, "serve", *where, "--data-dir", str(data_dir), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=cli_env(home, **(env or {})),
        )
        self.output: list[str] = []
        self._port: int | None = None
        self._on_unix = False  # it said it listens on ``unix``
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(TIMEOUT * 3) or (self._port is None and not self._on_unix):
            self.kill()
            raise RuntimeError("the server did not start:\n" + "".join(self.output))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            match = LISTENING.search(line)
            if match and self._port is None and self.unix is None:
                self._port = int(match.group(2))
                self._ready.set()
            if LISTENING_UNIX in line and self.unix is not None:
                self._on_unix = True
                self._ready.set()
        self._ready.set()

    @property
    def port(self) -> int:
        assert self._port is not None
        return self._port

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def signal(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(TIMEOUT * 3)

    def kill(self) -> None:
        """SIGKILL, as a crash would; then release the pipe."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(TIMEOUT * 3)
        self._reader.join(TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def log(self) -> str:
        self._reader.join(TIMEOUT)
        return "".join(self.output)


def stacks(pid: int) -> str:
    """What a stuck process is doing: every thread's stack (``py-spy dump``, Python and
    native frames), for a failure message; says so where py-spy cannot tell."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    try:
        dump = subprocess.run([py_spy, "dump", "--native", "--pid", str(pid)],
                              capture_output=True, text=True, timeout=TIMEOUT * 3, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(no stacks: py-spy: {exc})"
    return dump.stdout + dump.stderr
