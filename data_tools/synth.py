"""The embedded default dataset: procedural artists with learnable styles.

Each artist belongs to a movement, which fixes the brush primitive (long strokes,
stipple dots, swirling arcs or grid blocks) and an era. Within a movement artists
differ by palette (hues spread evenly over the colour wheel), stroke direction and
length, canvas texture (grain, weave or smooth) and composition (horizon, radial
focus or diagonal gradient). Every artwork gets a year inside its artist's active
years, and the style drifts with it: the hue turns, strokes lengthen and the
ground darkens over a career. The same seed gives byte-identical output.

The manifest also has a ``genre`` column (default; `genre=False`, ``synth --no-genre``,
leaves it out), the subject the composition draws (`GENRES`: a horizon is a landscape, a
radial focus a portrait, a diagonal gradient a still life); it crosses movements, so it is a
task of its own. The embedded default set thus has four heads: artist, movement, genre, year.
Genre is a label only: the images are the same bytes with or without it.
"""

from __future__ import annotations

import colorsys
import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from data_tools import outdir
from data_tools.build import BuildOptions, BuildResult, Candidate, write_dataset
from data_tools.manifest import COLUMNS, MANIFEST, DataError
from data_tools.outdir import staged

# The embedded dataset `python -m zoo train` uses without --data (ensure_default_dataset).
DEFAULT_ROOT = "data/synthetic"
DEFAULT_SYNTH = {"artists": 10, "per_artist": 60, "image_size": 128, "seed": 0, "genre": True}

FIRST = (
    "Mirela",
    "Tobias",
    "Ines",
    "Corvin",
    "Alma",
    "Jasper",
    "Liesel",
    "Oren",
    "Selma",
    "Anselm",
    "Greta",
    "Idris",
    "Mathilde",
    "Rafael",
    "Wren",
    "Ottoline",
    "Bruno",
    "Elif",
    "Casimir",
    "Noor",
    "Piet",
    "Yara",
    "Lucian",
    "Henrike",
)
LAST = (
    "Kovant",
    "Renwick",
    "Halloran",
    "Vesk",
    "Marchetti",
    "Ostrander",
    "Lindqvist",
    "Dufresne",
    "Abernathy",
    "Castellan",
    "Nyberg",
    "Okafor",
    "Brandauer",
    "Solberg",
    "Achterberg",
    "Moravec",
    "Quillan",
    "Esterhazy",
    "Tamsin",
    "Varga",
    "Delacroy",
    "Penhallow",
    "Ibarra",
    "Whitlock",
)
# (name, brush primitive, first year, last year)
MOVEMENTS = (
    ("Lumenist School", "stroke", 1610, 1700),
    ("Stipple Realism", "dot", 1830, 1890),
    ("Vortex Expressionism", "arc", 1880, 1935),
    ("Gridwork", "block", 1910, 1975),
)
COMPOSITIONS = ("horizon", "radial", "diagonal")
GENRES = {"horizon": "landscape", "radial": "portrait", "diagonal": "still life"}  # composition -> subject
TEXTURES = ("grain", "weave", "smooth")
MAX_ARTISTS = len(FIRST) * len(LAST)


@dataclass(frozen=True)
class Style:
    """Everything that makes one procedural artist recognisable."""

    name: str
    movement: str
    primitive: str
    first_year: int
    last_year: int
    hue: float
    angle: float  # main stroke direction, radians
    length: float  # stroke length as a fraction of the image side
    width: float  # stroke width as a fraction of the image side
    density: int  # strokes per image
    composition: str
    texture: str
    grain: int  # texture cells per side / weave frequency
    focus: tuple[float, float]


def artist_names(n: int) -> list[str]:
    """n distinct invented names (fixed, independent of the seed)."""
    return [f"{FIRST[i % len(FIRST)]} {LAST[(i + i // len(FIRST)) % len(LAST)]}" for i in range(n)]


def make_styles(n_artists: int, seed: int) -> list[Style]:
    """Deterministic, well-separated styles for n artists."""
    names = artist_names(n_artists)
    n_moves = min(len(MOVEMENTS), n_artists)
    rng = np.random.default_rng([seed, 7919])
    hue0 = rng.random()
    styles = []
    for i in range(n_artists):
        mv_name, primitive, era0, era1 = MOVEMENTS[i % n_moves]
        j = i // n_moves  # rank inside the movement
        span = int(rng.integers(22, 38))
        first = era0 + int(rng.integers(0, max(1, era1 - era0 - span)))
        styles.append(
            Style(
                name=names[i],
                movement=mv_name,
                primitive=primitive,
                first_year=first,
                last_year=first + span,
                hue=(hue0 + i / n_artists) % 1.0,
                angle=float(np.pi * ((j * 0.37 + i * 0.13 + rng.random() * 0.08) % 1.0)),
                length=float(0.12 + 0.08 * (j % 3) + rng.random() * 0.04),
                width=float(0.015 + 0.012 * ((i + j) % 3)),
                density=int(70 + 25 * ((i * 3 + j) % 4)),
                composition=COMPOSITIONS[j % len(COMPOSITIONS)],
                texture=TEXTURES[(i + 2 * j) % len(TEXTURES)],
                grain=int(rng.integers(6, 20)),
                focus=(float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.3, 0.7))),
            )
        )
    return styles


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    """An RGB colour (0..255 floats) from HSV in 0..1."""
    return np.array(colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0), 1), min(max(v, 0), 1))) * 255


