#!/usr/bin/env bash
# npm test: dependencies (plus Debian's Chromium for the browser tests), build, then Jest on the
# compiled tests (its exit code is ours).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash launcher/ensure-deps.sh
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test: the browser tests need Chromium; install it with: sudo apt-get install chromium" >&2
    exit 1
  fi
  echo "test: installing chromium (browser tests drive Debian's Chromium, never a downloaded one)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }
fi
exec node --experimental-vm-modules node_modules/jest/bin/jest.js "$@"
