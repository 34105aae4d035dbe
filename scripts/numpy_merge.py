#!/usr/bin/env python3
"""The reference a practitioner would write: load each adapter with safetensors.numpy,
weighted sum in F32 with numpy, save. Prints the seconds of the median of --repeat runs.

Usage: numpy_merge.py OUT WEIGHTS_CSV IN... [--repeat N]
"""
import statistics, sys, time
import numpy as np
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


def main():
    args = sys.argv[1:]
    repeat = 5
    if "--repeat" in args:
        i = args.index("--repeat")
        repeat = int(args[i + 1])
        del args[i:i + 2]
    out, weights, inputs = args[0], [float(w) for w in args[1].split(",")], args[2:]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        merge(out, weights, inputs)
        times.append(time.perf_counter() - start)
    print(f"{statistics.median(times):.6f}")


if __name__ == "__main__":
    main()
