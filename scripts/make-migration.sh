#!/usr/bin/env bash
# Generates an Alembic migration from the difference between the tables in clawnet/models and
# a scratch database at the current head. Usage: scripts/make-migration.sh "what changed"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CLAWNET_ROOT"
[ $# -eq 1 ] || { echo "usage: $0 \"what changed\"" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export CLAWNET_DATA_DIR="$scratch" DATABASE_URL="sqlite:///$scratch/scratch.db"
.venv/bin/python -c "from clawnet import db; db.migrate()"
.venv/bin/alembic revision --autogenerate -m "$1"
