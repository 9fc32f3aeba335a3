#!/usr/bin/env bash
# Sets everything up (cached after the first time) and runs every check: lint, types, and the
# whole pytest suite (unit, real OpenClaw gateways, real Chromium). Extra arguments go to pytest,
# e.g. scripts/test.sh tests/unit -x
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$CLAWNET_ROOT/scripts/bootstrap.sh" --browser --services
cd "$CLAWNET_ROOT"
start=$(date +%s)
echo "[test] ruff"
ruff check clawnet tests bench rxconfig.py alembic/env.py
ruff format --check --quiet clawnet tests bench rxconfig.py alembic/env.py
echo "[test] mypy"
mypy
echo "[test] pytest"
python -m pytest "$@"
echo "[test] all checks passed in $(( $(date +%s) - start ))s"
