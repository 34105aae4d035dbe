#!/usr/bin/env python3
"""A deterministic evaluator for mwad's tests: scores the adapter in $MWAD_ADAPTER by
the root mean square of its tensors (standard library only, no torch; a folder or,
for kohya files, the file; MWAD_ADAPTER_FILE must name the same file), and prints it
as eval_loss in the JSON line mwad reads. Modes for the failure tests:
  --fail      exit 3 after a message on stderr
  --hang      never finish (mwad's timeout kills it)
  --garbage   print a last line that is not JSON
  --slow S    sleep S seconds first
  --log FILE  append MWAD_TARGET, MWAD_STEP and MWAD_MERGE_ID to FILE
"""
import json, math, os, struct, sys, time

def rms(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    total, count = 0.0, 0
    for name, info in sorted(header.items()):
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[base + begin:base + end]
        if info["dtype"] == "F32":
            values = struct.unpack("<%df" % (len(raw) // 4), raw)
        elif info["dtype"] == "BF16":
            values = [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
        else:
            raise SystemExit("unsupported dtype " + info["dtype"])
        total += sum(v * v for v in values)
        count += len(values)
    return math.sqrt(total / count)

def main(argv):
    if "--log" in argv:
        with open(argv[argv.index("--log") + 1], "a") as log:
            log.write("%s %s %s\n" % (os.environ.get("MWAD_TARGET"), os.environ.get("MWAD_STEP"), os.environ.get("MWAD_MERGE_ID")))
    if "--slow" in argv:
        time.sleep(float(argv[argv.index("--slow") + 1]))
    if "--fail" in argv:
        print("loading the base model failed: out of memory", file=sys.stderr)
        return 3
    if "--hang" in argv:
        time.sleep(100000)
    if "--garbage" in argv:
        print("eval loss is about three")
        return 0
    adapter = os.environ["MWAD_ADAPTER"]  # a kohya or ai-toolkit file as it is
    if os.path.isdir(adapter):
        adapter = os.path.join(os.environ["MWAD_ADAPTER"], "adapter_model.safetensors")
    if not os.path.exists(adapter):  # a diffusers folder
        adapter = os.path.join(os.environ["MWAD_ADAPTER"], "pytorch_lora_weights.safetensors")
    if adapter != os.environ["MWAD_ADAPTER_FILE"]:
        raise SystemExit("MWAD_ADAPTER_FILE is %s, not %s" % (os.environ["MWAD_ADAPTER_FILE"], adapter))
    print("scoring", adapter)
    print(json.dumps({"eval_loss": rms(adapter), "eval_tokens": 1}))
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
