#!/usr/bin/env python3
"""The torch reference, as fairseq's average_checkpoints.py does it: load each adapter
with safetensors.torch, accumulate w * tensor in place with add_ (F32 for F32 inputs,
the inputs' own dtype otherwise, as torch keeps it), save. Prints the seconds of the
median of --repeat runs; exits 3 when torch is not installed.

Usage: torch_merge.py OUT WEIGHTS_CSV IN... [--repeat N]
"""
import statistics, sys, time

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


def main():
    torch.set_num_threads(torch.get_num_threads())
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
