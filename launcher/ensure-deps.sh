#!/usr/bin/env bash
# Makes sure everything `npm start` and `npm test` need is here, then builds.
# Run from anywhere; works as `bash launcher/ensure-deps.sh` or sourced.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() { echo "ensure-deps: $*" >&2; exit 1; }

command -v node >/dev/null || fail "Node.js 20 or newer is required (https://nodejs.org/)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || fail "Node.js 20 or newer is required, found $(node --version)"


# Debian packages: Prosody, Redis, Kamailio (the soft switch, with the modules softswitch/kamailio.cfg
# loads: evapi in extra, ndb_redis in redis, websocket; rtpengine.so is in kamailio), rtpengine (the media
# relay, userspace only: the daemon package, no kernel module), SIPp and baresip (the tests' and bench's SIP
# phones; baresip-core's phones send and receive real RTP), PostgreSQL (the tests' PostgreSQL history;
# npm start keeps its history in SQLite, embedded), jemalloc (Prosody's allocator: launcher/prosody.ts).
packages=(prosody libjemalloc2 redis-server openssl kamailio kamailio-extra-modules kamailio-redis-modules kamailio-websocket-modules rtpengine-daemon sip-tester baresip-core postgresql build-essential python3)
missing=()
for tool in prosody prosodyctl redis-server openssl kamailio rtpengine sipp baresip; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=("postgresql")
compgen -G "/usr/lib/*/libjemalloc.so.2" >/dev/null || missing+=("libjemalloc2")
# better-sqlite3 (the embedded history) compiles SQLite at npm install when no prebuilt binary can be
# downloaded (no internet but the npm registry): it needs a C++ toolchain and Python.
for tool in make g++ python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
for module in evapi ndb_redis websocket rtpengine; do
  [ -e "/usr/lib/x86_64-linux-gnu/kamailio/modules/$module.so" ] || [ -n "$(find /usr/lib -path "*kamailio/modules/$module.so" -print -quit 2>/dev/null)" ] || missing+=("kamailio module $module")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    fail "missing ${missing[*]}; install them with: sudo apt-get install ${packages[*]}"
  fi
  echo "ensure-deps: installing ${packages[*]} (missing: ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${packages[@]}"
  # Some systems start the packaged services; ours run from their own configs and ports.
  for service in prosody redis-server kamailio rtpengine-daemon postgresql; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
      systemctl disable --now "$service" || true
    elif command -v service >/dev/null && service "$service" status >/dev/null 2>&1; then
      service "$service" stop || true
      command -v update-rc.d >/dev/null && update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
  done
fi

# After the Debian packages: better-sqlite3's install may compile with their toolchain.
# npm writes node_modules/.package-lock.json on every install: older than the lock file = stale.
# A linked node_modules (a git worktree sharing another checkout's) is never reinstalled: npm ci would
# empty the linked folder, under every checkout that shares it.
if [ -L node_modules ]; then
  if [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "ensure-deps: node_modules is a link to $(readlink node_modules); left as it is (run npm ci there if package-lock.json changed)"
  fi
elif [ ! -d node_modules ] || [ ! -e node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

npm run --silent build
