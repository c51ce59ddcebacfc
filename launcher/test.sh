#!/usr/bin/env bash
# npm test: dependencies, build, then Jest on the compiled tests (its exit code is ours).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash launcher/ensure-deps.sh
exec node --experimental-vm-modules node_modules/jest/bin/jest.js "$@"
