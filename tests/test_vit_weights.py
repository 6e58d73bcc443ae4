"""timm ViT checkpoints load into the zoo's Keras ViT and give timm's features, on every backend.

The reference is real timm code (random weights, nothing downloaded): a
`vit_tiny_patch16_224` with `num_classes=0`, its pooled output at 224 px, and a
model built with `img_size=128` whose state dict went through timm's own
`checkpoint_filter_fn` (position table resampled).
"""

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import BACKENDS, backend_env, run_on_backend

if (
    importlib.util.find_spec("timm") is None
):  # the dev extra installs it; imported only in a subprocess
    pytest.skip("timm not installed (pip install -e .[dev])", allow_module_level=True)

# timm imports torchvision at import time, but only its data helpers use it; the
# registry's torchvision wheels need CUDA torch, so the reference process gets an
# inert stand-in (test-only: the zoo itself needs neither timm nor torch).
INERT_TORCHVISION = """
import importlib.abc, importlib.machinery, sys, types

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

sys.meta_path.insert(0, _Finder())
"""

# DeiT-style normalisation, written to the checkpoint's config.json as timm's hub layout does.
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

REFERENCE = (
    INERT_TORCHVISION
    + """
import json, sys, numpy as np, torch, timm
from safetensors.torch import save_file
from timm.models.vision_transformer import checkpoint_filter_fn

out, name, mean, std = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
torch.manual_seed(0)
model = timm.create_model(name, pretrained=False, num_classes=0).eval()
with torch.no_grad():  # timm zero-inits biases and LayerNorms; randomise every parameter
    for key, p in model.named_parameters():
        p.add_(torch.randn_like(p) * (0.1 if p.ndim == 1 else 0.02))
state = {k: v.contiguous() for k, v in model.state_dict().items()}
width = state["cls_token"].shape[-1]
state["head.weight"] = torch.zeros(1000, width)  # a classifier, as real checkpoints carry
state["head.bias"] = torch.zeros(1000)
save_file(state, f"{out}/model.safetensors")
torch.save({"model": state}, f"{out}/deit_style.pth")  # DeiT's .pth layout
json.dump({"architecture": name, "pretrained_cfg": {"mean": mean, "std": std}}, open(f"{out}/config.json", "w"))

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
print(json.dumps({"shape": list(feats[224].shape), "scale": float(np.abs(feats[224]).max())}))
"""
)


def _reference(out, timm_name: str, width: int):
    """A random timm checkpoint (+ config.json, .pth copy) in `out` and timm's features for it."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(REFERENCE),
            str(out),
            timm_name,
            json.dumps(MEAN),
            json.dumps(STD),
        ],
        env=backend_env("torch"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["shape"] == [2, width]
    return out


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return _reference(tmp_path_factory.mktemp("timm"), "vit_tiny_patch16_224", 192)


COMPARE = """
import json, os, numpy as np, keras, zoo
out = {out!r}
report = {{}}
for px in (224, 128):
    x, ref = np.load(f"{{out}}/x{{px}}.npy"), np.load(f"{{out}}/timm{{px}}.npy")
    net = zoo.backbone({name!r}, input_shape=(px, px, 3), weights=f"{{out}}/model.safetensors")
    got = keras.ops.convert_to_numpy(net(x, training=False))
    report[f"diff{{px}}"] = float(np.abs(got - ref).max())
    report[f"scale{{px}}"] = float(np.abs(ref).max())
    report["preprocess"] = net.get_layer("preprocess").get_config()
if keras.backend.backend() == "torch":  # .pth needs torch; no sidecar, so the mean/std is an argument
    x, ref = np.load(f"{{out}}/x224.npy"), np.load(f"{{out}}/timm224.npy")
    net = zoo.backbone({name!r}, input_shape=(224, 224, 3), weights=f"{{out}}/deit_style.pth",
                       preprocessing={{"mean": {mean}, "std": {std}}})
    report["diff_pth"] = float(np.abs(keras.ops.convert_to_numpy(net(x, training=False)) - ref).max())
if keras.backend.backend() == "jax" and {name!r} == "vit_tiny16":  # `python -m zoo convert-weights`, run through the CLI's main
    import contextlib, io, zoo.cli
    convert = ["convert-weights", f"{{out}}/model.safetensors", "--out"]
    report["convert_rc"] = zoo.cli.main(convert + [f"{{out}}/vit_tiny16.weights.h5", "--model", "vit_tiny16",
                                                   "--image-size", "128"])
    x, ref = np.load(f"{{out}}/x128.npy"), np.load(f"{{out}}/timm128.npy")
    net = zoo.backbone("vit_tiny16", input_shape=(128, 128, 3), weights=f"{{out}}/vit_tiny16.weights.h5")
    report["diff_converted"] = float(np.abs(keras.ops.convert_to_numpy(net(x, training=False)) - ref).max())
    report["sidecar"] = json.load(open(f"{{out}}/vit_tiny16.weights.h5.json"))
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):  # a checkpoint that does not fit: one line, exit 2
        report["mismatch_rc"] = zoo.cli.main(convert + [f"{{out}}/small.weights.h5", "--model", "vit_small16",
                                                        "--image-size", "32"])
    report["mismatch"] = stderr.getvalue()
    report["mismatch_wrote"] = os.path.exists(f"{{out}}/small.weights.h5")
print(json.dumps(report))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_timm_checkpoint_gives_timm_features(checkpoint, backend):
    r = run_on_backend(
        backend, COMPARE.format(out=str(checkpoint), mean=MEAN, std=STD, name="vit_tiny16")
    )
    assert r["scale224"] > 0.1 and r["scale128"] > 0.1  # features are not trivially small
    assert r["diff224"] <= 1e-4, r
    assert r["diff128"] <= 1e-4, r
    assert r["preprocess"]["mode"] == "normalize"  # the checkpoint's config.json mean/std
    assert r["preprocess"]["mean"] == pytest.approx(MEAN) and r["preprocess"][
        "std"
    ] == pytest.approx(STD)
    if backend == "torch":
        assert r["diff_pth"] <= 1e-4, r
    if backend == "jax":
        assert r["convert_rc"] == 0
        assert r["diff_converted"] <= 1e-4, r
        assert r["sidecar"]["mean"] == pytest.approx(MEAN) and r["sidecar"]["image_size"] == 128
        line = r["mismatch"].strip()
        assert r["mismatch_rc"] == 2 and line.startswith("error: ") and "\n" not in line, line
        assert "'cls_token'" in line and "(1, 1, 192)" in line and "(1, 1, 384)" in line, line
        assert not r["mismatch_wrote"]
    print(json.dumps(r))


@pytest.mark.slow
def test_vit_small_checkpoint_gives_timm_features(tmp_path):
    out = _reference(tmp_path, "vit_small_patch16_224", 384)
    r = run_on_backend(
        "torch", COMPARE.format(out=str(out), mean=MEAN, std=STD, name="vit_small16")
    )
    assert max(r["diff224"], r["diff128"], r["diff_pth"]) <= 1e-4, r
