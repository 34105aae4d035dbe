#!/usr/bin/env bash
# Checks systemd/mwad@.service: `systemd-analyze verify` (with ExecStart pointed at a
# built binary, since verify insists the program exists) and the offline security
# exposure score, which must be 2.5 or lower.
set -euo pipefail
binary=$(realpath "${1:?usage: check-unit.sh MWAD_BINARY}")
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unit="$work/mwad@ci.service"
sed "s|/usr/local/bin/mwad|$binary|" systemd/mwad@.service > "$unit"

systemd-analyze verify "$unit"
echo "systemd-analyze verify: ok"

report=$(systemd-analyze security --offline=true "$unit")
exposure=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
echo "exposure: $exposure (limit 2.5)"
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.5) }' || { printf '%s\n' "$report"; exit 1; }
