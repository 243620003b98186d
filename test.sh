#!/usr/bin/env bash
# The whole test suite: lint (ruff), types (mypy), then every test (pytest).
# Extra arguments go to pytest, e.g. ./test.sh -k history -x
set -euo pipefail
source "$(dirname "$0")/tools/venv.sh"
ensure_venv "[test]"
cd "$REPO"
echo "== ruff" >&2
"$VENV/bin/ruff" check multichat tests bench tools packaging
echo "== mypy" >&2
"$VENV/bin/mypy"
echo "== pytest" >&2
exec "$VENV/bin/pytest" "$@"
