"""The one-file binary (MULTICHAT_BINARY) does what the installed console script does.

Each test runs the built ``dist/multichat`` as a person would, on a system PATH
with no Python environment, and where it makes sense compares it with this
checkout's ``python -m multichat`` run the same way.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from multichat import __version__
from tests.helpers.client import ProtocolClient
from tests.helpers.files import fetch, image_bytes, uploaded
from tests.helpers.process import PYTHON_MULTICHAT, ServerProcess, cli_env, run_cli
from tests.helpers.services import wait_until
from tests.helpers.timing import TIMEOUT
from tests.packaging.conftest import bare_env

pytestmark = pytest.mark.slow


def test_one_executable_file_that_prints_its_version(binary: Path, tmp_path: Path) -> None:
    assert binary.is_file() and os.access(binary, os.X_OK)
    result = run_cli(["--version"], tmp_path, command=[str(binary)], env=bare_env(tmp_path))
    assert (result.returncode, result.stdout) == (0, f"multichat {__version__}\n")


# Each script: commands run in order on one fresh data dir (stdin for passwords).
SCRIPTS: dict[str, list[tuple[list[str], str | None]]] = {
    "users": [
        (["user", "add", "alice", "--superuser"], "s3cret-words\n"),
        (["user", "add", "bob", "--staff"], "password-1\n"),
        (["user", "add", "bob"], "password-1\n"),  # refused: taken
        (["user", "set", "bob", "--no-staff", "--superuser"], None),
        (["user", "passwd", "bob"], "new-password\n"),
        (["user", "list"], None),
        (["user", "delete", "bob"], None),
        (["user", "delete", "nobody"], None),  # refused: unknown
        (["user", "list"], None),
    ],
    "rooms": [
        (["room", "add", "Lobby"], None),
        (["room", "add", "Staff room", "--staff-only"], None),
        (["room", "add", "Lobby"], None),  # refused: taken
        (["room", "rename", "1", "Hall"], None),
        (["room", "set", "2", "--no-staff-only"], None),
        (["room", "list"], None),
        (["room", "delete", "2"], None),
        (["room", "list"], None),
    ],
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_admin_commands_answer_as_the_console_script_does(
    binary: Path, tmp_path: Path, script: str
) -> None:
    outputs = {}
    runs = (("binary", (str(binary),)), ("script", PYTHON_MULTICHAT))
    for name, command in runs:
        home = tmp_path / name
        home.mkdir()
        data_dir = tmp_path / name / "data"
        env = bare_env(home) if name == "binary" else cli_env(home)
        answers = []
        for args, stdin in SCRIPTS[script]:
            result = run_cli(["admin", "--data-dir", str(data_dir), *args], home, stdin=stdin,
                             env=env, command=command)
            answers.append((args, result.returncode, result.stdout, result.stderr))
        outputs[name] = answers
    assert outputs["binary"] == outputs["script"]
    assert any(code == 1 for _args, code, _out, _err in outputs["binary"])  # refusals seen
    assert all("Traceback" not in err for *_rest, err in outputs["binary"])


@pytest.mark.parametrize(
    "args", [["--help"], ["serve", "--help"], ["admin", "--help"], ["admin", "room", "--help"]]
)
def test_help_is_the_console_scripts(binary: Path, tmp_path: Path, args: list[str]) -> None:
    # The same width for both: argparse wraps help to the terminal's.
    frozen = run_cli(args, tmp_path, command=[str(binary)],
                     env=bare_env(tmp_path, COLUMNS="100"))
    script = run_cli(args, tmp_path, env=cli_env(tmp_path, COLUMNS="100"))
    assert frozen.returncode == 0
    assert (frozen.stdout, frozen.stderr) == (script.stdout, script.stderr)


async def test_serve_round_trip_with_a_plain_websockets_client(
    binary: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    for args, stdin in ((["user", "add", "alice"], "alice-password\n"),
                        (["user", "add", "bob"], "bob-password\n"),
                        (["room", "add", "Lobby"], None)):
        result = run_cli(["admin", "--data-dir", str(data_dir), *args], tmp_path,
                         stdin=stdin, command=[str(binary)], env=bare_env(tmp_path))
        assert result.returncode == 0, result.stderr
    server = ServerProcess(data_dir, tmp_path, command=[str(binary)])
    try:
        alice = await ProtocolClient.open(server.url)
        bob = await ProtocolClient.open(server.url + "/chat/stream/")
        await alice.login("alice", "alice-password")
        await bob.login("bob", "bob-password")
        await alice.join(1)
        await bob.join(1)
        await bob.send(command="send", room=1, message="from the binary", client_id="b1")
        event = await alice.expect(lambda f: f.get("msg_type") == 0)
        assert (event["message"], event["seq"], event["username"]) == (
            "from the binary", 1, "bob")
        # Pillow is bundled: an image is measured and thumbnailed; the page is served.
        image = await uploaded(alice, "photo.png", image_bytes(640, 480), "image/png")
        assert (image["width"], image["height"]) == (640, 480)
        token = str(alice.seen[0]["login"]["token"])
        thumbnail = await fetch(server.port, f"/files/{image['id']}/thumbnail", token)
        assert thumbnail.status == 200 and thumbnail.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(thumbnail.body)).size == (320, 240)
        page = await fetch(server.port, "/")
        assert page.status == 200 and page.headers["content-type"].startswith("text/html")
        assert server.signal(signal.SIGTERM) == 0
        assert await alice.closed() == 1001
        await bob.close()
        log = server.log()
    finally:
        server.kill()
    assert f"Multichat {__version__} listening on 127.0.0.1:" in log
    assert "Traceback" not in log


def test_self_test_with_no_python_on_path(binary: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run([str(binary), "--self-test"], capture_output=True, text=True,
                            env=bare_env(home), timeout=TIMEOUT * 12, check=False,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "multichat: self-test passed"
    assert any("first window shown" in line for line in lines)
    assert any("message sent and came back" in line for line in lines)
    assert "Traceback" not in result.stderr
    # The bundled Qt finds the system's emoji font through the system's fontconfig.
    emoji_fonts = system_emoji_fonts()
    if not emoji_fonts and os.environ.get("CI"):
        pytest.fail("under CI: no emoji font installed (fonts-noto-color-emoji)")
    if emoji_fonts:
        drawn = next(line for line in lines if "emoji drawn with" in line)
        assert any(family in drawn for family in emoji_fonts), (drawn, emoji_fonts)
    # Nothing of the person's: no data dir, no settings, no keyring file of ours.
    assert not [path for path in home.rglob("*") if "multichat" in path.name.lower()]


def system_emoji_fonts() -> set[str]:
    """The emoji font families fontconfig knows on this machine (fc-list)."""
    listed = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True,
                            check=False)
    return {family.strip() for line in listed.stdout.splitlines()
            for family in line.split(",") if "emoji" in family.casefold()}


def test_self_test_without_a_display_goes_offscreen(binary: Path, tmp_path: Path) -> None:
    env = bare_env(tmp_path)
    del env["QT_QPA_PLATFORM"]
    result = subprocess.run([str(binary), "--self-test"], capture_output=True, text=True,
                            env=env, timeout=TIMEOUT * 12, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.usefixtures("loopback_multicast")
def test_tls_and_lan_discovery_work_from_the_binary(binary: Path, tmp_path: Path) -> None:
    """cryptography and zeroconf are bundled: --tls serves, the record is found."""
    name = f"Frozen {secrets.token_hex(3)}"  # other servers may advertise on this host
    server = ServerProcess(tmp_path / "data", tmp_path, "--tls", "--name", name,
                           command=[str(binary)])
    try:
        wait_until(lambda: "advertised on the LAN" in "".join(server.output),
                   "the binary's record published")
        result = run_cli(["discover", "--interface", "127.0.0.1", "--timeout", "2", "--json"],
                         tmp_path, command=[str(binary)], env=bare_env(tmp_path))
        assert result.returncode == 0, result.stderr
        found = [json.loads(line) for line in result.stdout.splitlines()]
        (entry,) = [f for f in found if f["name"] == name]
        assert entry["url"] == f"wss://127.0.0.1:{server.port}" and entry["tls"] is True
        assert entry["fingerprint"] in "".join(server.output)
    finally:
        # SIGTERM, not SIGKILL: the one-file bootloader forwards it to the program it
        # unpacked; killing the bootloader alone would leave that program running.
        server.signal(signal.SIGTERM)
        server.kill()
