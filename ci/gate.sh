#!/usr/bin/env bash
# One cell of the gate matrix: bash ci/gate.sh <arch> <tier>
# VFORKCHECK_RUNS (default 50) and VFORKCHECK_SEED (default the Actions run id,
# else the time, printed by the gate so a failure can be replayed).
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: bash ci/gate.sh <arch> <tier>" >&2
  exit 64
fi
cd "$(dirname "$0")/.."
# The system tier's cell also needs its qemu-system and kernel (cached after the first run).
if [[ "$2" == system ]]; then node --import=tsx harness/cli/setup.ts "--system=$1"; else node --import=tsx harness/cli/setup.ts; fi
mkdir -p reports
exec npx vforkcheck gate --arch "$1" --tier "$2" \
  --runs "${VFORKCHECK_RUNS:-50}" \
  --seed "${VFORKCHECK_SEED:-${GITHUB_RUN_ID:-$(date +%s)}}" \
  --report "reports/gate-$1-$2.json"
