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
With MWAD_EVAL_PROTOCOL=jsonl (eval.mode: persistent) it serves: a request per stdin
line, an answer per stdout line with the request's id, until EOF. Its modes there:
  --starts FILE      append a line to FILE at each start
  --fail             exit 3 at start, after a message on stderr
  --never-answer     read requests, answer none
  --garbage          print lines that answer nothing around each answer
  --crash-at N       exit 5 on receiving request N (counted from 1 in this process)
  --crash-on-step S  exit 5 on receiving any request for step S
  --slow S           sleep S seconds per request
  --log FILE         append target, step and merge_id of each request to FILE
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

def adapter_file(adapter, named):
    """The safetensors file of `adapter` (a folder, or a kohya file as it is); it must be
    the file mwad names."""
    path = adapter
    if os.path.isdir(path):
        path = os.path.join(adapter, "adapter_model.safetensors")
    if not os.path.exists(path):  # a diffusers folder
        path = os.path.join(adapter, "pytorch_lora_weights.safetensors")
    if path != named:
        raise SystemExit("the adapter file is %s, not %s" % (named, path))
    return path

def serve(argv):
    option = lambda name: argv[argv.index(name) + 1] if name in argv else None
    if option("--starts"):
        with open(option("--starts"), "a") as f:
            f.write("start\n")
    if "--fail" in argv:
        print("loading the base model failed: out of memory", file=sys.stderr)
        return 3
    received = 0
    for line in sys.stdin:
        request = json.loads(line)
        received += 1
        if option("--log"):
            with open(option("--log"), "a") as log:
                log.write("%s %s %s\n" % (request["target"], request["step"], request["merge_id"]))
        if (option("--crash-at") and received == int(option("--crash-at"))) or \
                (option("--crash-on-step") and request["step"] == int(option("--crash-on-step"))):
            print("segmentation fault (simulated)", file=sys.stderr)
            sys.stderr.flush()
            os._exit(5)
        if "--never-answer" in argv:
            continue
        if option("--slow"):
            time.sleep(float(option("--slow")))
        if "--garbage" in argv:
            print("loading adapter", request["adapter"], flush=True)
            print(json.dumps({"progress": 0.5}), flush=True)
        score = rms(adapter_file(request["adapter"], request["adapter_file"]))
        print(json.dumps({"id": request["id"], "eval_loss": score, "eval_tokens": 1}), flush=True)
        if "--garbage" in argv:
            print(json.dumps({"id": "not-a-request", "eval_loss": 0}), flush=True)
    return 0

def main(argv):
    if os.environ.get("MWAD_EVAL_PROTOCOL") == "jsonl":
        return serve(argv)
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
    adapter = adapter_file(os.environ["MWAD_ADAPTER"], os.environ["MWAD_ADAPTER_FILE"])
    print("scoring", adapter)
    print(json.dumps({"eval_loss": rms(adapter), "eval_tokens": 1}))
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
