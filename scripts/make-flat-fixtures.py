#!/usr/bin/env python3
"""Makes Tests/Fixtures/flat-kohya, flat-kohya-epochs and flat-aitoolkit: flat runs laid
out exactly as kohya sd-scripts and ostris ai-toolkit write theirs, from the real
diffusers run (Tests/Fixtures/diffusers-run), since neither trainer is on PyPI.

Each checkpoint-<step> of the diffusers run becomes one file in the run folder:
  kohya (by step)   NAME-step00000010.safetensors      (train_network.py, save_every_n_steps)
  kohya (by epoch)  NAME-000001.safetensors            (save_every_n_epochs; the step in ss_steps)
  ai-toolkit        NAME_000000010.safetensors         (save.save_every, F16 as its default dtype)
plus the final NAME.safetensors each trainer writes at the end (no number: no checkpoint).
Keys are kohya's (lora_unet_<module with _>.lora_down.weight / .lora_up.weight and a
scalar .alpha). The alpha is kohya's default network_alpha 1 (rank 4: s = 1/4), so the
up factors are multiplied by 4 and each file's delta equals the diffusers checkpoint's.
The metadata is what the trainers write that mwad reads (ss_steps, ss_epoch,
ss_network_dim, ss_network_alpha, ss_output_name; ai-toolkit's training_info).
The loss is the diffusers run's train_loss, written with torch's SummaryWriter under
logs/ with the trainers' tags: kohya loss/current and loss/average (accelerate's
logs/<prefix><time>/network_train/), ai-toolkit loss.

Usage: make-flat-fixtures.py SOURCE OUT   (Python with torch, safetensors, tensorboard)
"""
import json, os, sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter

source, out = sys.argv[1], sys.argv[2]
steps = sorted(int(n.split("-")[1]) for n in os.listdir(source) if n.startswith("checkpoint-"))
logs = os.path.join(source, "logs", "text2image-fine-tune")
accumulator = EventAccumulator(logs)
accumulator.Reload()
losses = [(e.step, e.value) for e in accumulator.Scalars("train_loss")]


def kohya(path, dtype):
    tensors = {}
    with safe_open(path, "pt") as f:
        for key in f.keys():
            for old, new in ((".lora.down.weight", ".lora_down.weight"), (".lora.up.weight", ".lora_up.weight")):
                if key.endswith(old):
                    module = "lora_unet_" + key[len("unet."):-len(old)].replace(".", "_")
                    value = f.get_tensor(key)
                    if new == ".lora_up.weight":
                        value = value * 4.0  # r / network_alpha
                    tensors[module + new] = value.to(dtype).contiguous()
                    tensors[module + ".alpha"] = torch.tensor(1.0).to(dtype)
    return tensors


def run(folder, name_of, dtype, metadata_of, tags, log_folder):
    os.makedirs(folder)
    for index, step in enumerate(steps):
        tensors = kohya(os.path.join(source, f"checkpoint-{step}", "pytorch_lora_weights.safetensors"), dtype)
        metadata = metadata_of(step, index + 1)
        save_file(tensors, os.path.join(folder, name_of(step, index + 1)), metadata)
        if index == len(steps) - 1:
            save_file(tensors, os.path.join(folder, "pixel.safetensors"), metadata)
    writer = SummaryWriter(os.path.join(folder, "logs", log_folder))
    average = 0.0
    for count, (step, value) in enumerate(losses, 1):
        average += (value - average) / count
        for tag in tags:
            writer.add_scalar(tag, average if tag == "loss/average" else value, step)
    writer.close()


def kohya_metadata(step, epoch):
    return {"ss_steps": str(step), "ss_epoch": str(epoch), "ss_network_dim": "4", "ss_network_alpha": "1.0",
            "ss_network_module": "networks.lora", "ss_output_name": "pixel", "ss_base_model_version": "sd_v1"}


def toolkit_metadata(step, epoch):
    return {"training_info": json.dumps({"step": step, "epoch": epoch}), "name": "pixel", "software": json.dumps({"name": "ai-toolkit"})}


run(os.path.join(out, "flat-kohya"), lambda s, e: f"pixel-step{s:08d}.safetensors", torch.float32, kohya_metadata,
    ["loss/current", "loss/average"], "pixel20260101120000/network_train")
run(os.path.join(out, "flat-kohya-epochs"), lambda s, e: f"pixel-{e:06d}.safetensors", torch.float32, kohya_metadata,
    ["loss/current", "loss/average"], "pixel20260101120000/network_train")
run(os.path.join(out, "flat-aitoolkit"), lambda s, e: f"pixel_{s:09d}.safetensors", torch.float16, toolkit_metadata,
    ["loss"], "pixel")
