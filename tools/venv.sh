# Sourced by run.sh and test.sh: make sure .venv/ exists and holds this checkout.
# Usage: ensure_venv EXTRAS   (EXTRAS is "" or "[test]")
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
PYTHON="${PYTHON:-python3}"

ensure_venv() {
    local extras="$1"
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "Multichat needs Python 3.11 or newer as '$PYTHON' (set PYTHON=... to choose)." >&2
        exit 1
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        echo "Creating $VENV ..." >&2
        if ! "$PYTHON" -m venv "$VENV"; then
            echo "Could not create a virtual environment. On Debian/Ubuntu: apt-get install python3-venv" >&2
            exit 1
        fi
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
    fi
    # Reinstall when pyproject.toml or the wanted extras change.
    local stamp="$VENV/.multichat-installed"
    local want
    want="$extras $(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || ! grep -qxF -- "$want" "$stamp"; then
        echo "Installing Multichat$extras into $VENV ..." >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$REPO$extras"
        # Keep every extras set installed so far, so run.sh after test.sh stays quick.
        echo "$want" >> "$stamp"
    fi
}
