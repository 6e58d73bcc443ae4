"""Checks of tests/test_vit_weights.py run in a fresh process: timm's reference, the zoo's ViT.

`reference` runs real timm code (torch backend, random weights, nothing
downloaded); `compare` loads its checkpoint into the zoo's Keras ViT on one backend.
Images are float32 (N, px, px, 3) in [0, 255]; features are (N, width) float32.
"""

import importlib.abc
import importlib.machinery
import sys
import types


class _InertMeta(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return f"{cls.__name__}.{name}"


class _Inert(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _InertMeta(name, (), {})


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] == "torchvision":
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return _Inert(spec.name)

    def exec_module(self, module):
        module.__path__ = []


def install_inert_torchvision():
    """timm imports torchvision at import time, but only its data helpers use it; the
    registry's torchvision wheels need CUDA torch, so the reference process gets an
    inert stand-in (test-only: the zoo itself needs neither timm nor torch)."""
    sys.meta_path.insert(0, _Finder())


def _random_timm(name: str):
    """timm's `name` (num_classes=0) with every parameter randomised (seed 0)."""
    import timm
    import torch

    torch.manual_seed(0)
    model = timm.create_model(name, pretrained=False, num_classes=0).eval()
    with torch.no_grad():  # timm zero-inits biases and LayerNorms; randomise every parameter
        for _, p in model.named_parameters():
            p.add_(torch.randn_like(p) * (0.1 if p.ndim == 1 else 0.02))
    return model


def _save_checkpoint(model, out: str, name: str, mean, std) -> dict:
    """model.safetensors, DeiT's .pth layout and timm's hub config.json in `out`; the state dict."""
    import json

    import torch
    from safetensors.torch import save_file

    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    width = state["cls_token"].shape[-1]
    state["head.weight"] = torch.zeros(1000, width)  # a classifier, as real checkpoints carry
    state["head.bias"] = torch.zeros(1000)
    save_file(state, f"{out}/model.safetensors")
    torch.save({"model": state}, f"{out}/deit_style.pth")  # DeiT's .pth layout
    with open(f"{out}/config.json", "w") as f:
        json.dump({"architecture": name, "pretrained_cfg": {"mean": mean, "std": std}}, f)
    return state


def reference(out: str, name: str, mean: list, std: list) -> dict:
    """A random timm checkpoint in `out`, inputs x{px}.npy and timm's features timm{px}.npy
    at 224 px and at 128 px (state dict through timm's `checkpoint_filter_fn`)."""
    install_inert_torchvision()
    import numpy as np
    import timm
    import torch
    from timm.models.vision_transformer import checkpoint_filter_fn

    model = _random_timm(name)
    state = _save_checkpoint(model, out, name, mean, std)
    rng = np.random.default_rng(0)
    feats = {}
    for px in (224, 128):
        x = rng.uniform(0, 255, (2, px, px, 3)).astype("float32")
        np.save(f"{out}/x{px}.npy", x)
        t = torch.from_numpy(((x / 255 - np.float32(mean)) / np.float32(std)).transpose(0, 3, 1, 2).copy())
        net = model if px == 224 else timm.create_model(name, pretrained=False, num_classes=0, img_size=px).eval()
        if px != 224:
            net.load_state_dict(checkpoint_filter_fn(dict(state), net), strict=False)
        with torch.no_grad():
            feats[px] = net(t.float()).numpy()
        np.save(f"{out}/timm{px}.npy", feats[px])
    return {"shape": list(feats[224].shape), "scale": float(np.abs(feats[224]).max())}


def _diff(out: str, px: int, weights: str, name: str, **kwargs) -> float:
    """Max |zoo backbone(x{px}) - timm{px}| with `weights` loaded."""
    import keras
    import numpy as np

    import zoo

    x, ref = np.load(f"{out}/x{px}.npy"), np.load(f"{out}/timm{px}.npy")
    net = zoo.backbone(name, input_shape=(px, px, 3), weights=weights, **kwargs)
    return float(np.abs(keras.ops.convert_to_numpy(net(x, training=False)) - ref).max())


def _convert_checks(out: str) -> dict:
    """`python -m zoo convert-weights`, run through the CLI's main: a fitting and a misfitting model."""
    import contextlib
    import io
    import json
    import os

    import zoo.cli

    report = {}
    convert = ["convert-weights", f"{out}/model.safetensors", "--out"]
    report["convert_rc"] = zoo.cli.main(convert + [f"{out}/vit_tiny16.weights.h5", "--model", "vit_tiny16",
                                                   "--image-size", "128"])
    report["diff_converted"] = _diff(out, 128, f"{out}/vit_tiny16.weights.h5", "vit_tiny16")
    with open(f"{out}/vit_tiny16.weights.h5.json") as f:
        report["sidecar"] = json.load(f)
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):  # a checkpoint that does not fit: one line, exit 2
        report["mismatch_rc"] = zoo.cli.main(convert + [f"{out}/small.weights.h5", "--model", "vit_small16",
                                                        "--image-size", "32"])
    report["mismatch"] = stderr.getvalue()
    report["mismatch_wrote"] = os.path.exists(f"{out}/small.weights.h5")
    return report


def compare(out: str, name: str, mean: list, std: list) -> dict:
    """The zoo's `name` backbone on the checkpoint in `out` against timm's features, per size;
    on torch also the DeiT .pth (no sidecar, so mean/std is an argument); on jax the CLI's convert."""
    import keras
    import numpy as np

    import zoo

    report = {}
    for px in (224, 128):
        ref = np.load(f"{out}/timm{px}.npy")
        net = zoo.backbone(name, input_shape=(px, px, 3), weights=f"{out}/model.safetensors")
        got = keras.ops.convert_to_numpy(net(np.load(f"{out}/x{px}.npy"), training=False))
        report[f"diff{px}"] = float(np.abs(got - ref).max())
        report[f"scale{px}"] = float(np.abs(ref).max())
        report["preprocess"] = net.get_layer("preprocess").get_config()
    if keras.backend.backend() == "torch":  # .pth needs torch
        report["diff_pth"] = _diff(out, 224, f"{out}/deit_style.pth", name,
                                   preprocessing={"mean": mean, "std": std})
    if keras.backend.backend() == "jax" and name == "vit_tiny16":
        report.update(_convert_checks(out))
    return report
