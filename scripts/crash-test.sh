#!/usr/bin/env bash
# The crash-consistency test, longer: the real daemon, a trainer writing CHECKPOINTS
# checkpoints (default 500) with rotation, a SIGKILL at a random moment after every
# fifth, and a reader checking the published merge all along. Repeats ROUNDS times.
#   scripts/crash-test.sh [CHECKPOINTS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
checkpoints=${1:-500}
rounds=${2:-1}
swift build --build-tests
for round in $(seq "$rounds"); do
    echo "== round $round of $rounds: $checkpoints checkpoints"
    MWAD_CRASH_CHECKPOINTS=$checkpoints swift test --skip-build --filter CrashConsistencyTests 2>&1 |
        grep -E "crash test:|✘|passed after|failed after"
done
