"""Build dist/multichat_<version>_<arch>.deb around the one-folder build, with dpkg-deb.

    build/venv/bin/python packaging/linux/build_deb.py --onedir dist/multichat-onedir --out dist

Run by packaging/build.sh with the build venv's Python (it renders the PNG icons
from the SVG with Qt). The package holds the one-folder build (the spec's
COLLECT), not the one-file binary: an installed app has no reason to unpack
itself to a temp dir at every start. It holds:

    /opt/multichat/multichat                     the program
    /opt/multichat/_internal/                    Python, Qt and the libraries it loads
    /usr/bin/multichat -> /opt/multichat/multichat
    /usr/share/applications/multichat.desktop    the menu entry
    /usr/share/icons/hicolor/scalable/apps/multichat.svg, and PNGs 16 to 256 px
    /usr/share/doc/multichat/copyright, changelog.gz
    /usr/share/lintian/overrides/multichat       what lintian flags on purpose, and why

No maintainer scripts: the menu and icon caches are refreshed by the triggers of
desktop-file-utils and the icon theme packages, so ``dpkg -r`` removes every
file the package brought and leaves nothing behind.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RESOURCES = REPO / "multichat" / "resources"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256)

# The system libraries the bundled Qt loads (ldd over the bundle:
# packaging/linux/bundle_report.py --depends), as Debian 12 packages, with the
# 64-bit-time names of Debian 13 and Ubuntu 24.04 as alternatives. xcb and
# Wayland are for desktops; offscreen (the self-test) needs the first line only.
DEPENDS = [
    "libc6", "libstdc++6", "libgcc-s1", "zlib1g",
    "libegl1", "libgl1", "libfontconfig1", "libfreetype6", "libxkbcommon0",
    "libdbus-1-3", "libglib2.0-0t64 | libglib2.0-0", "libpng16-16t64 | libpng16-16",
    "libharfbuzz0b", "libsystemd0", "libgcrypt20", "libzstd1", "libbrotli1", "libexpat1",
    "libpcre2-8-0", "libmd0",
    "libx11-6", "libx11-xcb1", "libxcb1", "libxcb-cursor0", "libxcb-glx0", "libxcb-icccm4",
    "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0", "libxcb-render0",
    "libxcb-render-util0", "libxcb-shape0", "libxcb-shm0", "libxcb-sync1", "libxcb-util1",
    "libxcb-xfixes0", "libxcb-xkb1", "libxkbcommon-x11-0",
    "libwayland-client0", "libwayland-cursor0", "libwayland-egl1",
    # Emoji in colour: Qt finds it through fontconfig; without it they are empty boxes.
    "fonts-noto-color-emoji",
]
# Without a font Qt draws no text.
RECOMMENDS = ["fonts-dejavu-core | fonts-liberation2 | fonts-noto-core"]

DESCRIPTION = """\
desktop chat for a team or a LAN, with its own server
 Multichat is a desktop chat: join a server, or host a chat on this computer
 for everyone on the LAN. One program does three jobs: `multichat` opens the
 desktop app, `multichat serve` runs the server headless, and
 `multichat admin` manages users and rooms. `multichat --self-test` checks
 the install end to end."""

COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: multichat

Files: *
Copyright: {year} Multichat developers
License: MIT
Comment: The binary bundles Python (PSF License), Qt and PySide6 (LGPL-3.0),
 and the Python libraries listed in the project's pyproject.toml, each under
 its own license.
"""


# A bundled app under /opt is not a Debian-policy package: these tags are the
# bundle's nature, not mistakes. What lintian still reports is in docs/packaging.md.
LINTIAN_OVERRIDES = """\
# A third-party application: /opt is where it belongs.
multichat: dir-or-file-in-opt [opt/multichat/*]
# The bundled Python carries its own zlib, bzip2 and expat, as PyInstaller copies them.
multichat: embedded-library * [opt/multichat/_internal/*]
# Python's extension modules and Qt's ICU data are loaded by the bundle's libpython and Qt.
multichat: library-not-linked-against-libc [opt/multichat/_internal/*]
multichat: shared-library-lacks-prerequisites [opt/multichat/_internal/*]
"""


def commit_date() -> str:
    """The date of the commit built (RFC 2822, as a changelog wants), or now outside git."""
    dated = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%cD"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return dated or email.utils.formatdate()


