#!/usr/bin/env python3
"""An evaluator for mwad's `eval.command`: loads a base model and the adapter mwad
hands over (in $MWAD_ADAPTER, or --adapter) with PEFT, computes the mean token loss
on a held-out file you name, and prints the JSON line mwad reads as the score.

Install (once, in the environment the command runs in):
    pip install torch transformers peft           # and `datasets` for --data *.parquet/.arrow

Use in the mwad configuration:
    eval:
      command: [python3, /opt/mwad/eval_peft.py, --base, /models/llama, --data, /data/val.jsonl]
      metric: eval_loss
      goal: minimize

--data: a JSONL file, one example per line, either {"input_ids": [1, 2, ...]} (already
tokenized) or {"text": "..."} (tokenized with the base model's tokenizer); a .json,
.parquet or .arrow file is read with Hugging Face `datasets` the same way.
Prints as its last line: {"eval_loss": 3.531, "eval_tokens": 16384, "eval_examples": 512}

--serve (or MWAD_EVAL_PROTOCOL=jsonl, as mwad sets with `eval.mode: persistent`): loads
the base model and the data once, then scores one adapter per request line on stdin,
{"id": ..., "adapter": FOLDER, ...}, answering {"id": ..., "eval_loss": ...} on stdout
(PEFT's load_adapter / delete_adapter: the base model stays loaded), until EOF.
"""
import argparse, json, math, os, sys


def result_line(loss_sum, tokens, examples):
    """The line mwad reads: the mean loss per predicted token, and what it was over."""
    loss = loss_sum / tokens if tokens else float("nan")
    return json.dumps({"eval_loss": round(loss, 6) if math.isfinite(loss) else None,
                       "eval_tokens": tokens, "eval_examples": examples})


def read_examples(path, limit):
    if path.endswith(".jsonl"):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    else:
        import datasets
        kind = {"json": "json", "parquet": "parquet", "arrow": "arrow"}[path.rsplit(".", 1)[-1]]
        rows = list(datasets.load_dataset(kind, data_files=path, split="train"))
    return rows[:limit] if limit else rows


def tokenize(rows, base, max_length):
    if all("input_ids" in row for row in rows):
        return [list(row["input_ids"])[:max_length] for row in rows]
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(base)
    return [tokenizer(row["text"], truncation=True, max_length=max_length)["input_ids"] for row in rows]


def load_base(base, device):
    import torch
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_pretrained(base, torch_dtype=torch.float32).to(device)


def evaluate(base, adapter, sequences, batch_size, device):
    from peft import PeftModel
    model = PeftModel.from_pretrained(load_base(base, device), adapter).to(device).eval()
    return score(model, sequences, batch_size, device)


def score(model, sequences, batch_size, device):
    import torch
    loss_sum, tokens = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(sequences), batch_size):
            batch = sequences[start:start + batch_size]
            width = max(len(s) for s in batch)
            ids = torch.zeros(len(batch), width, dtype=torch.long)
            labels = torch.full((len(batch), width), -100, dtype=torch.long)
            mask = torch.zeros(len(batch), width, dtype=torch.long)
            for i, seq in enumerate(batch):
                ids[i, :len(seq)] = torch.tensor(seq)
                labels[i, :len(seq)] = torch.tensor(seq)
                mask[i, :len(seq)] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            shifted = labels[:, 1:].to(device)
            losses = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), shifted.reshape(-1),
                                                       ignore_index=-100, reduction="sum")
            loss_sum += float(losses)
            tokens += int((shifted != -100).sum())
    return loss_sum, tokens


def serve(a, sequences):
    """One adapter per request line; the base model loaded once, adapters swapped."""
    from peft import PeftModel
    base, model, previous = load_base(a.base, a.device), None, None
    for count, line in enumerate(sys.stdin):
        if not line.strip():
            continue
        request = json.loads(line)
        name = f"adapter{count}"
        try:
            if model is None:
                model = PeftModel.from_pretrained(base, request["adapter"], adapter_name=name)
            else:
                model.load_adapter(request["adapter"], adapter_name=name)
                model.set_adapter(name)
            if previous is not None:
                model.delete_adapter(previous)
            previous = name
            model.to(a.device).eval()
            answer = json.loads(result_line(*score(model, sequences, a.batch_size, a.device), len(sequences)))
        except Exception as error:  # one adapter that cannot be loaded fails alone
            answer = {"error": f"{type(error).__name__}: {error}"}
            print(f"cannot score {request.get('adapter')}: {answer['error']}", file=sys.stderr)
        print(json.dumps({"id": request["id"], **answer}), flush=True)
        print(f"evaluated {request['adapter']} ({request.get('target', 'adapter')})", file=sys.stderr, flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True, help="the base model (a folder or a Hub name available offline)")
    p.add_argument("--data", required=True, help="held-out examples: .jsonl (input_ids or text), .json, .parquet, .arrow")
    p.add_argument("--adapter", default=os.environ.get("MWAD_ADAPTER"), help="the adapter folder (default: $MWAD_ADAPTER)")
    p.add_argument("--limit", type=int, default=0, help="evaluate only the first N examples")
    p.add_argument("--max-length", type=int, default=2048)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--device", default="cuda" if os.environ.get("CUDA_VISIBLE_DEVICES", "") not in ("", "-1") else "cpu")
    p.add_argument("--serve", action="store_true", default=os.environ.get("MWAD_EVAL_PROTOCOL") == "jsonl",
                   help="answer a JSON request per stdin line (mwad's eval.mode: persistent); the default under it")
    a = p.parse_args(argv)
    if a.serve:
        sequences = [s for s in tokenize(read_examples(a.data, a.limit), a.base, a.max_length) if len(s) >= 2]
        if not sequences:
            p.error(f"{a.data}: no example with at least 2 tokens")
        serve(a, sequences)
        return
    if not a.adapter:
        p.error("no adapter: give --adapter or run under mwad (MWAD_ADAPTER)")
    sequences = [s for s in tokenize(read_examples(a.data, a.limit), a.base, a.max_length) if len(s) >= 2]
    if not sequences:
        p.error(f"{a.data}: no example with at least 2 tokens")
    loss_sum, tokens = evaluate(a.base, a.adapter, sequences, a.batch_size, a.device)
    print(f"evaluated {a.adapter} ({os.environ.get('MWAD_TARGET', 'adapter')}) on {len(sequences)} examples", file=sys.stderr)
    print(result_line(loss_sum, tokens, len(sequences)))


if __name__ == "__main__":
    main()
