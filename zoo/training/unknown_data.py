"""Works by artists outside a model (`zoo evaluate --unknown DIR2`): every image of a dataset
folder (its manifest, all splits) or of a plain folder of image files, as batches shaped like
`data_tools.pipeline`'s `(images, targets, weights)` without labels."""

from pathlib import Path

import numpy as np
from rich.progress import track

from data_tools.decode import BadImage, load_image
from data_tools.images import IMAGE_EXTENSIONS
from data_tools.manifest import MANIFEST, read_manifest


def unknown_paths(folder) -> list[Path]:
    """The image files of `folder`: its manifest's rows, else its image files (recursive, sorted);
    ValueError when there are none."""
    folder = Path(folder)
    if (folder / MANIFEST).is_file():
        paths = [folder / row["path"] for row in read_manifest(folder)]
    else:
        paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not paths:
        raise ValueError(f"--unknown {folder}: no images (a dataset folder or a folder of image files)")
    return paths


class ImageBatches:
    """`as_numpy_iterator()` -> `(images float32 (B, H, W, 3) 0..255, {}, {})` over `paths`
    (files that cannot be decoded are skipped), as `collect_predictions` reads a dataset."""

    def __init__(self, paths, image_size, batch_size: int = 32):
        self.paths, self.image_size, self.batch_size = list(paths), tuple(image_size), batch_size

    def as_numpy_iterator(self):
        batch = []
        for path in track(self.paths, description="unknown works", transient=True):
            try:
                batch.append(load_image(path, self.image_size))
            except BadImage:
                continue
            if len(batch) == self.batch_size:
                yield np.stack(batch), {}, {}
                batch = []
        if batch:
            yield np.stack(batch), {}, {}
