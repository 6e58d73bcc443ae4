"""Where the model looked: occlusion heatmaps over any Predictor (`zoo.inference`).

Method: **occlusion sensitivity** (Zeiler & Fergus, 2014). A grey-out window of a quarter
of the image side slides with a stride of an eighth (7 x 7 = 49 positions); the heatmap of
a pixel is the mean drop of the target class probability over the windows covering it.

Why occlusion and not Grad-CAM (measured, see README "Explain"):
* it needs only forward passes, so it is plain Keras on all three backends: no
  jax.grad / tf.GradientTape / torch.autograd edge;
* one method for every family: ResNet/EfficientNet/ConvNeXt and ViTs alike, and for
  models with an image filter in front; Grad-CAM needs the last conv stage, which
  at the zoo's 32 px quickstart size is 1 x 1 for ResNet50 (stride 32): no map at all;
* its resolution is set by the window grid, not by the network's stride;
* cost: 50 forward passes (49 windows + the original) in 2 batches per image. Measured,
  ResNet50, ms per image at 32 / 128 px on the loaded 2-core dev CPU: jax 2286 / 4622,
  tensorflow 455 / 3833, torch 2965 / 10852 (one plain predict: 178 / 208, 16 / 156,
  755 / 908). Grad-CAM (one forward + one backward pass) would be ~10x cheaper where it
  works; a second or so per painting is fine for a person looking at the picture.
"""

import io
from dataclasses import dataclass

import numpy as np

from zoo.inference.batching import in_batches
from zoo.inference.prediction import top_classes

WINDOWS_PER_SIDE = 7  # window = side / 4, stride = side / 8 -> 7 positions per axis
BATCH = 25  # forward passes per model call (50 per image -> 2 calls)


@dataclass
class Explanation:
    """`heatmap`: `(H, W)` float32 in 0..1 (1 = most evidence); `top`: the task's top 3
    [{"name", "p"}] as in the prediction JSON; `target`: the class the heatmap explains;
    `outputs`: head name -> the unoccluded image's outputs (numpy)."""

    heatmap: np.ndarray
    target: str
    top: list
    outputs: dict


def class_heads(predictor) -> dict:
    """Task name -> class names of every classification head of `predictor.label_space`."""
    return {task.name: task.classes for task in predictor.label_space.classification}


def occlusion_masks(height: int, width: int) -> list[tuple[slice, slice]]:
    """The 49 (row slice, column slice) windows: side/4 wide, stride side/8."""
    wins = []
    hw, ww = max(1, height // 4), max(1, width // 4)
    for i in range(WINDOWS_PER_SIDE):
        top = round(i * (height - hw) / (WINDOWS_PER_SIDE - 1))
        for j in range(WINDOWS_PER_SIDE):
            left = round(j * (width - ww) / (WINDOWS_PER_SIDE - 1))
            wins.append((slice(top, top + hw), slice(left, left + ww)))
    return wins


def explain_pixels(predictor, pixels: np.ndarray, task: str = "artist", target=None) -> Explanation:
    """Occlusion heatmap of one image `(H, W, 3)` float32 0..255 for `task`'s `target` class
    (default: the top-1 class), with any `zoo.inference.Predictor`."""
    names = class_heads(predictor).get(task)
    if names is None:
        raise ValueError(f"--task {task}: the model has no such classification head; "
                         f"it has {', '.join(class_heads(predictor)) or 'none'}")
    if target is not None and target not in names:
        raise ValueError(f"--target {target!r}: not one of this model's {task} classes "
                         f"(e.g. {', '.join(names[:5])})")
    height, width = pixels.shape[:2]
    windows = occlusion_masks(height, width)
    fill = pixels.reshape(-1, 3).mean(axis=0)  # the image's mean colour: no new edges or hues
    batch = np.repeat(pixels[None], len(windows) + 1, axis=0)
    for k, (rows, cols) in enumerate(windows, start=1):
        batch[k, rows, cols] = fill
    out = in_batches(predictor.predict, batch, BATCH)
    outputs = {name: v[0] for name, v in out.items()}
    probs = out[task]
    index = names.index(target) if target is not None else int(np.argmax(probs[0]))
    drops = probs[0, index] - probs[1:, index]
    heat, count = np.zeros((height, width), np.float32), np.zeros((height, width), np.float32)
    for (rows, cols), drop in zip(windows, drops, strict=True):
        heat[rows, cols] += drop
        count[rows, cols] += 1
    heat = np.clip(heat / np.maximum(count, 1), 0, None)
    heat = heat / heat.max() if heat.max() > 0 else heat
    return Explanation(heat, names[index], top_classes(probs[0], names, 3), outputs)


def render_png(pixels: np.ndarray, explanation: Explanation, title: str = "") -> bytes:
    """The painting, the heatmap over it (jet, 45 %), and the top-3 classes, as PNG bytes."""
    from matplotlib.figure import Figure  # no pyplot: thread-safe, no GUI backend

    fig = Figure(figsize=(4.2, 5.0), dpi=100)
    ax = fig.add_axes((0.02, 0.22, 0.96, 0.72))
    ax.imshow(pixels.astype(np.uint8), interpolation="bilinear")
    ax.imshow(explanation.heatmap, cmap="jet", alpha=0.45, vmin=0, vmax=1, interpolation="bilinear")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    lines = [f"{i + 1}. {c['name']}  {c['p']:.1%}" for i, c in enumerate(explanation.top)]
    lines.append(f"heatmap: evidence for {explanation.target}")
    fig.text(0.04, 0.02, "\n".join(lines), fontsize=9, family="monospace", va="bottom")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
