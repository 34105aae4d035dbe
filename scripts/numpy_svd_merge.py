#!/usr/bin/env python3
"""The reference for mwad's svd method, as a practitioner would write it with numpy:
per LoRA module, the exact ΔW = Σ w_i·s_i·B_i·A_i kept factored (B stacked, A stacked
and scaled), thin QR of both, SVD of the small core, truncated to the members' rank;
other tensors averaged. F64 as mwad computes; F32 out. Prints the median seconds.

Usage: numpy_svd_merge.py OUT WEIGHTS_CSV IN... [--repeat N]
(each IN's adapter_config.json beside it gives r and lora_alpha)
"""
import json, os

import numpy as np

import reference_timing
from safetensors.numpy import load_file, save_file


def merge(out, weights, inputs):
    members = []
    for path in inputs:
        config = json.load(open(os.path.join(os.path.dirname(path), "adapter_config.json")))
        members.append((load_file(path), config["lora_alpha"] / config["r"]))
    result = {}
    for key in members[-1][0]:
        if key.endswith(".lora_A.weight"):
            b_key = key.replace(".lora_A.", ".lora_B.")
            b = np.concatenate([m[b_key].astype(np.float64) for m, _ in members], axis=1)
            a = np.concatenate([w * s * m[key].astype(np.float64) for (m, s), w in zip(members, weights)], axis=0)
            k = members[-1][0][key].shape[0]
            qb, rb = np.linalg.qr(b)
            qa, ra = np.linalg.qr(a.T)
            u, sigma, vt = np.linalg.svd(rb @ ra.T)
            root = np.sqrt(sigma[:k])
            result[b_key] = ((qb @ u[:, :k]) * root).astype(np.float32)
            result[key] = ((root[:, None] * vt[:k]) @ qa.T).astype(np.float32)
        elif ".lora_B." not in key:
            result[key] = sum(w * m[key].astype(np.float32) for (m, _), w in zip(members, weights))
    save_file(result, out, metadata={"format": "pt"})


if __name__ == "__main__":
    reference_timing.run(merge)
