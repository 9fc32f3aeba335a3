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
exec reflex run --env "$env_mode" --single-port --frontend-port "$port" --backend-port "$port" --backend-host "$host"
