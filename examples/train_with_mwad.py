#!/usr/bin/env python3
"""A LoRA fine-tune with Hugging Face Trainer + PEFT, mwad keeping the MWA merge of its
latest checkpoints (and, with --eval-data, the best adapter on your evaluation).

    pip install mwad-*.whl torch transformers peft
    python examples/train_with_mwad.py --base Qwen/Qwen2.5-0.5B --data train.jsonl \
        --eval-data val.jsonl --out runs/qwen-lora

--data / --eval-data: JSONL, one example per line: {"text": "..."} (tokenized with the
base model's tokenizer) or {"input_ids": [...]}. The two lines that bring mwad in are
marked below. The last line printed is a JSON object: where the merge and the best
adapter are, and how mwad stopped.
"""
import argparse
import json
import os
import sys

import torch
from peft import LoraConfig, get_peft_model
from torch.utils.data import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

from mwad import MwadCallback  # (1) the callback


class JsonlExamples(Dataset):
    """Examples of one JSONL file, as token ids cut to max_length."""

    def __init__(self, path, base, max_length):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        if rows and all("input_ids" in row for row in rows):
            self.ids = [list(row["input_ids"])[:max_length] for row in rows]
        else:
            tokenizer = AutoTokenizer.from_pretrained(base)
            self.ids = [tokenizer(row["text"], truncation=True, max_length=max_length)["input_ids"] for row in rows]
        self.ids = [ids for ids in self.ids if len(ids) >= 2]
        if not self.ids:
            raise SystemExit(f"{path}: no example with at least 2 tokens")

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        ids = torch.tensor(self.ids[i])
        return {"input_ids": ids, "labels": ids.clone()}


def pad(batch):
    width = max(len(example["input_ids"]) for example in batch)
    ids = torch.zeros(len(batch), width, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros(len(batch), width, dtype=torch.long)
    for i, example in enumerate(batch):
        n = len(example["input_ids"])
        ids[i, :n], labels[i, :n], mask[i, :n] = example["input_ids"], example["labels"], 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True, help="the base model: a folder or a Hub name")
    p.add_argument("--data", required=True, help="training examples (JSONL)")
    p.add_argument("--eval-data", help="held-out examples (JSONL): mwad evaluates its merges on them")
    p.add_argument("--out", required=True, help="the trainer's output_dir (mwad's merge lands in OUT/mwa-merged)")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--save-steps", type=int, default=20)
    p.add_argument("--save-total-limit", type=int, default=2)
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-length", type=int, default=512)
    p.add_argument("--window", type=int, default=3, help="how many of the latest checkpoints mwad merges")
    p.add_argument("--report-to", default="none", help="comma-separated: tensorboard, mlflow, wandb, trackio …")
    p.add_argument("--state-dir", help="mwad's state directory (default: mwad's own)")
    p.add_argument("--ddp-backend", help="gloo on CPU under torchrun")
    a = p.parse_args(argv)

    model = AutoModelForCausalLM.from_pretrained(a.base, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=a.rank, lora_alpha=2 * a.rank, lora_dropout=0.0,
                                             target_modules="all-linear", task_type="CAUSAL_LM"))
    settings = {"window": a.window}
    if a.eval_data:
        # mwad scores each window's merge and its newest checkpoint with this command and
        # publishes the better one into OUT/mwa-best.
        evaluator = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval_peft.py")
        settings["eval_command"] = [sys.executable, evaluator, "--base", os.path.abspath(a.base) if os.path.isdir(a.base) else a.base,
                                    "--data", os.path.abspath(a.eval_data), "--max-length", str(a.max_length)]
        settings["best_output"] = os.path.join(os.path.abspath(a.out), "mwa-best")
    callback = MwadCallback(state_dir=a.state_dir, **settings)
    args = TrainingArguments(
        output_dir=a.out, max_steps=a.steps, per_device_train_batch_size=a.batch_size, learning_rate=a.lr,
        lr_scheduler_type="constant", logging_steps=max(1, a.save_steps // 2), save_steps=a.save_steps,
        save_total_limit=a.save_total_limit, report_to=[r for r in a.report_to.split(",") if r and r != "none"],
        use_cpu=not torch.cuda.is_available(), ddp_backend=a.ddp_backend, dataloader_num_workers=0, seed=0)
    trainer = Trainer(model=model, args=args, train_dataset=JsonlExamples(a.data, a.base, a.max_length),
                      data_collator=pad, callbacks=[callback])  # (2) given to the Trainer
    trainer.train()

    if trainer.is_world_process_zero():
        status = callback.status()
        print(f"merged adapter: {callback.merged_path}\nbest adapter:   {callback.best_path}\n"
              "load it with: PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(BASE), PATH)")
        print(json.dumps({"merged_path": callback.merged_path, "best_path": callback.best_path,
                          "daemon": status["daemon"], "exit_status": callback.exit_status}))


if __name__ == "__main__":
    main()
