"""The keras-hub edge: its vision encoders as zoo backbones, and where their weights come from.

keras-hub (the successor of KerasCV) has DINOv2, CLIP and SigLIP as multi-backend Keras
models; this module is the only place in `zoo/models` that imports it (lazily: importing
keras_hub imports TensorFlow, ~10 s). A family file (`dinov2.py`, `clip.py`, `siglip.py`)
gives a `HubFamily`: how to build its encoder from a config, how to port a transformers
checkpoint onto it, and how its pooled vector is read.

Weights by name (`resolve`): a keras-hub preset name (`dinov2_small`, Kaggle), an
`hf://org/name` handle (a transformers checkpoint, downloaded into the Hugging Face cache),
or a local folder in either layout (transformers: `config.json` with `model_type` +
`*.safetensors`; keras-hub: `config.json` + `model.weights.h5`). Offline, a download
raises one-line ValueError.

Image size: the encoder is built at the input size with its position table resampled
as transformers does (`resample_position`), so the table is a plain variable of the
model's own size (keras-hub's DINOv2 keeps a 518-px table and resamples it with
`ops.image.resize`, which differs from transformers by 2.5e-2 at 224 px).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from zoo.models import hf, timm_vit


@dataclass(frozen=True)
class HubFamily:
    """What the hub edge needs from one family file.

    Attributes:
        name: family name ("dinov2", "clip", "siglip").
        model_types: transformers `model_type`s this family's checkpoints carry.
        build: `fn(config: dict, image_shape) -> keras-hub encoder` on normalised pixels.
        config_from_transformers: `fn(transformers config.json dict) -> config`.
        port: `fn(encoder, state: {key: np.ndarray}, config)` assigns a transformers state dict.
        from_keras_hub: `fn(keras_hub backbone) -> (encoder, config)` for a keras-hub preset.
        class_tokens: position-table rows before the patch grid (1: class token; 0: none).
        pooled: True when the encoder already outputs `(batch, width)`; else the class token
            of its `(batch, tokens, width)` output is the feature vector.
    """

    name: str
    model_types: tuple[str, ...]
    build: Callable
    config_from_transformers: Callable
    port: Callable
    from_keras_hub: Callable
    class_tokens: int = 1
    pooled: bool = False


def keras_hub():
    """The keras_hub module (imported on first use)."""
    import keras_hub as kh

    return kh


# ---------------------------------------------------------------- where weights come from

def resolve(weights: str) -> str:
    """A local folder for `hf://org/name` (downloaded once into the Hugging Face cache; offline
    ValueError), the folder itself, or the keras-hub preset name unchanged."""
    text = str(weights)
    return hf.download(text) if text.startswith(hf.HF_PREFIX) else text


def folder_layout(path: Path) -> str:
    """"transformers" or "keras_hub" for a checkpoint folder; ValueError otherwise."""
    config = path / "config.json"
    if not config.is_file():
        raise ValueError(f"{path}: no config.json (expected a transformers or keras-hub checkpoint folder)")
    cfg = read_json(config)
    if "model_type" in cfg:
        return "transformers"
    if "class_name" in cfg or (path / "metadata.json").is_file():
        return "keras_hub"
    raise ValueError(f"{path}/config.json: neither a transformers (model_type) nor a keras-hub config")


def read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: unreadable ({e})") from None


def read_safetensors(folder: Path) -> dict[str, np.ndarray]:
    """Every tensor of the folder's `*.safetensors` files (sharded or not), float32 numpy."""
    from safetensors.numpy import load_file

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise ValueError(f"{folder}: no .safetensors file (save the checkpoint with safe_serialization)")
    state = {}
    for file in files:
        state.update(load_file(str(file)))
    return {k: np.asarray(v, dtype=np.float32) for k, v in state.items()}


def vision_state(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The vision tower's keys without their `vision_model.` prefix (a `CLIPModel`/`SiglipModel`
    checkpoint carries the text tower too; a transformers 5 `*VisionModel` saves no prefix)."""
    tower = {k.removeprefix("vision_model."): v for k, v in state.items() if k.startswith("vision_model.")}
    return tower or dict(state)


def checkpoint_preprocessing(weights) -> dict | None:
    """`{"mean", "std"}` from a local checkpoint folder's `preprocessor_config.json`, else None."""
    side = Path(str(weights)) / "preprocessor_config.json"
    if not side.is_file():
        return None
    cfg = read_json(side)
    if "image_mean" in cfg and "image_std" in cfg:
        return {"mean": [float(v) for v in cfg["image_mean"]], "std": [float(v) for v in cfg["image_std"]]}
    return None


