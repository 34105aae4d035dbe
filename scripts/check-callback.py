#!/usr/bin/env python3
"""MwadCallback in a real Hugging Face Trainer + PEFT run (examples/train_with_mwad.py,
the source package under python/ with the mwad binary given), checked end to end:

1. save_total_limit=1, a save every 3 steps, evaluation on, report_to tensorboard,
   mlflow (a local file store) and wandb (offline, where it is installed): every
   checkpoint is in the ledger; the published merge equals `mwad merge --checkpoints`
   of the same window (byte-equal tensors) and loads in PEFT; the daemon stopped
   (`training finished`), exit 0, no mwad process left; mwad/ metrics read back from
   MLflow (MlflowClient.get_metric_history), TensorBoard (EventAccumulator) and W&B's
   offline run file at increasing steps, listed beside the trainer's loss.
2. torchrun --nproc_per_node 2 (CPU, gloo): one daemon, however many ranks.
3. The training process SIGKILLed after its third checkpoint: the daemon publishes the
   merge of the last complete checkpoint and exits 0 within seconds; none is left.
4. transformers 4.x (pip --target, ahead of the venv's 5.x): the callback works there too.

Usage: check-callback.py MWAD_BINARY BASE_MODEL   (run with the torch venv's python)
"""
import glob
import json
import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import time

import torch
from safetensors import safe_open

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(REPO, "examples", "train_with_mwad.py")
failures = []
STEPS, SAVE = 1000, 50  # the tracker case's run: a save every ~1 s, so that each is merged


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def write_examples(path, count, seed, vocab=97, length=24):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(count):
            start, stride = rng.randrange(3, vocab), rng.choice([1, 2])
            f.write(json.dumps({"input_ids": [3 + (start + stride * t) % (vocab - 3) for t in range(length)]}) + "\n")


