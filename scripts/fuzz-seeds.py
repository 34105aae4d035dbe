#!/usr/bin/env python3
"""Writes the crafted part of the fuzz seed corpus into Fuzz/Corpus/<target>/.

The real part (adapters, trainer states and the config from the repository) is
copied by hand once and committed; these crafted seeds put the fuzzer next to every
rule the parsers check, so that it spends its time on the edges, not on finding them.
"""
import json
import struct
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "Fuzz" / "Corpus"


def safetensors(header, data=b"", length=None):
    body = header.encode() if isinstance(header, str) else header
    return struct.pack("<Q", len(body) if length is None else length) + body + data


def entry(name, dtype, shape, begin, end):
    return f'"{name}":{{"dtype":"{dtype}","shape":{json.dumps(shape)},"data_offsets":[{begin},{end}]}}'


def safetensors_seeds():
    f32 = struct.pack("<4f", 1, 2, 3, 4)
    two = "{" + entry("a", "F32", [2], 0, 8) + "," + entry("b", "BF16", [2, 2], 8, 16) + "}"
    return {
        "valid-two-dtypes": safetensors(two, f32 + bytes(8)),
        "valid-metadata": safetensors('{"__metadata__":{"format":"pt"},' + entry("w", "F16", [2], 0, 4) + "}", bytes(4)),
        "valid-empty": safetensors("{}"),
        "valid-scalar": safetensors("{" + entry("s", "F64", [], 0, 8) + "}", bytes(8)),
        "valid-zero-dim": safetensors("{" + entry("z", "F32", [0, 4], 0, 0) + "}"),
        "gap": safetensors("{" + entry("a", "F32", [1], 4, 8) + "}", bytes(8)),
        "overlap": safetensors("{" + entry("a", "F32", [2], 0, 8) + "," + entry("b", "F32", [1], 4, 8) + "}", bytes(8)),
        "trailing": safetensors("{" + entry("a", "F32", [1], 0, 4) + "}", bytes(8)),
        "truncated": safetensors("{" + entry("a", "F32", [4], 0, 16) + "}", bytes(8)),
        "huge-length": safetensors("{}", length=2**64 - 1),
        "shape-overflow": safetensors("{" + entry("a", "F32", [2**62, 2**62], 0, 4) + "}", bytes(4)),
        "bad-dtype": safetensors("{" + entry("a", "Q4", [1], 0, 4) + "}", bytes(4)),
        "not-utf8": safetensors(b'{"\xff\xfe":{}}'),
        "nested": safetensors("[" * 200 + "]" * 200),
        "metadata-not-strings": safetensors('{"__metadata__":{"n":1}}'),
        "offsets-reversed": safetensors("{" + entry("a", "F32", [1], 4, 0) + "}", bytes(4)),
    }


def trainer_state_seeds():
    history = [
        {"loss": 3.9, "grad_norm": 0.3, "learning_rate": 1e-4, "epoch": 0.04, "step": 10},
        {"eval_loss": 3.8, "eval_runtime": 0.1, "step": 10},
        {"loss": 3.7, "step": 20},
        {"train_runtime": 12.5, "train_loss": 3.8, "step": 20},
    ]
    return {
        "train-eval-summary.json": json.dumps({"global_step": 20, "log_history": history}),
        "nan-loss.json": '{"global_step": 10, "log_history": [{"loss": NaN, "step": 10}]}',
        "infinite-loss.json": '{"global_step": 10, "log_history": [{"loss": Infinity, "step": 10}, {"loss": -Infinity, "step": 10}]}',
        "no-history.json": '{"global_step": 5}',
        "history-object.json": '{"log_history": {"loss": 1}}',
        "array.json": "[1, 2, 3]",
        "truncated.json": json.dumps({"global_step": 20, "log_history": history})[:57],
        "huge-step.json": '{"global_step": 99999999999999999999, "log_history": [{"loss": 1, "step": 9223372036854775807}]}',
        "negative-step.json": '{"global_step": -3, "log_history": [{"loss": 1, "step": -3}]}',
        "json5.json": "{global_step: 3, log_history: [{loss: .5, step: 3,},],} // comment",
    }


def sidecar_seeds():
    return {
        "step-loss.json": '{"step": 120, "loss": 1.83}',
        "eval.json": '{"step": 120, "loss": 1.83, "eval_loss": 1.91}',
        "nan.json": '{"step": 1, "loss": NaN}',
        "string-step.json": '{"step": "12", "loss": 1}',
        "no-step.json": '{"loss": 1}',
        "float-step.json": '{"step": 1.5, "loss": 1}',
    }


def flat_file_seeds():
    """A kohya or ai-toolkit file: its name on the first line, then its bytes."""
    values = struct.pack("<5f", 0.5, -0.25, 1, 2, 1)
    lora = (entry("lora_unet_x.lora_down.weight", "F32", [1, 2], 0, 8) + "," + entry("lora_unet_x.lora_up.weight", "F32", [2, 1], 8, 16)
            + "," + entry("lora_unet_x.alpha", "F32", [], 16, 20))

    def file(name, metadata):
        return name.encode() + b"\n" + safetensors("{" + (f'"__metadata__":{json.dumps(metadata)},' if metadata else "") + lora + "}", values)

    return {
        "kohya-step": file("pixel-step00000500.safetensors", {"ss_steps": "500", "ss_epoch": "1"}),
        "kohya-epoch": file("pixel-000003.safetensors", {"ss_steps": "120", "ss_epoch": "3"}),
        "kohya-epoch-without-steps": file("pixel-000004.safetensors", {"ss_epoch": "4"}),
        "kohya-epoch-negative-steps": file("pixel-000005.safetensors", {"ss_steps": "-7"}),
        "aitoolkit-step": file("my_lora_000000500.safetensors", {"training_info": json.dumps({"step": 500})}),
        "final-file": file("pixel.safetensors", None),
        "merge-file": file("pixel-mwa.safetensors", {"mwad_version": "0.1.0"}),
        "truncated": file("pixel-step00000010.safetensors", {"ss_steps": "10"})[:-5],
    }


def config_seeds():
    return {
        "minimal.yaml": "watch:\n  directory: /tmp/run\n",
        "full-merge.yaml": "watch:\n  directory: /tmp/run\n  mode: poll\n  poll_interval: 2\nmerge:\n  window: 3\n  weighting: step\n  penalty: 2\n  metric: eval_loss\nhook:\n  on_merge: [/bin/true, --fast]\n",
        "unknown-key.yaml": "watch:\n  directory: /tmp/run\nmerge:\n  windw: 3\n",
        "bad-values.yaml": "watch:\n  directory: /tmp/run\n  debounce: -1\nmerge:\n  window: 0\n  penalty: .nan\n",
        "list-for-scalar.yaml": "watch:\n  directory: [a, b]\n",
        "anchors.yaml": "base: &b\n  window: 3\nmerge: *b\nwatch: {directory: /tmp/run}\n",
        "scalar-top.yaml": "just a string\n",
        "empty.yaml": "",
        "tabs-and-tags.yaml": "watch: !!map\n\tdirectory: x\n",
    }


def main():
    seeds = {
        "safetensors": safetensors_seeds(),
        "trainer-state": trainer_state_seeds(),
        "sidecar": sidecar_seeds(),
        "config": config_seeds(),
        "flat-file": flat_file_seeds(),
    }
    for target, files in seeds.items():
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            (folder / f"crafted-{name}").write_bytes(data)
        print(f"{target}: {len(files)} crafted seeds")


if __name__ == "__main__":
    main()