def changelog(version: str, dated: str) -> bytes:
    """A one-entry Debian changelog, gzipped reproducibly."""
    text = (f"multichat ({version}) unstable; urgency=medium\n\n"
            f"  * Multichat {version}, built from its repository with packaging/build.sh.\n\n"
            f" -- Multichat developers <multichat@example.org>  {dated}\n")
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def version_of(binary: Path) -> str:
    output = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                            check=True).stdout.split()
    return output[-1]


def render_icons(svg: Path, icons: Path) -> None:
    """PNG icons of each hicolor size, drawn from the SVG by Qt."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt loads
    from PySide6.QtCore import Qt  # noqa: PLC0415
    from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: PLC0415
    from PySide6.QtSvg import QSvgRenderer  # noqa: PLC0415

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    for size in PNG_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        target = icons / f"{size}x{size}" / "apps" / "multichat.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target)):  # PNG, from the suffix
            raise SystemExit(f"cannot write {target}")


def installed_size_kib(root: Path) -> int:
    return sum(path.lstat().st_size for path in root.rglob("*")
               if path.is_file() and "DEBIAN" not in path.parts) // 1024 + 1


def file_mode(path: Path, program: Path) -> int:
    """0755 for directories, the program and executables; 0644 for data and libraries.

    Shared libraries are loaded, not run: lintian flags them executable.
    """
    if path.is_dir() or path == program:
        return 0o755
    executable = bool(path.stat().st_mode & 0o100) and ".so" not in path.name
    return 0o755 if executable else 0o644


def build(onedir: Path, out: Path) -> Path:
    if not (onedir / "multichat").is_file() or not (onedir / "_internal").is_dir():
        raise SystemExit(f"{onedir} is not a one-folder build (multichat and _internal/)")
    version = version_of(onedir / "multichat")
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    root = REPO / "build" / "deb" / f"multichat_{version}_{arch}"
    if root.exists():
        shutil.rmtree(root)

    opt = root / "opt" / "multichat"
    opt.parent.mkdir(parents=True)
    shutil.copytree(onedir, opt, symlinks=True)
    bin_dir = root / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "multichat").symlink_to("/opt/multichat/multichat")

    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(RESOURCES / "multichat.desktop", share / "applications" / "multichat.desktop")
    icons = share / "icons" / "hicolor"
    (icons / "scalable" / "apps").mkdir(parents=True)
    shutil.copy2(RESOURCES / "multichat.svg", icons / "scalable" / "apps" / "multichat.svg")
    render_icons(RESOURCES / "multichat.svg", icons)
    doc = share / "doc" / "multichat"
    doc.mkdir(parents=True)
    dated = commit_date()
    year = email.utils.parsedate_to_datetime(dated).year
    (doc / "copyright").write_text(COPYRIGHT.format(year=year))
    (doc / "changelog.gz").write_bytes(changelog(version, dated))
    overrides = share / "lintian" / "overrides"
    overrides.mkdir(parents=True)
    (overrides / "multichat").write_text(LINTIAN_OVERRIDES)

    for path in root.rglob("*"):  # dpkg-deb wants sane permissions, whatever the umask
        if not path.is_symlink():
            path.chmod(file_mode(path, opt / "multichat"))
    debian = root / "DEBIAN"
    debian.mkdir(mode=0o755)
    (debian / "control").write_text(
        f"Package: multichat\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: Multichat developers <multichat@example.org>\n"
        f"Installed-Size: {installed_size_kib(root)}\n"
        f"Depends: {', '.join(DEPENDS)}\n"
        f"Recommends: {', '.join(RECOMMENDS)}\n"
        f"Section: net\n"
        f"Priority: optional\n"
        f"Description: {DESCRIPTION}\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    package = out / f"multichat_{version}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root),
                    str(package)], check=True, stdout=subprocess.DEVNULL)
    return package


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onedir", type=Path, default=REPO / "dist" / "multichat-onedir",
                        help="the one-folder build (default: dist/multichat-onedir)")
    parser.add_argument("--out", type=Path, default=REPO / "dist")
    args = parser.parse_args()
    package = build(args.onedir.resolve(), args.out.resolve())
    print(f"{package.relative_to(REPO) if package.is_relative_to(REPO) else package} "
          f"{package.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
