"""Load timm ViT checkpoints (`vit_{tiny,small,base,large}_patch16_*`, DeiT) into `zoo.models.vit`.

timm keys -> zoo layers (torch Linear weights are (out, in), Keras kernels (in, out)):
    cls_token, pos_embed          -> cls_position/cls_token, cls_position/position
    patch_embed.proj.weight/bias  -> patch_embed (OIHW -> HWIO)
    blocks.N.norm1, norm2         -> blockN_norm1, blockN_norm2
    blocks.N.attn.qkv             -> blockN_attn query/key/value, rows split (3, heads, head_dim)
    blocks.N.attn.proj            -> blockN_attn attention_output (heads, head_dim, width)
    blocks.N.mlp.fc1, fc2         -> blockN_mlp_fc1, blockN_mlp_fc2
    norm                          -> final_norm
`head.*` (the classifier) is dropped. A position table for another image size is
resampled as timm's `resample_abs_pos_embed` does (see `resample_position`).

The pixel normalisation a checkpoint expects comes from a sidecar: `FILE.json`
(written by `python -m zoo convert-weights`) or, for a timm checkpoint, the
Hugging Face `config.json` beside it (`pretrained_cfg.mean/std`); without one,
timm's default ViT weights' (augreg: mean = std = 0.5).
"""

import json
from pathlib import Path

import numpy as np
from PIL import Image

TIMM_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
AUGREG = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}


def resolve_hub(weights: str) -> str:
    """`hf://timm/NAME` -> the local `model.safetensors` (its `config.json` beside it gives
    the pixel mean/std); anything else is not a ViT source: ValueError."""
    from zoo.models import hf

    if not str(weights).startswith(hf.HF_PREFIX):
        raise ValueError(f"weights {weights!r}: a ViT takes 'pretrained', a timm checkpoint file, "
                         "hf://timm/NAME or none")
    folder = Path(hf.download(str(weights), ("config.json", "model.safetensors")))
    if not (folder / "model.safetensors").is_file():
        raise ValueError(f"{weights}: the repository has no model.safetensors")
    return str(folder / "model.safetensors")


def is_timm_checkpoint(path) -> bool:
    """True for a torch/safetensors state dict (by file suffix)."""
    return str(path).lower().endswith(TIMM_SUFFIXES)


