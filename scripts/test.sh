#!/usr/bin/env bash
# Sets everything up (cached after the first time) and runs every check: lint, types, and the
# whole pytest suite (unit, real OpenClaw gateways, real Chromium), then the browser suite again
# scaled out on PostgreSQL + Redis with two workers. Extra arguments go to (only) the first pytest,
# e.g. scripts/test.sh tests/unit -x
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$CLAWNET_ROOT/scripts/bootstrap.sh" --browser --services
cd "$CLAWNET_ROOT"
start=$(date +%s)
echo "[test] ruff"
ruff check clawnet tests bench scripts rxconfig.py alembic/env.py
ruff format --check --quiet clawnet tests bench scripts rxconfig.py alembic/env.py
echo "[test] mypy"
mypy
echo "[test] import-linter (the house plan's layers; pages use services)"
lint-imports --no-cache
echo "[test] pytest"
python -m pytest "$@"
if [ "$#" -eq 0 ]; then
  # The browser suites that cross web workers (live updates, chats, sign-in), again with ClawNet
  # scaled out: PostgreSQL, Redis and two web workers. Single-page forms add nothing there.
  echo "[test] pytest tests/e2e -m scaleout in scale-out mode (PostgreSQL + Redis + 2 workers)"
  CLAWNET_TEST_SCALEOUT=1 python -m pytest tests/e2e -m scaleout
fi
echo "[test] all checks passed in $(( $(date +%s) - start ))s"
