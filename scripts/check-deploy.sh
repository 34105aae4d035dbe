#!/usr/bin/env bash
# Validates the cluster recipes in deploy/: the Kubernetes manifests against the API
# schemas of the oldest Kubernetes with native sidecars (1.29) and the newest the
# validator knows, strictly (an unknown field fails); the Slurm script with bash -n
# and shellcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
for version in 1.29.0 ""; do
    kubernetes-validate --strict ${version:+-k "$version"} deploy/kubernetes/*.yaml
done
for script in deploy/slurm/*.sbatch scripts/*.sh .ci/run; do
    bash -n "$script"
    shellcheck -x "$script"   # -x: follows the scripts they source (paths from the repository root)
done
# A pipeline into `grep -q` under `set -o pipefail` fails at random: grep exits at the
# first match and the writer dies of SIGPIPE (exit 141). Grep a here-string instead.
if pipes=$(grep -nE '\|[[:space:]]*grep[[:space:]]+-[a-zA-Z]*q' deploy/slurm/*.sbatch scripts/*.sh scripts/*.py .ci/run packaging/deb/*); then
    echo "a pipeline into grep -q (exit 141 under pipefail); grep a here-string instead:" >&2
    echo "$pipes" >&2
    exit 1
fi
echo "deploy recipes: ok"