def read_state_dict(path) -> dict[str, np.ndarray]:
    """A timm state dict as float32 numpy arrays, from .safetensors (no torch) or .pth/.pt/.bin."""
    path = Path(path)
    if path.suffix.lower() == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            state = load_file(str(path))
        except (SafetensorError, OSError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: not a readable .safetensors file ({e})") from None
    else:
        state = _read_torch(path)
    state = {k.removeprefix("module."): np.asarray(v, dtype=np.float32) for k, v in state.items()}
    return state


def _read_torch(path: Path) -> dict:
    # Edge: pickled torch state dicts can only be opened by torch itself, so torch is
    # imported here and nowhere else in the zoo (.safetensors needs no torch).
    try:
        import torch  # backend-edge: only torch reads a pickled torch state dict
    except ImportError:
        raise ValueError(
            f"{path}: reading {path.suffix} files needs torch; use a .safetensors file"
        ) from None
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types (UnpicklingError, RuntimeError, ...)
        raise ValueError(
            f"{path}: not a readable torch state dict ({type(e).__name__}: {e})"
        ) from None
    for key in ("model", "state_dict", "model_ema"):  # DeiT / training-script wrappers
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict, found {type(state).__name__}")
    return {k: v.float().numpy() for k, v in state.items() if hasattr(v, "float")}


def sidecar_preprocessing(path) -> dict | None:
    """`{"mean": [...], "std": [...]}` (0-1 units) from the weights file's sidecar, or None."""
    path = Path(path)
    candidates = [Path(str(path) + ".json")]
    if is_timm_checkpoint(path):
        candidates.append(path.with_name("config.json"))
    for side in candidates:
        if not side.is_file():
            continue
        try:
            cfg = json.loads(side.read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"{side}: unreadable sidecar ({e})") from None
        cfg = cfg.get("pretrained_cfg", cfg) if isinstance(cfg, dict) else {}
        if "mean" in cfg and "std" in cfg:
            return {"mean": [float(v) for v in cfg["mean"]], "std": [float(v) for v in cfg["std"]]}
    return None


def checkpoint_preprocessing(path) -> dict | None:
    """What a ViT weights file expects: its sidecar's mean/std, else timm's augreg default
    for a timm checkpoint, else None (the registry default)."""
    found = sidecar_preprocessing(path)
    if found is None and is_timm_checkpoint(path):
        return dict(AUGREG)
    return found


def resample_position(table: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Resample a `(1, 1 + h*w, width)` position table to `(1, 1 + grid_h*grid_w, width)`.

    As `timm.layers.resample_abs_pos_embed` (bicubic, antialias=True, class token
    kept, old grid square): that torch resize is Pillow's convolution resampling,
    so Pillow's BICUBIC on each channel (float32 "F" images) gives the same values
    (measured: within 2e-7).
    """
    cls, patches = table[:, :1], table[0, 1:]
    side = int(round(np.sqrt(patches.shape[0])))
    if side * side != patches.shape[0]:
        raise ValueError(f"position table of {patches.shape[0]} patches is not a square grid")
    if (side, side) == tuple(grid):
        return table
    patches = patches.reshape(side, side, -1)
    out = np.stack(
        [
            np.asarray(
                Image.fromarray(np.ascontiguousarray(patches[:, :, c])).resize(
                    (grid[1], grid[0]), Image.Resampling.BICUBIC
                )
            )
            for c in range(patches.shape[-1])
        ],
        axis=-1,
    )
    return np.concatenate([cls, out.reshape(1, grid[0] * grid[1], -1)], axis=1).astype(np.float32)


def _targets(width: int, depth: int, heads: int, tokens: int):
    """timm key -> (timm shape, [(zoo variable path, fn timm array -> zoo array)])."""
    hd = width // heads
    t = np.transpose

    def qkv_part(i, bias):
        if bias:
            return lambda a: a[i * width : (i + 1) * width].reshape(heads, hd)
        return lambda a: t(a[i * width : (i + 1) * width]).reshape(width, heads, hd)

    table = {
        "cls_token": ((1, 1, width), [("cls_position/cls_token", None)]),
        "pos_embed": ((1, tokens, width), [("cls_position/position", None)]),
        "patch_embed.proj.weight": (
            (width, 3, 16, 16),
            [("patch_embed/kernel", lambda a: t(a, (2, 3, 1, 0)))],
        ),
        "patch_embed.proj.bias": ((width,), [("patch_embed/bias", None)]),
    }
    for n in range(depth):
        b, z = f"blocks.{n}.", f"block{n}_"
        table.update(
            {
                b + "norm1.weight": ((width,), [(z + "norm1/gamma", None)]),
                b + "norm1.bias": ((width,), [(z + "norm1/beta", None)]),
                b + "attn.qkv.weight": (
                    (3 * width, width),
                    [
                        (f"{z}attn/{part}/kernel", qkv_part(i, False))
                        for i, part in enumerate(("query", "key", "value"))
                    ],
                ),
                b + "attn.qkv.bias": (
                    (3 * width,),
                    [
                        (f"{z}attn/{part}/bias", qkv_part(i, True))
                        for i, part in enumerate(("query", "key", "value"))
                    ],
                ),
                b + "attn.proj.weight": (
                    (width, width),
                    [
                        (
                            z + "attn/attention_output/kernel",
                            lambda a: t(a).reshape(heads, hd, width),
                        )
                    ],
                ),
                b + "attn.proj.bias": ((width,), [(z + "attn/attention_output/bias", None)]),
                b + "norm2.weight": ((width,), [(z + "norm2/gamma", None)]),
                b + "norm2.bias": ((width,), [(z + "norm2/beta", None)]),
                b + "mlp.fc1.weight": ((4 * width, width), [(z + "mlp_fc1/kernel", t)]),
                b + "mlp.fc1.bias": ((4 * width,), [(z + "mlp_fc1/bias", None)]),
                b + "mlp.fc2.weight": ((width, 4 * width), [(z + "mlp_fc2/kernel", t)]),
                b + "mlp.fc2.bias": ((width,), [(z + "mlp_fc2/bias", None)]),
            }
        )
    table["norm.weight"] = ((width,), [("final_norm/gamma", None)])
    table["norm.bias"] = ((width,), [("final_norm/beta", None)])
    return table


def load_timm_state(
    network, state: dict[str, np.ndarray], *, width: int, depth: int, heads: int, source: str
):
    """Assign a timm ViT state dict to a `zoo.models.vit.vision_transformer` network in place.

    A key the model lacks, a missing key or a wrong shape raises ValueError naming
    the first such key and both shapes; the position table is resampled to the
    network's patch grid.
    """
    variables = {v.path: v for v in network.weights}
    position = variables["cls_position/position"]
    tokens = position.shape[1]
    targets = _targets(width, depth, heads, tokens)
    for key in state:
        if key not in targets and not key.startswith("head."):
            raise ValueError(
                f"{source}: key {key!r} {tuple(state[key].shape)} has no place in {network.name} "
                "(supported: timm vit_*_patch16 with class token, no layer scale/registers)"
            )
    grid = _grid(network)
    for key, (shape, places) in targets.items():
        if key not in state:
            raise ValueError(f"{source}: key {key!r} missing; {network.name} expects shape {shape}")
        value = state[key]
        if (
            key == "pos_embed"
            and value.ndim == 3
            and value.shape[2] == width
            and value.shape[1] != tokens
        ):
            value = resample_position(value, grid)
        if tuple(value.shape) != shape:
            raise ValueError(
                f"{source}: key {key!r} has shape {tuple(value.shape)}, "
                f"{network.name} expects {shape}"
            )
        for path, convert in places:
            variables[path].assign(value if convert is None else convert(value))


def _grid(network) -> tuple[int, int]:
    _, height, wide, _ = network.input_shape
    return height // 16, wide // 16
