"""The command line and timing the reference merges share.

Usage of a reference script: SCRIPT OUT WEIGHTS_CSV IN... [--repeat N]; prints the
seconds of the median of N runs (default 5) of merge(out, weights, inputs).
"""
import statistics, sys, time


def run(merge):
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