# ---------------------------------------------------------------- native encoder -> input size

def load_encoder(family: HubFamily, weights: str, image_shape, name: str) -> keras.Model:
    """The family's encoder at `image_shape` with the weights of `weights` (a resolved folder or a
    keras-hub preset name), its position table resampled to the input's patch grid."""
    source, config = _native(family, weights, name)
    target = family.build(config, tuple(image_shape))
    copy_weights(source, target, family.class_tokens, bool(config.get("antialias")))
    return target


def _native(family: HubFamily, weights: str, name: str):
    path = Path(weights)
    if path.is_dir() and folder_layout(path) == "transformers":
        cfg = read_json(path / "config.json")
        if cfg["model_type"] not in family.model_types:
            raise ValueError(f"{path}: a {cfg['model_type']!r} checkpoint, {name} takes "
                             f"{' or '.join(family.model_types)}")
        config = family.config_from_transformers(cfg)
        encoder = family.build(config, config["image_shape"])
        family.port(encoder, read_safetensors(path), config)
        return encoder, config
    try:
        hub = keras_hub().models.Backbone.from_preset(str(weights))
    except Exception as e:  # unknown preset, offline Kaggle download, wrong folder: one line
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise ValueError(f"{name}: cannot load weights {weights!r} ({reason}); pass a keras-hub preset, "
                         "hf://org/name, a checkpoint folder or --weights none") from None
    return family.from_keras_hub(hub)


def copy_weights(source: keras.Model, target: keras.Model, class_tokens: int, antialias=False) -> None:
    """Assign `source`'s variables to `target` (same architecture, maybe another input size):
    equal shapes are copied, position tables resampled, integer position ids kept."""
    for a, b in zip(source.weights, target.weights, strict=True):
        if "int" in str(b.dtype):
            continue
        value = keras.ops.convert_to_numpy(a.value).astype(np.float32)
        if tuple(a.shape) != tuple(b.shape):
            value = resample_position(value, tuple(b.shape), class_tokens, a.path, antialias)
        b.assign(value)


def resample_position(table: np.ndarray, shape: tuple, class_tokens: int, what: str,
                      antialias: bool = False) -> np.ndarray:
    """A position table `([1,] class_tokens + n*n, width)` resampled to `shape` (same layout).

    As transformers' `interpolate_pos_encoding` (DINOv2, CLIP, SigLIP): the patch grid is
    resized with torch's `interpolate(mode="bicubic", align_corners=False)`, no antialias,
    class rows kept. Hand-written (`bicubic_matrix`): Keras' `ops.image.resize` uses other
    cubic weights on JAX/TF, and the zoo imports no torch here. `antialias` (DINOv2 with
    registers): torch's antialiased bicubic, which is Pillow's (`timm_vit.resample_position`).
    """
    rows = table.reshape(-1, table.shape[-1])
    cls, grid = rows[:class_tokens], rows[class_tokens:]
    old = int(round(np.sqrt(grid.shape[0])))
    new_rows = int(np.prod(shape[:-1])) - class_tokens
    new = int(round(np.sqrt(new_rows)))
    if old * old != grid.shape[0] or new * new != new_rows or table.shape[-1] != shape[-1]:
        raise ValueError(f"{what}: cannot resample a {table.shape} position table to {shape}")
    if antialias:
        dummy_class = np.concatenate([grid[:1], grid])[None]  # its (1, 1 + n*n, width) layout
        out = timm_vit.resample_position(dummy_class, (new, new))[0, 1:]
    else:
        m = bicubic_matrix(old, new)
        out = np.einsum("oh,hwc,pw->opc", m, grid.reshape(old, old, -1), m).reshape(new * new, -1)
    return np.concatenate([cls, out], axis=0).reshape(shape).astype(np.float32)


