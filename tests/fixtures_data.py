"""Builders for small, real image files and dataset trees used by the data_tools tests."""

from __future__ import annotations

import csv
import io
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
HTML = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>nope</body></html>"


def image_bytes(seed: int, size=(40, 30), mode="RGB", fmt="JPEG") -> bytes:
    """A small noisy image (distinct per seed) encoded in `fmt`."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    if mode == "RGBA":
        image.putalpha(Image.fromarray(rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8)))
    elif mode == "P":
        image = image.quantize(16)
    elif mode != "RGB":
        image = image.convert(mode)
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()


def truncated_jpeg(seed: int) -> bytes:
    """The first half of a 64x64 JPEG: the header is fine, the scan data stops early."""
    data = image_bytes(seed, size=(64, 64))
    return data[: len(data) // 2]


def bomb_png(width: int = 10_000, height: int = 10_000) -> bytes:
    """A valid 1-bit PNG declaring width x height pixels, only a few KB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def write(path: Path, data: bytes) -> Path:
    """Write bytes, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    """A zip archive with exactly these member names (unsafe ones included verbatim)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return path


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m data_tools ARGS` from the repository root."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "data_tools", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def read_csv(path: Path) -> list[dict]:
    """Rows of a CSV file as dicts."""
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


MANIFEST_COLUMNS = ("image_id", "path", "artist", "year", "movement", "split", "sha1", "source")


def write_dataset(folder, rows: list[dict], size=(48, 40)) -> None:
    """Write `rows` (artist, year, movement, split) as a dataset folder: JPEGs + manifest.csv.

    Each image is a flat colour that encodes its row number (red = 10 * i), so a test can
    tell which row a decoded image came from.
    """
    (folder / "images").mkdir(parents=True)
    full = []
    for i, row in enumerate(rows):
        pixels = np.zeros((size[1], size[0], 3), np.uint8)
        pixels[..., 0], pixels[..., 1], pixels[..., 2] = 10 * i, 128, 255 - 10 * i
        path = f"images/{i:03d}.jpg"
        Image.fromarray(pixels).save(folder / path, quality=95)
        full.append(
            {"image_id": f"im{i}", "path": path, "sha1": f"{i:040x}", "source": "test", **row}
        )
    with open(folder / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        writer.writerows(full)


# ArtGAN's three tasks list different images (`write_artgan`): per task, train and val lists.
ARTGAN_LISTS = {
    "artist": {"train": {"Impressionism/claude-monet_a-1900.jpg": 0, "Impressionism/claude-monet_b-1901.jpg": 0,
                         "Impressionism/claude-monet_c-1902.jpg": 0, "Realism/gustave-courbet_a-1850.jpg": 1,
                         "Realism/gustave-courbet_b-1851.jpg": 1},
               "val": {"Impressionism/claude-monet_d-1903.jpg": 0, "Realism/gustave-courbet_c-1852.jpg": 1}},
    "genre": {"train": {"Impressionism/claude-monet_a-1900.jpg": 0, "Impressionism/claude-monet_b-1901.jpg": 1,
                        "Baroque/anonymous_x-1650.jpg": 0, "Baroque/anonymous_y-1651.jpg": 1,
                        "Realism/gustave-courbet_a-1850.jpg": 0, "Realism/gustave-courbet_b-1851.jpg": 1},
              # claude-monet_c: artist train, genre val
              "val": {"Impressionism/claude-monet_c-1902.jpg": 0, "Baroque/anonymous_z-1652.jpg": 1,
                      "Realism/gustave-courbet_c-1852.jpg": 1}},
    "style": {"train": {"Impressionism/claude-monet_a-1900.jpg": 0, "Impressionism/claude-monet_b-1901.jpg": 0,
                        "Realism/gustave-courbet_a-1850.jpg": 1, "Baroque/anonymous_x-1650.jpg": 2,
                        "Baroque/anonymous_y-1651.jpg": 2, "Cubism/georges-braque_s-1910.jpg": 3},
              "val": {"Impressionism/claude-monet_d-1903.jpg": 0, "Realism/gustave-courbet_c-1852.jpg": 1,
                      "Baroque/anonymous_z-1652.jpg": 2}},
}
ARTGAN_CLASSES = {"artist": ["Claude_Monet", "Gustave_Courbet"], "genre": ["landscape", "portrait"],
                  "style": ["Impressionism", "Realism", "Baroque", "Cubism"]}


def write_artgan(root: Path) -> Path:
    """ArtGAN-shaped WikiArt under root/wikiart (style folders) and root/wikiart_csv (every
    task's ``<task>_train.csv``, ``<task>_val.csv``, ``<task>_class.txt``, `ARTGAN_LISTS`);
    plus one image no list names (Realism/stray-1800.jpg). Returns root."""
    names = sorted({p for task in ARTGAN_LISTS.values() for part in task.values() for p in part})
    for seed, name in enumerate([*names, "Realism/stray-1800.jpg"]):
        write(root / "wikiart" / name, image_bytes(100 + seed))
    for task, parts in ARTGAN_LISTS.items():
        for part, listed in parts.items():
            lines = "".join(f"{path},{idx}\n" for path, idx in listed.items())
            write(root / "wikiart_csv" / f"{task}_{part}.csv", lines.encode())
        classes = "".join(f"{i} {name}\n" for i, name in enumerate(ARTGAN_CLASSES[task]))
        write(root / "wikiart_csv" / f"{task}_class.txt", classes.encode())
    return root
