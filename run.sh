#!/usr/bin/env bash
# Run Multichat from this checkout: creates .venv/, installs into it, starts the app.
# Arguments go to the `multichat` command, e.g. ./run.sh serve --port 9000
set -euo pipefail
source "$(dirname "$0")/tools/venv.sh"
ensure_venv ""
exec "$VENV/bin/multichat" "$@"