def bicubic_matrix(size_in: int, size_out: int, a: float = -0.75) -> np.ndarray:
    """`(size_out, size_in)` matrix of torch's 1-D bicubic resize (align_corners=False, a=-0.75,
    edge indices clamped, no antialias), as in ATen's `upsample_bicubic2d`."""
    x = (np.arange(size_out) + 0.5) * (size_in / size_out) - 0.5
    base = np.floor(x)
    offsets = np.arange(-1, 3)
    d = np.abs(x[:, None] - (base[:, None] + offsets[None]))
    w = np.where(d <= 1, ((a + 2) * d - (a + 3)) * d * d + 1,
                 np.where(d < 2, ((a * d - 5 * a) * d + 8 * a) * d - 4 * a, 0.0))
    idx = np.clip(base[:, None] + offsets[None], 0, size_in - 1).astype(int)
    m = np.zeros((size_out, size_in))
    np.add.at(m, (np.repeat(np.arange(size_out), 4), idx.ravel()), w.ravel())
    return m


# ---------------------------------------------------------------- transformers -> keras-hub helpers

def dense(prefix: str, path: str) -> dict:
    """torch Linear `prefix.weight/.bias` -> Keras Dense `path/kernel/bias` (kernel transposed)."""
    return {f"{prefix}.weight": (f"{path}/kernel", np.transpose), f"{prefix}.bias": (f"{path}/bias", None)}


def norm(prefix: str, path: str) -> dict:
    """torch LayerNorm -> Keras LayerNormalization (gamma, beta)."""
    return {f"{prefix}.weight": (f"{path}/gamma", None), f"{prefix}.bias": (f"{path}/beta", None)}


def attention(prefixes: dict[str, str], path: str, heads: int, width: int) -> dict:
    """torch q/k/v/out projections -> Keras MultiHeadAttention (`query`/`key`/`value`/
    `attention_output`); `prefixes` maps those four names to their torch key prefixes."""
    hd = width // heads
    table = {}
    for part in ("query", "key", "value"):
        table[f"{prefixes[part]}.weight"] = (f"{path}/{part}/kernel", lambda x: x.T.reshape(width, heads, hd))
        table[f"{prefixes[part]}.bias"] = (f"{path}/{part}/bias", lambda x: x.reshape(heads, hd))
    out = prefixes["attention_output"]
    table[f"{out}.weight"] = (f"{path}/attention_output/kernel", lambda x: x.T.reshape(heads, hd, width))
    table[f"{out}.bias"] = (f"{path}/attention_output/bias", None)
    return table


def clip_style_blocks(depth: int, heads: int, width: int, keras_names: dict[str, str]) -> dict:
    """transformers' CLIP-layout encoder layers (`encoder.layers.{i}.layer_norm1/2`, `.self_attn.
    {q,k,v,out}_proj`, `.mlp.fc1/fc2`, shared by CLIP and SigLIP) -> keras-hub `encoder_block_{i}/...`;
    `keras_names` maps `layer_norm1 layer_norm2 attention fc1 fc2` to that family's sublayer paths."""
    n, table = keras_names, {}
    for i in range(depth):
        t, k = f"encoder.layers.{i}", f"encoder_block_{i}"
        table.update({
            **norm(f"{t}.layer_norm1", f"{k}/{n['layer_norm1']}"), **norm(f"{t}.layer_norm2", f"{k}/{n['layer_norm2']}"),
            **attention({"query": f"{t}.self_attn.q_proj", "key": f"{t}.self_attn.k_proj",
                         "value": f"{t}.self_attn.v_proj", "attention_output": f"{t}.self_attn.out_proj"},
                        f"{k}/{n['attention']}", heads, width),
            **dense(f"{t}.mlp.fc1", f"{k}/{n['fc1']}"), **dense(f"{t}.mlp.fc2", f"{k}/{n['fc2']}"),
        })
    return table


def assign(encoder: keras.Model, state: dict[str, np.ndarray], table: dict, source: str) -> None:
    """Assign `state[key]` (converted) to the encoder variable named by `table[key]`; a missing
    key, a variable left over or a wrong shape raises ValueError naming it."""
    variables = {v.path: v for v in encoder.weights if "int" not in str(v.dtype)}
    missing = sorted(set(variables) - {path for path, _ in table.values()})
    if missing:
        raise ValueError(f"{source}: no checkpoint key fills {missing[0]}")
    for key, (path, convert) in table.items():
        if key not in state:
            raise ValueError(f"{source}: key {key!r} missing (expected for {path})")
        value = state[key] if convert is None else convert(state[key])
        if tuple(value.shape) != tuple(variables[path].shape):
            raise ValueError(f"{source}: {key} has shape {tuple(state[key].shape)}, "
                             f"{path} needs {tuple(variables[path].shape)}")
        variables[path].assign(value)
