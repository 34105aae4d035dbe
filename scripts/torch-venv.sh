#!/usr/bin/env bash
# Makes (once) a Python venv with torch (CPU), transformers, peft, safetensors,
# diffusers, tensorboard, MLflow's tracking client (mlflow-skinny) and wandb for the
# real-client checks, and prints its python. A local CPU-only torch wheel is
# preferred (these machines' image ships one): PyPI's default torch pulls gigabytes
# of CUDA libraries. Exit 3 with one line when they cannot be had.
set -euo pipefail
venv="${MWAD_TORCH_VENV:-$(cd "$(dirname "$0")/.." && pwd)/.venv-torch}"
if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "import torch, transformers, peft, safetensors, diffusers, tensorboard, mlflow, wandb" 2>/dev/null; then
    echo "$venv/bin/python"; exit 0
fi
python3 -m venv "$venv" >&2 || { echo "skipped: python3 -m venv failed" >&2; exit 3; }
wheel=$(find / -xdev -name 'torch-*cpu*.whl' 2>/dev/null | sort | tail -1 || true)
if [[ -n "$wheel" ]]; then
    "$venv/bin/pip" install -q "$wheel" >&2 || { echo "skipped: installing $wheel failed" >&2; exit 3; }
else
    # PyPI's torch (large: it brings CUDA libraries) only where no local wheel exists.
    "$venv/bin/pip" install -q torch >&2 || { echo "skipped: no torch to be had" >&2; exit 3; }
fi
"$venv/bin/pip" install -q transformers peft safetensors numpy diffusers tensorboard mlflow-skinny wandb >&2 \
    || { echo "skipped: transformers, peft, diffusers, tensorboard, mlflow or wandb from PyPI failed" >&2; exit 3; }
echo "$venv/bin/python"
