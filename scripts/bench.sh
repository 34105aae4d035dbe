#!/usr/bin/env bash
# Builds mwad and mwad-bench in release mode and runs the benchmark from the
# repository root (it times the `mwad` daemon too, so both must be built).
# Usage: scripts/bench.sh [--write-docs] [--repeats N] [--dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release
exec .build/release/mwad-bench "$@"
