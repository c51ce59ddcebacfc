#!/usr/bin/env bash
# npm start: dependencies, build, then the launcher (which runs Redis, Prosody and the component).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash launcher/ensure-deps.sh
exec node dist/launcher/main.js "$@"
