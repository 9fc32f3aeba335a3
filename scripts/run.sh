#!/usr/bin/env bash
# Sets everything up (cached after the first time) and runs ClawNet on http://localhost:3000
# (CLAWNET_PORT to change it). Data lives in ./data (CLAWNET_DATA_DIR to move it).
#   scripts/run.sh          production build, one port
#   scripts/run.sh --dev    hot reload while editing code
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$CLAWNET_ROOT/scripts/bootstrap.sh"
cd "$CLAWNET_ROOT"
port="${CLAWNET_PORT:-3000}"
host="${CLAWNET_HOST:-127.0.0.1}"
env_mode=prod
[ "${1:-}" = "--dev" ] && env_mode=dev
echo "[run] ClawNet starting on http://localhost:$port (data in ${CLAWNET_DATA_DIR:-$CLAWNET_ROOT/data})"
if [ "$env_mode" = prod ]; then
  # Rebuild the frontend only when something it is built from changed (scripts/prod_frontend.py
  # lists what is compared), then serve that build and the backend on one port. A warm restart
  # takes ~2-3 s instead of a ~15 s rebuild, and pages are compiled once (not again in the worker).
  python scripts/prod_frontend.py build "$port"
  exec python scripts/prod_frontend.py serve "$port" "$host"
fi
# Hot reload: Vite serves the pages on $port, the backend runs beside it on the next port up.
exec reflex run --env dev --frontend-port "$port" --backend-port "$((port + 1))" --backend-host "$host"
