"""The Debian package (MULTICHAT_DEB): its layout, then install, run, remove.

It ships the one-folder build (/opt/multichat/multichat and _internal/), which
starts without unpacking itself; the one-file binary is the portable form.

The install test changes the system (``dpkg -i``, ``dpkg -r``): it runs as
root only, where MULTICHAT_DEB is set (CI sets it), and the package's
dependencies must already be installed (.ci/run does that with apt-get satisfy).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from multichat import __version__
from tests.helpers.timing import TIMEOUT
from tests.packaging.conftest import bare_env

pytestmark = pytest.mark.slow

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
# Every file but the one-folder build's _internal/ (Python, Qt, the libraries).
EXPECTED_FILES = {
    "./opt/multichat/multichat",
    "./usr/bin/multichat",
    "./usr/share/applications/multichat.desktop",
    "./usr/share/icons/hicolor/scalable/apps/multichat.svg",
    "./usr/share/doc/multichat/copyright",
    "./usr/share/doc/multichat/changelog.gz",
    "./usr/share/lintian/overrides/multichat",
    *(f"./usr/share/icons/hicolor/{n}x{n}/apps/multichat.png" for n in ICON_SIZES),
}
INTERNAL = "./opt/multichat/_internal/"


def dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True,
                          check=True).stdout


def field(deb: Path, name: str) -> str:
    return dpkg_deb("--field", str(deb), name).strip()


def test_name_and_control_fields(deb: Path) -> None:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert deb.name == f"multichat_{__version__}_{arch}.deb"
    assert field(deb, "Package") == "multichat"
    assert field(deb, "Version") == __version__
    assert field(deb, "Architecture") == arch
    depends = field(deb, "Depends")
    for library in ("libegl1", "libgl1", "libfontconfig1", "libxkbcommon0", "libdbus-1-3",
                    "libxcb-cursor0", "fonts-noto-color-emoji"):  # emoji in colour
        assert library in depends


def test_layout_one_folder_build_command_menu_entry_and_icons(deb: Path) -> None:
    listing = dpkg_deb("--contents", str(deb)).splitlines()
    entries = {line.split()[5]: line for line in listing if not line.startswith("d")}
    internal = {name for name in entries if name.startswith(INTERNAL)}
    assert set(entries) - internal == EXPECTED_FILES
    # The one-folder build, not the one-file binary: Python and Qt lie unpacked beside it.
    assert f"{INTERNAL}base_library.zip" in internal
    assert any(name.startswith(f"{INTERNAL}libpython3") for name in internal)
    assert any(name.startswith(f"{INTERNAL}PySide6/Qt/plugins/platforms/") for name in internal)
    link = entries["./usr/bin/multichat"]
    assert link.startswith("l") and link.endswith("-> /opt/multichat/multichat")
    assert entries["./opt/multichat/multichat"].startswith("-rwxr-xr-x root/root")
    # The program is the one thing to run: libraries and data are not executable.
    executables = {name for name, line in entries.items() if line.startswith("-rwx")}
    assert executables == {"./opt/multichat/multichat"}
    # The bundle's own links stay inside it (relative, no way out of _internal/).
    for name in internal:
        if entries[name].startswith("l"):
            target = entries[name].split(" -> ")[1]
            assert not target.startswith("/") and ".." not in target.split("/"), name
    scripts = dpkg_deb("--info", str(deb))  # no maintainer scripts: nothing to undo
    assert not any(name in scripts for name in ("postinst", "prerm", "postrm", "preinst"))


def test_the_desktop_entry_is_valid(tmp_path: Path) -> None:
    validate = shutil.which("desktop-file-validate")
    if validate is None:
        pytest.skip("desktop-file-validate not installed (Debian: desktop-file-utils)")
    source = Path(__file__).resolve().parents[2] / "multichat" / "resources" / "multichat.desktop"
    result = subprocess.run([validate, str(source)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def installed_files() -> list[Path]:
    listed = subprocess.run(["dpkg", "--listfiles", "multichat"], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    return [Path(line) for line in listed if line.startswith("/")]


def package_status() -> str:
    result = subprocess.run(["dpkg-query", "--show", "--showformat=${db:Status-Status}",
                             "multichat"], capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else "not-installed"


def test_install_run_the_installed_self_test_and_remove_cleanly(
    deb: Path, tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("installing a .deb needs root")
    if package_status() != "not-installed":
        pytest.skip("multichat is already installed on this machine; not touching it")
    subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True, check=True)
    try:
        assert package_status() == "installed"
        files = installed_files()
        assert Path("/usr/bin/multichat") in files and Path("/opt/multichat/multichat") in files
        assert Path("/opt/multichat/_internal/base_library.zip") in files
        assert shutil.which("multichat", path="/usr/bin:/bin") == "/usr/bin/multichat"
        home = tmp_path / "home"
        home.mkdir()
        version = subprocess.run(["multichat", "--version"], capture_output=True, text=True,
                                 env=bare_env(home), check=True, timeout=TIMEOUT * 6)
        assert version.stdout == f"multichat {__version__}\n"
        result = subprocess.run(["multichat", "--self-test"], capture_output=True, text=True,
                                env=bare_env(home), check=False, timeout=TIMEOUT * 12,
                                cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.splitlines()[-1] == "multichat: self-test passed"
        # Its dependencies are installed (CI satisfies Depends as apt would): emoji in colour.
        assert "emoji drawn with Noto Color Emoji" in result.stdout, result.stdout
    finally:
        removal = subprocess.run(["dpkg", "-r", "multichat"], capture_output=True, text=True,
                                 check=False)
    assert removal.returncode == 0, removal.stderr
    assert package_status() == "not-installed"
    left = [path for path in files if path.exists() and not path.is_dir()]
    assert left == []
    assert not Path("/opt/multichat").exists()
    assert not Path("/usr/bin/multichat").exists()
