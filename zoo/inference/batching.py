"""The shape check and the one fixed-batch chunker every Predictor goes through."""

import numpy as np


def checked_images(images, image_size, where) -> np.ndarray:
    """`images` as float32 `(B, H, W, 3)`; ValueError naming `where` for another shape."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or tuple(images.shape[1:]) != (*image_size, 3):
        raise ValueError(f"{where}: expects images (B, {image_size[0]}, {image_size[1]}, 3), "
                         f"got {images.shape}")
    return images


def in_batches(run, images: np.ndarray, batch: int | None) -> dict[str, np.ndarray]:
    """`run(chunk) -> {head: (b, n)}` over `images` in chunks of `batch` (all at once when
    None); a short last chunk is padded with copies of its last image to `batch` (a
    fixed-batch artifact takes nothing else) and the padding's outputs are dropped."""
    if not batch or len(images) == batch:
        return {k: np.asarray(v) for k, v in run(images).items()}
    parts = []
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        pad = batch - len(chunk)
        out = run(np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)]) if pad else chunk)
        parts.append({k: np.asarray(v)[: len(chunk)] for k, v in out.items()})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
