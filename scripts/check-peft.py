#!/usr/bin/env python3
"""The real-client check of mwad's merge methods (CI runs it through .ci/run).

For each run, each method's merge (`mwad merge`) is loaded with PEFT's
PeftModel.from_pretrained on the base model, with no key warnings allowed, and its
logits are compared with those of the exact weighted delta, computed here
independently in float64 (W + Σ w_i·s_i·B_i·A_i folded into the base weights, the
other tensors averaged): `delta` within fp32 tolerance, `svd` within a bound from
its reported truncation error, and `linear` reported (it is a parameter average,
not the exact delta). Then each adapter merged alone with weight 1 must reproduce
its own logits (PEFT #3761) under every method that accepts it; methods that
refuse it (delta, svd on DoRA) must say why and exit 1.

Usage: check-peft.py MWAD BASE_MODEL RUN [RUN ...]
Prints one line per check and 'N passed, M failed'; exit 1 on a failure.
"""
import json, shutil, math, os, subprocess, sys, tempfile, warnings

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM
from peft import PeftModel

# BEGIN catalog:python-methods (rendered from the catalog; swift test checks it)
# Rendered from the method catalog (RenderedDocsTests): name -> (MergeResult, takes DoRA).
METHODS = {
    "auto": ("chosen", True),
    "linear": ("parameter-average", True),
    "delta": ("exact-delta", False),
    "svd": ("truncated-delta", False),
}
# END catalog:python-methods

passed = failed = 0


def check(ok, what):
    global passed, failed
    passed, failed = passed + bool(ok), failed + (not ok)
    print(("ok    " if ok else "FAIL  ") + what, flush=True)


def base_model(path):
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32).eval()


INPUT = torch.tensor([[(3 + 5 * i) % 97 for i in range(24)], [(11 + 2 * i) % 97 for i in range(24)]])


def logits(model):
    with torch.no_grad():
        return model(input_ids=INPUT).logits.double()