def _hsv_array(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorised HSV (0..1) to RGB integers (n, 3) in 0..255."""
    h, s, v = np.mod(h, 1.0), np.clip(s, 0, 1), np.clip(v, 0, 1)
    sector = np.floor(h * 6).astype(int) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r = np.choose(sector, [v, q, p, p, t, v])
    g = np.choose(sector, [t, v, v, q, p, p])
    b = np.choose(sector, [p, p, t, v, v, q])
    return (np.stack([r, g, b], axis=1) * 255).astype(int)


@functools.lru_cache(maxsize=4)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in 0..1 (rows, columns), shared by all images of a size."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    return yy, xx


def render(style: Style, year: int, size: int, rng: np.random.Generator) -> Image.Image:
    """One artwork of `style` painted in `year`, as a size x size RGB image."""
    t = (year - style.first_year) / max(1, style.last_year - style.first_year)
    hue = style.hue + 0.04 * t
    yy, xx = _grid(size)
    field = _composition(style, xx, yy, rng)
    light = _hsv(hue + 0.03, 0.30 + 0.1 * t, 0.92 - 0.25 * t)
    dark = _hsv(hue - 0.05, 0.55, 0.40 - 0.15 * t)
    canvas = light + (dark - light) * field[..., None]
    canvas += _texture(style, xx, yy, size, rng)[..., None]
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    _paint(ImageDraw.Draw(image), style, hue, t, size, rng)
    return image


def _composition(style: Style, xx, yy, rng) -> np.ndarray:
    """A 0..1 field that lays out light and dark ground."""
    fx, fy = style.focus
    if style.composition == "horizon":
        level = fy + rng.normal(0, 0.04)
        wave = 0.03 * np.sin(xx * 2 * np.pi * (1 + 2 * fx) + rng.random() * 6)
        return 1 / (1 + np.exp(-(yy - level - wave) * 25))
    if style.composition == "radial":
        dist = np.hypot(xx - fx - rng.normal(0, 0.03), yy - fy - rng.normal(0, 0.03))
        return np.clip(dist / 0.65, 0, 1)
    angle = style.angle + np.pi / 2
    proj = xx * np.cos(angle) + yy * np.sin(angle)
    return (proj - proj.min()) / (proj.max() - proj.min() + 1e-6)


def _texture(style: Style, xx, yy, size: int, rng) -> np.ndarray:
    """Additive canvas texture (grey levels)."""
    if style.texture == "grain":
        cells = rng.normal(0, 14, (style.grain, style.grain)).astype(np.float32)
        return np.asarray(Image.fromarray(cells).resize((size, size), Image.BILINEAR))
    if style.texture == "weave":
        f = 2 * np.pi * style.grain * 1.5
        return 9 * (np.sin(xx * f) * np.sin(yy * f * 0.8))
    return rng.normal(0, 2, (size, size)).astype(np.float32)


def _paint(draw: ImageDraw.ImageDraw, style: Style, hue, t, size, rng) -> None:
    """Brush marks with the artist's primitive, palette, direction and length."""
    n = int(style.density * (1 + 0.3 * t))
    fx, fy = style.focus
    spread = 0.22 if style.composition == "radial" else 0.5
    x = np.clip(rng.normal(fx, spread, n), -0.05, 1.05) * size
    y = np.clip(rng.normal(fy, spread, n), -0.05, 1.05) * size
    ang = style.angle + rng.normal(0, 0.18, n)
    length = style.length * (1 + 0.6 * t) * rng.lognormal(0, 0.25, n) * size
    width = max(1, round(style.width * size))
    tone = rng.random(n)
    accent = rng.random(n) < 0.08
    colors = _hsv_array(
        np.where(accent, hue + 0.5, hue + 0.06 * (tone - 0.5)),
        np.where(accent, 0.85, 0.65 + 0.25 * tone),
        np.where(accent, 0.95, 0.30 + 0.65 * tone),
    ).tolist()
    for k in range(n):
        color = tuple(colors[k])
        dx, dy = np.cos(ang[k]) * length[k] / 2, np.sin(ang[k]) * length[k] / 2
        if style.primitive == "stroke":
            draw.line([(x[k] - dx, y[k] - dy), (x[k] + dx, y[k] + dy)], fill=color, width=width)
        elif style.primitive == "dot":
            r = max(1.0, width * (0.6 + tone[k]))
            draw.ellipse([x[k] - r, y[k] - r, x[k] + r, y[k] + r], fill=color)
        elif style.primitive == "arc":
            r = length[k] / 2
            start = float(np.degrees(ang[k]))
            box = [x[k] - r, y[k] - r, x[k] + r, y[k] + r]
            draw.arc(box, start, start + 150, fill=color, width=width)
        else:  # block: axis-aligned slabs snapped to a grid
            cell = size / style.grain
            x0, y0 = (x[k] // cell) * cell, (y[k] // cell) * cell
            w = max(cell, abs(dx) * 2) if abs(dx) > abs(dy) else cell
            h = cell if abs(dx) > abs(dy) else max(cell, abs(dy) * 2)
            draw.rectangle([x0, y0, x0 + w - 1, y0 + h - 1], fill=color)


def candidates(artists: int, per_artist: int, image_size: int, seed: int, genre: bool = True) -> list[Candidate]:
    """Lazy candidates (rendered when read) for the whole synthetic set; `genre`: with the
    subject of each composition as a ``genre`` label."""
    out = []
    for i, style in enumerate(make_styles(artists, seed)):
        years = np.random.default_rng([seed, i, 1]).integers(
            style.first_year, style.last_year + 1, per_artist
        )
        for k in range(per_artist):
            rng = np.random.default_rng([seed, i, 2, k])
            out.append(
                Candidate(
                    source=f"synth:seed{seed}/artist{i:02d}/{k:04d}",
                    image_id=f"s{seed}-a{i:02d}-{k:04d}",
                    artist=style.name,
                    year=int(years[k]),
                    movement=style.movement,
                    read=lambda s=style, y=int(years[k]), r=rng: render(s, y, image_size, r),
                    labels={"genre": GENRES[style.composition]} if genre else {},
                )
            )
    return out


def check_args(artists: int, per_artist: int, image_size: int) -> None:
    """One-line errors for impossible synth settings."""
    if not 1 <= artists <= MAX_ARTISTS:
        raise DataError(f"synth: --artists must be between 1 and {MAX_ARTISTS}")
    if per_artist < 3:
        raise DataError("synth: --per-artist must be at least 3 (one image per split)")
    if not 16 <= image_size <= 2048:
        raise DataError("synth: --image-size must be between 16 and 2048")


def write_synthetic(
    folder: Path,
    artists: int = 10,
    per_artist: int = 60,
    image_size: int = 128,
    seed: int = 0,
    split: tuple[float, float, float] = (0.8, 0.1, 0.1),
    console=None,
    genre: bool = True,
) -> BuildResult:
    """Fill the empty `folder` with a synthetic dataset (`genre`: module docstring)."""
    check_args(artists, per_artist, image_size)
    # A generated set never grows and holds no copies: exact per-artist quotas (the small
    # test sets rely on them), and no near-duplicate grouping (its rare pHash collision
    # between two procedural paintings is not a copy).
    opts = BuildOptions(
        top_artists=0,
        min_per_artist=1,
        max_side=None,
        split=split,
        seed=seed,
        near_duplicate_bits=None,
        exact_split=True,
    )
    cands = candidates(artists, per_artist, image_size, seed, genre)
    return write_dataset(Path(folder), cands, [], opts, console, label="synth")


def synthesize(out: Path, overwrite: bool = False, console=None, write=None, **kwargs) -> BuildResult:
    """Build a synthetic dataset folder `out` atomically with `write(folder, console=, **kwargs)`
    (default `write_synthetic`; `data_tools.synth_hard.write_hard` for the study set)."""
    check_args(
        kwargs.get("artists", 10), kwargs.get("per_artist", 60), kwargs.get("image_size", 128)
    )
    start = time.perf_counter()
    with staged(Path(out), overwrite) as tmp:
        result = (write or write_synthetic)(tmp, console=console, **kwargs)
    result.seconds = time.perf_counter() - start
    return result


def ensure_default_dataset(root: str | os.PathLike = DEFAULT_ROOT, console=None) -> Path:
    """The embedded synthetic dataset at `root` (relative to the cwd); built on first use.

    Uses ``DEFAULT_SYNTH`` (10 artists x 60 images, 128 px, seed 0, with genre). It is
    built in a temp folder and renamed into place; if another process finishes first, its
    copy is used. An existing complete folder is reused as is, unless it is an older
    synthetic set whose manifest lacks a default column (genre, before it became the
    default): that one is rebuilt in place.
    """
    root = Path(root)
    stale = (root / MANIFEST).is_file() and not _has_default_columns(root)
    if (root / MANIFEST).is_file() and not stale:
        return root
    if not stale:
        outdir.check_out(root, overwrite=False)
    tmp = outdir.new_partial(root)
    try:
        write_synthetic(tmp, **DEFAULT_SYNTH, console=console)
        # replace only what is still stale (another process may have rebuilt it meanwhile)
        outdir.publish(tmp, root, replace=(root / MANIFEST).is_file() and not _has_default_columns(root))
    finally:
        outdir.remove_tree(tmp)
    return root


def _has_default_columns(root: Path) -> bool:
    """Whether root/manifest.csv's header has the columns `DEFAULT_SYNTH` writes."""
    with open(root / MANIFEST, encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    return set(header) >= {*COLUMNS, *(("genre",) if DEFAULT_SYNTH["genre"] else ())}
