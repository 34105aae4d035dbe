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
echo "deploy recipes: ok"