def peft_logits(base, adapter):
    """Logits through PEFT, failing on any missing or unexpected key."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = PeftModel.from_pretrained(base_model(base), adapter).eval()
    keys = [str(w.message) for w in caught if "key" in str(w.message).lower()]
    return logits(model), keys


def scaling(config, module, rank):
    alpha = config["lora_alpha"]
    for key, value in (config.get("alpha_pattern") or {}).items():
        if module == key or module.endswith("." + key):
            alpha = value
    return alpha / math.sqrt(rank) if config.get("use_rslora") else alpha / rank


def exact_logits(base, members):
    """The base model with Σ w_i·s_i·B_i·A_i added to each adapted weight (float64),
    and each non-LoRA tensor (modules_to_save) the weighted average."""
    model = base_model(base).double()
    params = dict(model.named_parameters())
    deltas, others = {}, {}
    for folder, weight in members:
        tensors = load_file(os.path.join(folder, "adapter_model.safetensors"))
        config = json.load(open(os.path.join(folder, "adapter_config.json")))
        for key, value in tensors.items():
            name = key.removeprefix("base_model.model.")
            if key.endswith(".lora_A.weight"):
                module = name.removesuffix(".lora_A.weight")
                b = tensors[key.replace("lora_A", "lora_B")].double()
                a = value.double()
                term = weight * scaling(config, module, a.shape[0]) * (b @ a)
                deltas[module] = deltas.get(module, 0) + term
            elif "lora_" not in key:
                others[name] = others.get(name, 0) + weight * value.double()
    with torch.no_grad():
        for module, delta in deltas.items():
            params[module + ".weight"].add_(delta)
        for name, value in others.items():
            params[name].copy_(value)
    return logits(model)


def mwad_merge(mwad, args, out):
    result = subprocess.run([mwad, "merge", *args, "--out", out, "--json"], capture_output=True, text=True)
    return result, (json.loads(result.stdout) if result.returncode == 0 else None)


def relative(a, b):
    return ((a - b).abs().max() / (b.max() - b.min())).item()


def main():
    mwad, base, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
    work = tempfile.mkdtemp(prefix="mwad-peft-")
    for run in runs:
        name = os.path.basename(run.rstrip("/"))
        dora = json.load(open(os.path.join(run, sorted(os.listdir(run))[-1], "adapter_config.json"))).get("use_dora")
        # Every method in the catalog that takes this run's adapters (METHODS, rendered).
        for method in [m for m, (_, takes_dora) in METHODS.items() if takes_dora or not dora]:
            kind = METHODS[method][0]
            out = os.path.join(work, f"{name}-{method}")
            result, manifest = mwad_merge(mwad, [run, "--method", method, "--weighting", "ema", "--window", "3"], out)
            check(result.returncode == 0, f"{name} {method}: mwad merge exits 0 {result.stderr.strip()[-200:]}")
            if manifest is None:
                continue
            members = [(m["source"], m["weight"]) for m in manifest["members"]]
            got, keys = peft_logits(base, out)
            check(not keys, f"{name} {method}: PeftModel.from_pretrained loads it with no key warnings {keys[:2]}")
            if kind == "chosen":
                # It chose a method that takes these adapters, an exact one wherever one does.
                used = manifest["report"]["method_used"]
                exact_takes = any(r == "exact-delta" and (d or not dora) for r, d in METHODS.values())
                check(used in METHODS and (METHODS[used][1] or not dora) and (METHODS[used][0] == "exact-delta") == exact_takes,
                      f"{name} {method}: used {used} ({manifest['report'].get('method_reason', 'exact')})")
                kind = METHODS.get(used, ("",))[0]
            if dora:
                continue
            exact = exact_logits(base, members)
            error = relative(got, exact)
            if kind == "exact-delta":
                check(error <= 1e-5, f"{name} {method}: logits equal the exact weighted delta's (max diff {error:.2e} of their range)")
            elif kind == "truncated-delta":
                truncation = manifest["report"]["truncation_error"]
                bound = 1e-5 + 4 * truncation
                check(error <= bound, f"{name} {method}: logits within {bound:.2e} of the exact delta's (diff {error:.2e}; truncation error {truncation:.2e})")
            else:
                print(f"info  {name} {method}: logits differ from the exact weighted delta's by {error:.2e} of their range (cross terms B_i·A_j)")
        # One adapter with weight 1 is itself, under every method that accepts it.
        newest = os.path.join(run, sorted(os.listdir(run), key=lambda d: int(d.split("-")[-1]))[-1])
        own, _ = peft_logits(base, newest)
        for method in [m for m, (kind, _) in METHODS.items() if kind != "chosen"]:
            out = os.path.join(work, f"{name}-single-{method}")
            result, manifest = mwad_merge(mwad, ["--checkpoints", newest, "--method", method], out)
            if dora and not METHODS[method][1]:
                check(result.returncode == 1 and "DoRA" in result.stderr and "use method linear" in result.stderr,
                      f"{name} {method}: refuses a DoRA adapter with the reason ({result.stderr.strip()[:120]})")
                continue
            check(result.returncode == 0, f"{name} {method} alone: mwad merge exits 0 {result.stderr.strip()[-200:]}")
            if manifest is None:
                continue
            got, keys = peft_logits(base, out)
            error = relative(got, own)
            check(not keys and error <= 1e-5, f"{name} {method}: one adapter with weight 1 gives its own logits (diff {error:.2e})")
        # mwad export: a checkpoint the rotation deleted, back from the retained copy.
        copy = os.path.join(work, f"{name}-run")
        shutil.copytree(run, copy)
        ledger = os.path.join(work, f"{name}-ledger", "ledger.sqlite")
        subprocess.run([mwad, "run", "--once", "--watch", copy, "--ledger", ledger], capture_output=True, text=True)
        shutil.rmtree(os.path.join(copy, os.path.basename(newest)))
        exported = os.path.join(work, f"{name}-exported")
        result = subprocess.run([mwad, "export", "--ledger", ledger, "--newest", "--out", exported], capture_output=True, text=True)
        check(result.returncode == 0, f"{name} export: mwad export --newest exits 0 {result.stderr.strip()[-200:]}")
        if result.returncode == 0:
            got, keys = peft_logits(base, exported)
            error = relative(got, own)
            check(not keys and error == 0, f"{name} export: PEFT loads the exported checkpoint and gives its own logits (diff {error:.2e})")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
