#!/usr/bin/env bash
# Build dist/multichat (PyInstaller, one file: the app, the server, the admin CLI),
# the same program as one folder, dist/multichat-onedir/ (one PyInstaller run, one
# Analysis), and, on Debian/Ubuntu, dist/multichat_<version>_<arch>.deb around the
# one-folder build, from this checkout.
#
# Everything is built in a virtual environment of its own, build/venv, holding
# Multichat's dependencies (every optional group but the tests' and the
# benchmarks') and PyInstaller; the .venv of ./run.sh and ./test.sh is not touched. Usage:
#   packaging/build.sh            # both forms, then the .deb where dpkg-deb exists
#   packaging/build.sh --no-deb   # both forms only
# PYTHON=python3.12 packaging/build.sh chooses the interpreter (3.11 or newer,
# built with a shared libpython, as Debian's and pyenv's default builds are).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/build/venv"
WANT_DEB=1
for arg in "$@"; do
    case "$arg" in
        --no-deb) WANT_DEB=0 ;;
        *) echo "usage: packaging/build.sh [--no-deb]" >&2; exit 2 ;;
    esac
done

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "packaging/build.sh needs Python 3.11 or newer as '$PYTHON' (set PYTHON=...)." >&2
    exit 1
fi

# 1. The build venv, reinstalled when pyproject.toml or the build requirements change.
if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
fi
stamp="$VENV/.multichat-build-deps"
want="$(cat pyproject.toml packaging/build-requirements.txt packaging/requirements.py | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "== installing the dependencies and PyInstaller into $VENV" >&2
    "$VENV/bin/python" packaging/requirements.py > build/requirements.txt
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r build/requirements.txt -r packaging/build-requirements.txt
    echo "$want" > "$stamp"
fi

# 2. The one-file binary and the one-folder build.
echo "== PyInstaller: dist/multichat and dist/multichat-onedir/" >&2
"$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
    --distpath "$REPO/dist" --workpath "$REPO/build/pyinstaller" \
    packaging/multichat.spec
ls -l dist/multichat >&2
du -sh dist/multichat-onedir >&2
dist/multichat --version
dist/multichat-onedir/multichat --version

# 3. The Debian package.
if [ "$WANT_DEB" = 1 ]; then
    if command -v dpkg-deb >/dev/null; then
        "$VENV/bin/python" packaging/linux/build_deb.py --onedir dist/multichat-onedir --out dist
    else
        echo "== no dpkg-deb here: skipping the .deb" >&2
    fi
fi
