#!/usr/bin/env python3
"""The reference a practitioner would write: load each adapter with safetensors.numpy,
weighted sum in F32 with numpy, save. Prints the seconds of the median of --repeat runs.

Usage: numpy_merge.py OUT WEIGHTS_CSV IN... [--repeat N]
"""
import numpy as np

import reference_timing
from safetensors.numpy import load_file, save_file


def merge(out, weights, inputs):
    total = None
    for w, path in zip(weights, inputs):
        tensors = load_file(path)
        if total is None:
            total = {k: np.float32(w) * v.astype(np.float32) for k, v in tensors.items()}
        else:
            for k, v in tensors.items():
                total[k] += np.float32(w) * v
    save_file(total, out, metadata={"format": "pt"})


if __name__ == "__main__":
    reference_timing.run(merge)
