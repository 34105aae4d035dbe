#!/usr/bin/env python3
"""mwad's scores read back by the real TensorBoard (CI runs it through .ci/run).

A copy of a real diffusers run is watched once by `mwad run --once` with an evaluator
(the tests' deterministic one), a candidate, and `tensorboard.logdir: auto`; then
tensorboard's own EventAccumulator reads mwad's event file and the trainer's, and the
listing is printed: mwad's scalars at the newest member's step beside train_loss.

Usage: check-tensorboard.py MWAD FIXTURES
Exit 1 when a tag is missing or a value is not what the ledger holds.
"""
import json, os, shutil, sqlite3, subprocess, sys, tempfile

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

mwad, fixtures = sys.argv[1], sys.argv[2]
failed = 0


def check(ok, what):
    global failed
    failed += not ok
    print(("ok    " if ok else "FAIL  ") + what, flush=True)


with tempfile.TemporaryDirectory() as work:
    run = os.path.join(work, "run")
    shutil.copytree(os.path.join(fixtures, "diffusers-run"), run)
    ledger = os.path.join(work, "state", "ledger.sqlite")
    env = dict(os.environ, MWAD_EVAL_COMMAND=f"{sys.executable},{fixtures}/evaluators/norm_eval.py",
               MWAD_EVAL_CANDIDATES="weighting=uniform;window=2", MWAD_TENSORBOARD_LOGDIR="auto",
               MWAD_MERGE_WEIGHTING="loss", MWAD_MERGE_WINDOW="3")
    result = subprocess.run([mwad, "run", "--watch", run, "--once", "--ledger", ledger], env=env, capture_output=True, text=True)
    check(result.returncode == 0, f"mwad run --once exits 0 ({result.stderr.strip().splitlines()[-1:] if result.returncode else ''})")

    mine = EventAccumulator(os.path.join(run, "logs", "mwad"), size_guidance={"scalars": 0, "tensors": 0})
    mine.Reload()
    trainer = EventAccumulator(os.path.join(run, "logs", "text2image-fine-tune"))
    trainer.Reload()
    print("EventAccumulator listing (tag: step=value):")
    for tag in trainer.Tags()["scalars"]:
        events = trainer.Scalars(tag)
        print(f"  trainer {tag}: {len(events)} steps, " + ", ".join(f"{e.step}={e.value:.4f}" for e in events[-3:]))
    for tag in sorted(mine.Tags()["scalars"]):
        print(f"  mwad    {tag}: " + ", ".join(f"{e.step}={e.value:.6g}" for e in mine.Scalars(tag)))
    for tag in sorted(mine.Tags()["tensors"]):
        for e in mine.Tensors(tag):
            print(f"  mwad    {tag} (text) at {e.step}: " + e.tensor_proto.string_val[0].decode().replace("\n", " / "))

    scalars = set(mine.Tags()["scalars"])
    for tag in ("mwad/eval/merge", "mwad/eval/newest_checkpoint", "mwad/eval/candidate_1", "mwad/eval/merge_vs_newest_percent",
                "mwad/eval/best", "mwad/merge/members", "mwad/merge/newest_weight"):
        check(tag in scalars and mine.Scalars(tag)[-1].step == 40, f"{tag} at step 40")
    check("train_loss" in trainer.Tags()["scalars"] and len(trainer.Scalars("train_loss")) == 40, "the trainer's train_loss beside it")
    db = sqlite3.connect(ledger)
    for target, tag in (("merge", "mwad/eval/merge"), ("checkpoint", "mwad/eval/newest_checkpoint")):
        (value,) = db.execute("SELECT value FROM evaluation WHERE target = ? ORDER BY id DESC LIMIT 1", (target,)).fetchone()
        got = mine.Scalars(tag)[-1].value
        check(abs(got - value) <= 1e-6 * abs(value), f"{tag} = the ledger's {target} score ({got:.6g} vs {value:.6g})")
    texts = mine.Tags()["tensors"]
    check("mwad/eval/best_label" in texts and "mwad/merge/weights" in texts, "the text summaries (best, weights)")

# The trainer run again into the same directory: run A (steps 10-80), the directory
# emptied, run B (steps 10-40, other adapters). mwad marks the restart with a SessionLog
# START at step 10, and TensorBoard's reader shows run B's merges only.
with tempfile.TemporaryDirectory() as work:
    run, board, ledger = (os.path.join(work, name) for name in ("run", "tb", "ledger.sqlite"))
    env = dict(os.environ, MWAD_TENSORBOARD_LOGDIR=board, MWAD_MERGE_WINDOW="2")
    source = os.path.join(fixtures, "trainer-run-f32")
    shutil.copytree(source, run)
    first = subprocess.run([mwad, "run", "--watch", run, "--once", "--ledger", ledger], env=env, capture_output=True, text=True)
    for name in os.listdir(run):
        shutil.rmtree(os.path.join(run, name))
    for step in (10, 20, 30, 40):  # run B: other adapters at the same steps, written now
        shutil.copytree(os.path.join(source, f"checkpoint-{step + 40}"), os.path.join(run, f"checkpoint-{step}"),
                        copy_function=shutil.copyfile)
    second = subprocess.run([mwad, "run", "--watch", run, "--once", "--ledger", ledger], env=env, capture_output=True, text=True)
    check(first.returncode == 0 and second.returncode == 0, f"both runs merged ({first.stderr[-300:]}{second.stderr[-300:]})")
    board = EventAccumulator(board, size_guidance={"scalars": 0})
    board.Reload()
    steps = [e.step for e in board.Scalars("mwad/merge/members")] if "mwad/merge/members" in board.Tags()["scalars"] else []
    print(f"  after the restart, mwad/merge/members at steps {steps}")
    check(steps == [40], "TensorBoard shows only run B's merge (run A's at step 80 dropped by the restart marker)")

print("failed" if failed else "all passed")
sys.exit(1 if failed else 0)
