#!/usr/bin/env python3
"""The torch reference, as fairseq's average_checkpoints.py does it: load each adapter
with safetensors.torch, accumulate w * tensor in place with add_ (F32 for F32 inputs,
the inputs' own dtype otherwise, as torch keeps it), save. Prints the seconds of the
median of --repeat runs; exits 3 when torch is not installed.

Usage: torch_merge.py OUT WEIGHTS_CSV IN... [--repeat N]
"""
import sys

import reference_timing

try:
    import torch
    from safetensors.torch import load_file, save_file
except ImportError as error:
    print(f"torch reference unavailable: {error}", file=sys.stderr)
    sys.exit(3)


def merge(out, weights, inputs):
    total = None
    for w, path in zip(weights, inputs):
        tensors = load_file(path)
        if total is None:
            total = {k: v.mul_(w) for k, v in tensors.items()}
        else:
            for k, v in tensors.items():
                total[k].add_(v, alpha=w)
    save_file(total, out, metadata={"format": "pt"})


if __name__ == "__main__":
    reference_timing.run(merge)
