#!/usr/bin/env python3
"""The real-client check of the other trainers' layouts (CI runs it through .ci/run).

diffusers: each method's merge of the last 3 checkpoints of a real diffusers run
(`mwad merge RUN`, the layout detected from the files) is loaded into a fresh tiny
UNet2DConditionModel with `load_lora_adapter(dir, weight_name=..., prefix="unet")`,
with no unexpected or missing LoRA keys, and for `delta` its output must equal, within
fp32 tolerance, that of the exact weighted delta W + Σ w_i·B_i·A_i (alpha = rank: s = 1)
folded into the same UNet's weights, computed here in float64.
flat (kohya, ai-toolkit): the merge, one file published into a folder that holds
another (kohya keys, .alpha; its manifest in its metadata), is read by diffusers' own
kohya converter (StableDiffusionPipeline.lora_state_dict) into the same UNet, and
delta's output equals the exact weighted delta with each member's s = .alpha / r.
torchtune: the merge of a real torchtune run loads with PeftModel.from_pretrained on
the run's base model, and `delta`'s logits equal the exact weighted delta's.

Usage: check-layouts.py MWAD FIXTURES   (FIXTURES holds diffusers-run*, flat-*, torchtune-*)
Prints one line per check and 'N passed, M failed'; exit 1 on a failure.
"""
import json, os, shutil, subprocess, sys, tempfile, warnings

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

# BEGIN catalog:python-methods (rendered from the catalog; swift test checks it)
# Rendered from the method catalog (RenderedDocsTests): name -> (MergeResult, takes DoRA).
METHODS = {
    "auto": ("chosen", True),
    "linear": ("parameter-average", True),
    "delta": ("exact-delta", False),
    "svd": ("truncated-delta", False),
}
# END catalog:python-methods
EXACT = next(name for name, (result, _) in METHODS.items() if result == "exact-delta")  # checked against the exact delta

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from diffusers import StableDiffusionPipeline, UNet2DConditionModel
from peft import PeftModel
from transformers import AutoModelForCausalLM

passed = failed = 0


def check(ok, what):
    global passed, failed
    passed, failed = passed + bool(ok), failed + (not ok)
    print(("ok    " if ok else "FAIL  ") + what, flush=True)


def merge(mwad, run, out, method):
    result = subprocess.run([mwad, "merge", run, "--out", out, "--window", "3", "--method", method, "--weighting", "loss", "--json"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"mwad merge {run} --method {method} failed: {result.stderr}")
    return json.loads(result.stdout)


def unet():
    """The architecture the fixture run trained (its LoRA shapes fix it), seeded."""
    torch.manual_seed(0)
    return UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64),
        norm_num_groups=16, attention_head_dim=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32).eval()


g = torch.Generator().manual_seed(1)
SAMPLE, TIMESTEP, TEXT = torch.randn(2, 4, 8, 8, generator=g), torch.tensor([10, 500]), torch.randn(2, 8, 32, generator=g)


def unet_output(model):
    with torch.no_grad():
        return model(SAMPLE, TIMESTEP, TEXT, return_dict=False)[0].double()


def factors(state):
    """module (as named in the UNet) -> (A, B) for both diffusers key styles."""
    out = {}
    for key, tensor in state.items():
        for a, b in ((".lora.down.weight", ".lora.up.weight"), (".lora_A.weight", ".lora_B.weight")):
            if key.endswith(a):
                module = key[: -len(a)].removeprefix("unet.")
                out[module] = (tensor.double(), state[key[: -len(a)] + b].double())
    return out


def check_diffusers(mwad, run, workdir):
    name = os.path.basename(run)
    for method in [m for m, (result, _) in METHODS.items() if result != "chosen"]:
        out = os.path.join(workdir, f"{name}-{method}")
        manifest = merge(mwad, run, out, method)
        check(sorted(os.listdir(out)) == ["mwa_merge.json", "pytorch_lora_weights.safetensors"], f"{name} {method}: a diffusers folder")
        model = unet()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.load_lora_adapter(out, weight_name="pytorch_lora_weights.safetensors", prefix="unet")
        keys = [str(w.message) for w in caught if "key" in str(w.message).lower()]
        check(not keys, f"{name} {method}: load_lora_adapter with no key warnings {keys[:2]}")
        got = unet_output(model)
        if METHODS[method][0] != "exact-delta":
            print(f"      {method}: output differs from the exact delta's (not an exact method, or truncated)")
            continue
        reference = unet().double()
        params = dict(reference.named_parameters())
        for member in manifest["members"]:
            state = load_file(os.path.join(run, member["name"], "pytorch_lora_weights.safetensors"))
            for module, (a, b) in factors(state).items():
                params[module + ".weight"].data += member["weight"] * (b @ a)
        want = unet_output(reference.float())
        error = (got - want).abs().max().item() / want.abs().max().item()
        check(error < 1e-5, f"{name} delta: UNet output equals the exact weighted delta's (relative {error:.2e})")


