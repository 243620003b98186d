#!/usr/bin/env bash
# macOS recipe: dist/Multichat.app (PyInstaller BUNDLE, one folder) and a .dmg.
# NOT TESTED HERE (the project's CI is Linux); see docs/packaging.md.
#
#   packaging/macos/build.sh
#
# Needs Python 3.11+ (python.org or Homebrew) and the Xcode command line tools
# (sips, iconutil, hdiutil). Signing and notarising are left to the release
# manager: codesign --deep --options runtime, then notarytool.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/build/venv"

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
mkdir -p build
"$VENV/bin/python" packaging/requirements.py > build/requirements.txt
"$VENV/bin/python" -m pip install --quiet -r build/requirements.txt -r packaging/build-requirements.txt

# The .icns from the SVG: Qt draws the PNGs, iconutil packs them.
iconset="$REPO/build/multichat.iconset"
mkdir -p "$iconset"
"$VENV/bin/python" - "$iconset" <<'PY'
import sys

from PySide6.QtGui import QGuiApplication, QIcon

app = QGuiApplication([])
icon = QIcon("multichat/resources/multichat.svg")
for size in (16, 32, 128, 256, 512):
    icon.pixmap(size, size).save(f"{sys.argv[1]}/icon_{size}x{size}.png")
    icon.pixmap(size * 2, size * 2).save(f"{sys.argv[1]}/icon_{size}x{size}@2x.png")
PY
iconutil -c icns "$iconset" -o "$REPO/build/multichat.icns"

MULTICHAT_ICNS="$REPO/build/multichat.icns" "$VENV/bin/pyinstaller" --noconfirm \
    --distpath "$REPO/dist" --workpath "$REPO/build/pyinstaller" packaging/multichat.spec
version="$("$VENV/bin/python" -c 'import multichat; print(multichat.__version__)')"
hdiutil create -volname Multichat -srcfolder dist/Multichat.app -ov -format UDZO \
    "dist/multichat-$version.dmg"
echo "dist/Multichat.app and dist/multichat-$version.dmg"
