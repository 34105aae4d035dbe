/// The adapter file formats mwad reads and writes, each in its own tensor names, and
/// where each keeps a module's LoRA scaling s (ΔW = s·B·A):
///
/// - `peft`: `base_model.model.….lora_A.weight` / `.lora_B.weight`; s from
///   `adapter_config.json` (alpha/r, rsLoRA alpha/√r, `rank_pattern`, `alpha_pattern`).
/// - `diffusers`: `unet.….lora.down.weight` / `.lora.up.weight` (DreamBooth scripts)
///   or `unet.….lora_A.weight` / `.lora_B.weight` (text-to-image scripts); no config:
///   alpha = rank, as diffusers' scripts set it and `load_lora_adapter` assumes, so
///   s = 1 (a `lora_adapter_metadata` entry in the file's metadata overrides it).
/// - `kohya`: `lora_unet_…​.lora_down.weight` / `.lora_up.weight` with a scalar
///   `.alpha` per module (s = alpha/r; alpha = r where it is absent).
public enum AdapterFormat: String, Sendable, CaseIterable {
    case peft
    case diffusers
    case kohya
}