def wandb_records(path):
    """The records of a W&B run file (`run-*.wandb`): a 7-byte header (`:W&B`, magic,
    version), then LevelDB's log format: 32 KiB blocks of chunks, each with a 7-byte
    header (CRC32C, length, type: 1 full, 2 first, 3 middle, 4 last)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b":W&B":
        raise ValueError(f"{path}: not a W&B run file")
    position, pending = 7, b""
    while position + 7 <= len(data):
        room = 32768 - position % 32768
        if room < 7:
            position += room
            continue
        _, length, kind = struct.unpack("<IHB", data[position:position + 7])
        if kind == 0:
            position += room  # the rest of the block is padding
            continue
        chunk = data[position + 7:position + 7 + length]
        position += 7 + length
        if kind == 1:
            yield chunk
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            yield pending + chunk
            pending = b""


def mwad_processes(marker):
    """PIDs of `mwad run` processes (daemons) whose command line holds `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and os.path.basename(argv[0]) == b"mwad" and argv[1] == b"run" and marker.encode() in b" ".join(argv):
            found.append(int(entry))
    return found


def status(binary, state_dir):
    out = subprocess.run([binary, "status", "--json", "--all", "--state-dir", state_dir],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def tensors(path):
    with safe_open(path, "pt") as f:
        return {key: f.get_tensor(key) for key in f.keys()}


def trainer_run(env, work, name, *, extra=(), steps=24, save_steps=3, launcher=(sys.executable,)):
    out, state = os.path.join(work, name, "run"), os.path.join(work, name, "state")
    command = [*launcher, EXAMPLE, "--base", env["BASE"], "--data", env["DATA"], "--out", out,
               "--state-dir", state, "--steps", str(steps), "--save-steps", str(save_steps),
               "--save-total-limit", "1", "--rank", "4", "--lr", "3e-3", "--batch-size", "8",
               "--max-length", "32", *extra]
    return out, state, command


def case_trackers(binary, env, work):
    print("== 1. a Trainer run with the callback, evaluation and three trackers", flush=True)
    try:
        import wandb  # noqa: F401
        trackers = "tensorboard,mlflow,wandb"
    except ImportError:
        trackers = "tensorboard,mlflow"
        print("(W&B is not installed here: its offline check is skipped)")
    # Long enough for several merges and evaluated windows.
    out, state, command = trainer_run(env, work, "trackers", steps=STEPS, save_steps=SAVE,
                                      extra=["--eval-data", env["EVAL"], "--report-to", trackers])
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-6000:])
    check(done.returncode == 0, f"the training script exits 0 ({elapsed:.1f} s)")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    mwad_lines = [line for line in done.stderr.splitlines() if line.startswith("mwad: ")]
    print("\n".join(mwad_lines[:3] + ["…"] + mwad_lines[-8:]))
    check(result["daemon"]["state"] == "stopped" and result["daemon"].get("stop_reason") == "training finished (SIGUSR2)",
          f"callback.status() says stopped: {result['daemon'].get('state')}, {result['daemon'].get('stop_reason')}")
    check(result["exit_status"] == 0, f"the daemon exited 0 ({result['exit_status']})")
    check(not mwad_processes(state), "no mwad process is left")
    final = status(binary, state)
    sys.path.insert(0, os.path.join(REPO, "python"))
    import mwad
    os.environ["MWAD_BINARY"] = binary
    by_state, by_ledger = mwad.status(state), mwad.status(os.path.join(state, "ledger.sqlite"))
    check(by_state["merge"]["id"] == by_ledger["merge"]["id"] == final["merge"]["id"],
          "mwad.status() reads the same ledger from the state directory and from the ledger file")
    try:
        mwad.status(os.path.join(work, "nowhere"))
        check(False, "mwad.status() of a run mwad never saw raises")
    except mwad.StatusError as error:
        check("no ledger" in str(error), f"mwad.status() of a run mwad never saw: StatusError({error})")
    steps = sorted(c["step"] for c in final["checkpoints"] if c["status"] in ("ingested", "evicted"))
    check(steps == list(range(SAVE, STEPS + 1, SAVE)), f"every checkpoint is in the ledger: {len(steps)} of {STEPS // SAVE}")
    check(final["counts"]["rejected"] == 0 and final["counts"]["missed"] == 0, "none rejected or missed")
    check(os.listdir(out).count(f"checkpoint-{STEPS}") == 1 and len(glob.glob(os.path.join(out, "checkpoint-*"))) == 1,
          "save_total_limit=1 left one checkpoint in the run")

    merge = final["merge"]
    members = sorted(merge["members"], key=lambda m: m["step"])
    check([m["step"] for m in members] == [STEPS - 2 * SAVE, STEPS - SAVE, STEPS], f"the final merge's window is the last three: {[m['step'] for m in members]}")
    by_id = {c["id"]: c for c in final["checkpoints"]}
    copies = [by_id[m["checkpoint_id"]]["retained"] for m in members]
    again = os.path.join(work, "trackers", "remerge")
    subprocess.run([binary, "merge", "--checkpoints", *copies, "--out", again], check=True,
                   capture_output=True)
    published, remerged = tensors(os.path.join(result["merged_path"], "adapter_model.safetensors")), \
        tensors(os.path.join(again, "adapter_model.safetensors"))
    same = published.keys() == remerged.keys() and all(
        published[k].dtype == remerged[k].dtype and published[k].shape == remerged[k].shape
        and published[k].view(-1).view(torch.uint8).equal(remerged[k].view(-1).view(torch.uint8)) for k in published)
    check(same, f"the published merge equals mwad merge --checkpoints of its window, byte for byte ({len(published)} tensors)")

    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    for label, path in (("merge", result["merged_path"]), ("best adapter", result["best_path"])):
        if path is None:
            check(False, f"the {label} exists")
            continue
        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(env["BASE"]), path).eval()
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([[3, 4, 5, 6, 7, 8]])).logits
        check(bool(torch.isfinite(logits).all()), f"PEFT loads the {label} ({path}) and its logits are finite")

    listing = {}
    # MLflow, read back from its file store.
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    runs = [run for experiment in client.search_experiments() for run in client.search_runs([experiment.experiment_id])]
    check(len(runs) == 1, f"one MLflow run ({len(runs)})")
    if runs:
        keys = sorted(runs[0].data.metrics)
        mwad_keys = [k for k in keys if k.startswith("mwad/")]
        check({"mwad/merge/members", "mwad/merge/window_step", "mwad/merge/weight_0", "mwad/eval/merge",
               "mwad/eval/newest_checkpoint", "mwad/eval/best"} <= set(mwad_keys), f"MLflow has mwad's metrics: {mwad_keys}")
        for key in ("loss", "mwad/merge/window_step", "mwad/merge/weight_0", "mwad/eval/merge", "mwad/eval/newest_checkpoint", "mwad/eval/best"):
            history = client.get_metric_history(runs[0].info.run_id, key)
            listing[f"mlflow {key}"] = [(m.step, round(m.value, 4)) for m in history]
        window = client.get_metric_history(runs[0].info.run_id, "mwad/merge/window_step")
        check(len(window) >= 2 and all(a.step <= b.step for a, b in zip(window, window[1:]))
              and all(a.value <= b.value for a, b in zip(window, window[1:])),
              f"MLflow: merges logged at increasing trainer steps, window steps increasing: {[(m.step, m.value) for m in window]}")
    # TensorBoard, read back with its own EventAccumulator.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = sorted(glob.glob(os.path.join(out, "runs", "*")))
    accumulator = EventAccumulator(events[-1]).Reload() if events else None
    tags = accumulator.Tags()["scalars"] if accumulator else []
    check("train/mwad/merge/window_step" in tags and "train/mwad/eval/merge" in tags and "train/loss" in tags,
          f"TensorBoard has mwad's metrics beside the trainer's loss: {[t for t in tags if 'mwad' in t or t == 'train/loss']}")
    for tag in ("train/loss", "train/mwad/merge/window_step", "train/mwad/eval/merge", "train/mwad/eval/best"):
        if tag in tags:
            listing[f"tensorboard {tag}"] = [(e.step, round(e.value, 4)) for e in accumulator.Scalars(tag)]
    if "train/mwad/merge/window_step" in tags:
        points = accumulator.Scalars("train/mwad/merge/window_step")
        check(all(a.step <= b.step for a, b in zip(points, points[1:])), "TensorBoard: at increasing steps")
    # W&B, read back from its offline run file.
    if "wandb" in trackers:
        from wandb.proto import wandb_internal_pb2
        files = glob.glob(os.path.join(env["WANDB_DIR"], "wandb", "offline-run-*", "run-*.wandb"))
        keys, steps_seen = set(), []
        for path in files:
            for data in wandb_records(path):
                pb = wandb_internal_pb2.Record()
                pb.ParseFromString(data)
                if pb.WhichOneof("record_type") == "history":
                    items = {item.key or "/".join(item.nested_key): item.value_json for item in pb.history.item}
                    keys.update(k for k in items if "mwad/" in k)
                    if "train/mwad/merge/window_step" in items:
                        steps_seen.append(json.loads(items.get("train/global_step", "0")))
        check("train/mwad/merge/window_step" in keys and "train/mwad/eval/merge" in keys,
              f"W&B's offline run has mwad's metrics: {sorted(keys)[:8]}…")
        check(len(steps_seen) >= 2 and steps_seen == sorted(steps_seen), f"W&B: at increasing train/global_step {steps_seen}")
        listing["wandb train/mwad/merge/window_step at train/global_step"] = steps_seen
    print("-- mwad's metrics beside the trainer's loss (step, value):")
    for key, points in listing.items():
        print(f"   {key}: {points}")
    return elapsed


def case_torchrun(binary, env, work):
    print("== 2. torchrun --nproc_per_node 2 (gloo): one daemon", flush=True)
    # torch's CPU gloo DDP aborts a rank now and then here ("terminate called without an
    # active exception": 1 run in ~10, with or without the callback): one retry for that.
    for attempt in (1, 2):
        out, state, command = trainer_run(env, work, f"torchrun-{attempt}", steps=12, extra=["--ddp-backend", "gloo"],
                                          launcher=(sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                                                    "--master_port", str(29500 + (os.getpid() + attempt) % 1000)))
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work)
        most = 0
        while child.poll() is None:
            most = max(most, len(mwad_processes(state)))
            time.sleep(0.05)
        stdout, stderr = child.communicate()
        check(most == 1, f"one mwad daemon ran for the two ranks (at most {most} at once)")
        check(not mwad_processes(state), "no mwad process is left")
        if child.returncode != 0 and attempt == 1 and "terminate called without an active exception" in stderr:
            print("torchrun: a rank aborted inside torch/gloo (terminate called without an active exception): once more")
            continue
        break
    if child.returncode != 0:
        print(stdout[-2000:], stderr[-5000:])
    check(child.returncode == 0, "torchrun exits 0")
    final = status(binary, state)
    check(final["counts"]["ingested_total"] == 4 and final.get("merge") is not None,
          f"its ledger has the 4 checkpoints and a merge ({final['counts']['ingested_total']})")


def case_killed(binary, env, work):
    print("== 3. the training process SIGKILLed after its third checkpoint", flush=True)
    out, state, command = trainer_run(env, work, "killed", steps=400, save_steps=3)
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             cwd=work, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not os.path.exists(os.path.join(out, "checkpoint-9", "trainer_state.json")):
        time.sleep(0.02)
    daemons = mwad_processes(state)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed_at = time.monotonic()
    while mwad_processes(state) and time.monotonic() - killed_at < 30:
        time.sleep(0.05)
    gone_after = time.monotonic() - killed_at
    check(len(daemons) == 1, f"one daemon ran ({daemons})")
    check(not mwad_processes(state), f"the daemon ended {gone_after:.2f} s after its trainer was killed")
    final = status(binary, state)
    complete = sorted(int(p.rsplit("-", 1)[1]) for p in glob.glob(os.path.join(out, "checkpoint-*"))
                      if os.path.exists(os.path.join(p, "trainer_state.json")))
    newest = max(m["step"] for m in final["merge"]["members"]) if final["merge"] else None
    check(newest is not None and newest == complete[-1],
          f"the published merge's newest member is the last complete checkpoint ({newest}, {complete[-1:]})")
    reason = final["daemon"].get("stop_reason") or ""
    check(final["daemon"]["state"] == "stopped" and "exited" in reason, f"status: stopped, {reason}")
    return gone_after


def case_keys():
    print("== 0. the callback's settings are config/mwad.yaml's keys", flush=True)
    import re
    import yaml
    sys.path.insert(0, os.path.join(REPO, "python"))
    from mwad import _settings
    with open(os.path.join(REPO, "config", "mwad.yaml")) as f:
        text = f.read()
    config = yaml.safe_load(text)
    sections = {name: tuple(value) for name, value in config.items() if isinstance(value, dict)}
    top = {name for name, value in config.items() if not isinstance(value, dict)}
    top |= set(re.findall(r"^# ([a-z_]+): ", text, re.M)) - set(sections)
    check({k: set(v) for k, v in sections.items()} == {k: set(v) for k, v in _settings.SECTIONS.items()},
          "every section's keys")
    check(top == set(_settings.TOP_LEVEL), f"the top-level keys: {sorted(top)}")
    env = _settings.environment({"window": 4, "eval_command": ["python3", "e.py"], "watch": {"mode": "poll"},
                                 "best_output": "/b", "output": "/o", "hook_timeout": 5})
    check(env == {"MWAD_MERGE_WINDOW": "4", "MWAD_EVAL_COMMAND": "python3,e.py", "MWAD_WATCH_MODE": "poll",
                  "MWAD_EVAL_BEST_OUTPUT": "/b", "MWAD_OUTPUT": "/o", "MWAD_HOOK_TIMEOUT": "5"}, f"as MWAD_* variables: {env}")
    for wrong in ({"windwo": 3}, {"merge": {"windwo": 3}}, {"watch_directory": "/x"}):
        try:
            _settings.environment(wrong)
            check(False, f"{wrong} is refused")
        except TypeError as error:
            check(True, f"{wrong} is refused: {error}")


def case_transformers4(binary, env, work):
    print("== 4. the same callback under transformers 4.x (installed beside the venv's 5.x, first on PYTHONPATH);\n"
          "      mwad polls every 10 minutes, so each checkpoint comes in by the callback's wake-up (on_save)", flush=True)
    target = os.path.join(work, "transformers4")
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", target, "transformers>=4.50,<5"],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        print(f"skipped: transformers 4.x cannot be installed here: {pip.stderr.strip().splitlines()[-1:]}")
        return
    env4 = dict(env, PYTHONPATH=target + os.pathsep + env["PYTHONPATH"], MWAD_WATCH_MODE="poll",
                MWAD_WATCH_POLL_INTERVAL="600")
    version = subprocess.run([sys.executable, "-c", "import transformers; print(transformers.__version__)"],
                             env=env4, capture_output=True, text=True).stdout.strip()
    out, state, command = trainer_run(env4, work, "transformers4", steps=400, save_steps=40,
                                      extra=["--report-to", "tensorboard"])
    done = subprocess.run(command, env=env4, capture_output=True, text=True, cwd=work)
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-5000:])
    check(done.returncode == 0 and version.startswith("4."), f"transformers {version}: the training script exits 0")
    result = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else {"daemon": {}}
    check(result["daemon"].get("stop_reason") == "training finished (SIGUSR2)", "mwad stopped: training finished")
    check(not mwad_processes(state), "no mwad process is left")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = sorted(glob.glob(os.path.join(out, "runs", "*")))
    tags = EventAccumulator(events[-1]).Reload().Tags()["scalars"] if events else []
    check("train/mwad/merge/window_step" in tags, "TensorBoard has mwad's metrics")
    final = status(binary, state)
    check(final["counts"]["ingested_total"] == 10 and final["counts"]["missed"] == 0,
          f"woken at each save, mwad read all 10 checkpoints before their rotation ({final['counts']['ingested_total']}, "
          f"{final['counts']['missed']} missed)")


def main():
    binary, base = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # read back here as the trainer wrote it
    with tempfile.TemporaryDirectory(prefix="mwad-callback-") as work:
        env = dict(os.environ)
        env.update(MWAD_BINARY=binary, PYTHONPATH=os.path.join(REPO, "python"), BASE=base,
                   DATA=os.path.join(work, "train.jsonl"), EVAL=os.path.join(work, "val.jsonl"),
                   MLFLOW_TRACKING_URI="file:" + os.path.join(work, "mlruns"), MLFLOW_ALLOW_FILE_STORE="true",
                   WANDB_MODE="offline",
                   WANDB_DIR=work, WANDB_SILENT="true", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
                   XDG_STATE_HOME=os.path.join(work, "xdg"), OMP_NUM_THREADS="1")
        write_examples(env["DATA"], 400, 0)
        write_examples(env["EVAL"], 32, 1)
        case_keys()
        case_trackers(binary, env, work)
        case_torchrun(binary, env, work)
        case_killed(binary, env, work)
        case_transformers4(binary, env, work)
    if failures:
        print(f"{len(failures)} failed:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("the callback works in a real Trainer run, with its trackers, under torchrun and when killed")


if __name__ == "__main__":
    main()