def check_flat(mwad, run, workdir):
    """A kohya-keyed merge, converted by diffusers' own kohya reader, loads into the UNet;
    delta's output equals the exact weighted delta of the members (s = .alpha / r)."""
    name = os.path.basename(run)
    out = os.path.join(workdir, f"{name}-loras")  # as a UI's LoRA folder, holding another file
    os.makedirs(out)
    with open(os.path.join(out, "other.safetensors"), "wb") as other:
        other.write(b"someone else's")
    printed = merge(mwad, run, out, EXACT)
    check(sorted(os.listdir(out)) == ["other.safetensors", "pixel-mwa.safetensors"], f"{name} delta: one file, NAME-mwa.safetensors, the rest left")
    with safe_open(os.path.join(out, "pixel-mwa.safetensors"), "pt") as merged:
        manifest = json.loads(merged.metadata()["mwa_merge"])
    check([m["weight"] for m in manifest["members"]] == [m["weight"] for m in printed["members"]],
          f"{name} delta: the file's own manifest (metadata mwa_merge) names the members and weights")
    state, alphas = StableDiffusionPipeline.lora_state_dict(out, weight_name="pixel-mwa.safetensors")
    model = unet()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.load_lora_adapter(state, network_alphas=alphas, prefix="unet")
    keys = [str(w.message) for w in caught if "key" in str(w.message).lower()]
    check(not keys, f"{name} delta: diffusers reads the kohya keys and load_lora_adapter takes them, no key warnings {keys[:2]}")
    got = unet_output(model)
    reference = unet().double()
    modules = {module.replace(".", "_"): module for module, _ in reference.named_modules()}
    params = dict(reference.named_parameters())
    for member in manifest["members"]:
        member_state = load_file(os.path.join(run, member["name"]))
        for key, down in member_state.items():
            if key.endswith(".lora_down.weight"):
                stem = key[: -len(".lora_down.weight")]
                up, alpha = member_state[stem + ".lora_up.weight"].double(), member_state[stem + ".alpha"].double().item()
                module = modules[stem.removeprefix("lora_unet_")]
                params[module + ".weight"].data += member["weight"] * (alpha / down.shape[0]) * (up @ down.double())
    want = unet_output(reference.float())
    error = (got - want).abs().max().item() / want.abs().max().item()
    # ai-toolkit's files are F16: the merge is written in the members' dtype.
    tolerance = 2e-3 if "aitoolkit" in name else 1e-5
    check(error < tolerance, f"{name} delta: UNet output equals the exact weighted delta's (relative {error:.2e})")

    # mwad export: the newest checkpoint back as one file, read by the same kohya reader.
    ledger = os.path.join(workdir, f"{name}-ledger", "ledger.sqlite")
    copy = os.path.join(workdir, f"{name}-run")
    shutil.copytree(run, copy)
    subprocess.run([mwad, "run", "--once", "--watch", copy, "--ledger", ledger, "--out", os.path.join(workdir, f"{name}-m")], capture_output=True)
    exported = os.path.join(workdir, f"{name}-exported")
    result = subprocess.run([mwad, "export", "--ledger", ledger, "--newest", "--out", exported], capture_output=True, text=True)
    check(result.returncode == 0, f"{name} export: mwad export --newest exits 0 {result.stderr.strip()[-200:]}")
    if result.returncode == 0:
        (file,) = os.listdir(exported)
        state, alphas = StableDiffusionPipeline.lora_state_dict(exported, weight_name=file)
        original = load_file(os.path.join(run, file))
        same = all(torch.equal(load_file(os.path.join(exported, file))[key], value) for key, value in original.items())
        model = unet()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.load_lora_adapter(state, network_alphas=alphas, prefix="unet")
        keys = [str(w.message) for w in caught if "key" in str(w.message).lower()]
        check(same and not keys, f"{name} export: {file} has the trainer's tensors and diffusers' kohya reader loads it {keys[:2]}")


def check_torchtune(mwad, run, base, workdir):
    out = os.path.join(workdir, "torchtune-delta")
    manifest = merge(mwad, run, out, EXACT)
    check(sorted(os.listdir(out)) == ["adapter_config.json", "adapter_model.safetensors", "mwa_merge.json"], "torchtune delta: a PEFT folder")
    inputs = torch.tensor([[(3 + 5 * i) % 97 for i in range(24)]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, torch_dtype=torch.float32), out).eval()
    keys = [str(w.message) for w in caught if "key" in str(w.message).lower()]
    check(not keys, f"torchtune delta: PeftModel.from_pretrained with no key warnings {keys[:2]}")
    with torch.no_grad():
        got = model(input_ids=inputs).logits.double()
    reference = AutoModelForCausalLM.from_pretrained(base, torch_dtype=torch.float64).eval()
    params = dict(reference.named_parameters())
    for member in manifest["members"]:
        folder = os.path.join(run, member["name"])
        config = json.load(open(os.path.join(folder, "adapter_config.json")))
        state = load_file(os.path.join(folder, "adapter_model.safetensors"))
        for key, a in state.items():
            if key.endswith(".lora_A.weight"):
                b = state[key.replace("lora_A", "lora_B")].double()
                module = key.removeprefix("base_model.model.")[: -len(".lora_A.weight")]
                s = config["lora_alpha"] / a.shape[0]
                params[module + ".weight"].data += member["weight"] * s * (b @ a.double())
    with torch.no_grad():
        want = reference(input_ids=inputs).logits
    error = (got - want).abs().max().item() / want.abs().max().item()
    check(error < 1e-5, f"torchtune delta: logits equal the exact weighted delta's (relative {error:.2e})")


def main():
    mwad, fixtures = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as workdir:
        for run in ("diffusers-run", "diffusers-run-text2image"):
            check_diffusers(mwad, os.path.join(fixtures, run), workdir)
        for run in ("flat-kohya", "flat-kohya-epochs", "flat-aitoolkit"):
            check_flat(mwad, os.path.join(fixtures, run), workdir)
        check_torchtune(mwad, os.path.join(fixtures, "torchtune-run"), os.path.join(fixtures, "torchtune-base"), workdir)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
