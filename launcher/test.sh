#!/usr/bin/env bash
# npm test: dependencies (plus Debian's Chromium for the browser tests), build, then Jest on the
# compiled tests (its exit code is ours).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash launcher/ensure-deps.sh
# Test-only Debian packages (npm start needs none of them): Chromium for the browser tests (Debian's, never
# a downloaded one); tmux, profanity, mcabber and poezio for the real-client tests (test/integration/real-clients;
# poezio refuses root, so as root the tests run it as uid 65534, nobody: no account to create).
test_packages=()
for tool in chromium tmux profanity mcabber poezio; do
  command -v "$tool" >/dev/null || test_packages+=("$tool")
done
if [ ${#test_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test: the tests need ${test_packages[*]}; install them with: sudo apt-get install ${test_packages[*]}" >&2
    exit 1
  fi
  echo "test: installing ${test_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${test_packages[@]}" || { apt-get update && apt-get install -y --no-install-recommends "${test_packages[@]}"; }
fi
# Every test server listens on loopback only. As root the tests run in a network namespace of their own
# (only its loopback is up): nothing outside can reach their servers, and no test, browser or phone can
# reach out. Without root (or unshare), on the machine's loopback.
jest=(node --experimental-vm-modules node_modules/jest/bin/jest.js "$@")
if [ "$(id -u)" -eq 0 ] && [ -z "${SB_TEST_HOST_NETWORK:-}" ] && command -v ip >/dev/null && unshare --net true 2>/dev/null; then
  echo "test: in a network namespace of its own (loopback only; SB_TEST_HOST_NETWORK=1 runs on the host's)"
  exec unshare --net -- bash -c 'ip link set lo up && exec "$@"' netns "${jest[@]}"
fi
exec "${jest[@]}"
