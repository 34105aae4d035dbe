#!/usr/bin/env python3
"""examples/eval_peft.py's serving mode (mwad's `eval.mode: persistent`), checked with
real PEFT on the test base model:

1. Six checkpoints scored by one `--serve` process (JSON requests on stdin, adapters
   swapped with load_adapter / delete_adapter) give the one-shot mode's scores
   (a process per adapter) within 1e-6; the benchmark row: both timed in this run,
   printed as a ratio.
2. `mwad run --once` with eval.mode persistent and eval_peft.py on a copy of the run:
   the window's merge and newest checkpoint are scored through the protocol, the
   checkpoint's score equal to the one-shot one.
3. `mwad eval` after a `mwad run --once` without an evaluator (eval.retain: all): the
   window re-made from the retained copies gets the live gate's scores.

Usage: check-eval-serve.py MWAD_BINARY BASE_MODEL RUN_DIR   (the torch venv's python)
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVAL = os.path.join(REPO, "examples", "eval_peft.py")
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def main():
    binary, base, run = (os.path.abspath(a) for a in sys.argv[1:4])
    steps = [10, 20, 30, 40, 50, 60]
    with tempfile.TemporaryDirectory(prefix="mwad-serve-") as work:
        data = os.path.join(work, "val.jsonl")
        rng = random.Random(1)
        with open(data, "w") as f:
            for _ in range(64):
                start = rng.randrange(3, 97)
                f.write(json.dumps({"input_ids": [3 + (start + t) % 94 for t in range(32)]}) + "\n")
        command = [sys.executable, EVAL, "--base", base, "--data", data]
        env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
        env.pop("MWAD_EVAL_PROTOCOL", None)

        began = time.monotonic()
        alone = {}
        for step in steps:
            done = subprocess.run(command + ["--adapter", f"{run}/checkpoint-{step}"], capture_output=True, text=True, env=env)
            alone[step] = json.loads(done.stdout.strip().splitlines()[-1])["eval_loss"]
        per_adapter = time.monotonic() - began

        began = time.monotonic()
        server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, env=dict(env, MWAD_EVAL_PROTOCOL="jsonl"))
        served = {}
        for step in steps:
            server.stdin.write(json.dumps({"id": f"r{step}", "adapter": f"{run}/checkpoint-{step}", "target": "checkpoint",
                                           "step": step, "merge_id": 1}) + "\n")
            server.stdin.flush()
            answer = json.loads(server.stdout.readline())
            served[step] = (answer["id"], answer.get("eval_loss"))
        server.stdin.close()
        server.wait(timeout=60)
        persistent = time.monotonic() - began

        print("== eval_peft.py --serve against its one-shot mode")
        for step in steps:
            ident, value = served[step]
            check(ident == f"r{step}" and value is not None and abs(value - alone[step]) <= 1e-6,
                  f"checkpoint-{step}: served {value} = one-shot {alone[step]}")
        check(server.returncode == 0, "the server exits 0 at EOF")
        print(f"benchmark: {len(steps)} adapters on the test base model: a process per adapter {per_adapter:.1f} s, "
              f"persistent {persistent:.1f} s: ratio {per_adapter / persistent:.1f}x")

        print("== mwad run --once, eval.mode persistent, eval_peft.py")
        copy = os.path.join(work, "run")
        shutil.copytree(run, copy)
        once = subprocess.run([binary, "run", "--once", "--watch", copy, "--state-dir", os.path.join(work, "state"),
                               "--eval-mode", "persistent", "--eval-command", ",".join(command), "--eval-nice", "0"],
                              capture_output=True, text=True, env=env)
        check(once.returncode == 0, f"mwad run --once exits 0 ({once.returncode})")
        status = json.loads(subprocess.run([binary, "status", "--json", "--state-dir", os.path.join(work, "state")],
                                           capture_output=True, text=True, check=True).stdout)
        scored = {e["target"]: e for e in status["evaluations"]}
        check(set(scored) == {"merge", "checkpoint"} and all(e["status"] == "ok" for e in scored.values()),
              f"the window's merge and checkpoint scored: {[(e['target'], e['status'], e.get('error')) for e in status['evaluations']]}")
        if "checkpoint" in scored:
            newest = subprocess.run(command + ["--adapter", f"{run}/checkpoint-80"], capture_output=True, text=True, env=env)
            expected = json.loads(newest.stdout.strip().splitlines()[-1])["eval_loss"]
            check(abs(scored["checkpoint"]["value"] - expected) <= 1e-6,
                  f"checkpoint-80 through mwad's protocol {scored['checkpoint']['value']} = one-shot {expected}")
        check("evaluator started (pid " in once.stderr, "one evaluator process, started once")
        if once.returncode != 0:
            print(once.stderr[-3000:])

        print("== mwad eval after a run without an evaluator (eval.retain: all)")
        later = os.path.join(work, "run-later")
        shutil.copytree(run, later)
        state = os.path.join(work, "state-later")
        plain = subprocess.run([binary, "run", "--once", "--watch", later, "--state-dir", state, "--retain", "all"],
                               capture_output=True, text=True, env=env)
        check(plain.returncode == 0, f"mwad run --once without an evaluator exits 0 ({plain.returncode})")
        settled = subprocess.run([binary, "eval", "--state-dir", state, "--eval-mode", "persistent", "--eval-command", ",".join(command),
                                  "--eval-nice", "0"], capture_output=True, text=True, env=env)
        print(settled.stdout.strip())
        check(settled.returncode == 0, f"mwad eval exits 0 ({settled.returncode})")
        if settled.returncode != 0:
            print(settled.stderr[-3000:])
        after = json.loads(subprocess.run([binary, "status", "--json", "--state-dir", state],
                                          capture_output=True, text=True, check=True).stdout)
        late = {e["target"]: e for e in after["evaluations"]}
        for target in ("merge", "checkpoint"):
            if target in scored and target in late:
                check(abs(late[target]["value"] - scored[target]["value"]) <= 1e-6,
                      f"{target}: mwad eval's score {late[target]['value']} = the live gate's {scored[target]['value']}")
            else:
                check(False, f"{target} scored by both: live {target in scored}, mwad eval {target in late}")
    if failures:
        print(f"{len(failures)} failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
