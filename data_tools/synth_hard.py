"""The hard synthetic set (`synth --difficulty hard`): the artist is in the brushwork, not the palette.

The default set (`data_tools.synth`) gives every artist its own hue, so an 8x8x8 colour
histogram alone names the artist. Here every painting draws its own palette from one family
shared by all artists and movements (base hue uniform on the wheel, a ground and a paint
tone range), so colour carries no artist signal. What identifies an artist is how they paint,
as with painters of one school:

* movement (as in the default set): the brush primitive (stroke, dot, arc, block) and an era;
* artist, within the movement: stroke length (log-normal mean and spread), width, curvature
  (signed, of polyline strokes; the sweep of arcs), direction habit (main angle and how tightly
  it is held), density, canvas texture and its frequency, and composition (focus and spread of
  the marks, ground layout).

Every artwork gets a year inside its artist's active years; strokes lengthen and density
grows over a career. The same seed gives byte-identical output. Calibration (README, "make
compare"): colour histograms near chance, a ResNet50 at 64 px well above.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from data_tools import outdir
from data_tools.build import BuildOptions, BuildResult, Candidate, write_dataset
from data_tools.manifest import MANIFEST
from data_tools.synth import (
    COMPOSITIONS,
    GENRES,
    MOVEMENTS,
    TEXTURES,
    Style,
    _composition,
    _grid,
    _hsv,
    _texture,
    artist_names,
    check_args,
)

# The study set `python -m zoo compare` uses without --data (ensure_hard_dataset).
HARD_ROOT = "data/synthetic-hard"
HARD_SYNTH = {"artists": 10, "per_artist": 60, "image_size": 128, "seed": 0}


@dataclass(frozen=True)
class Hand:
    """How one artist paints (no colour: the palette is the painting's, not the artist's)."""

    name: str
    movement: str
    primitive: str
    first_year: int
    last_year: int
    angle: float  # main direction, radians
    angle_spread: float  # std of the direction around it, radians (large: no habit)
    length: float  # median mark length, fraction of the side
    length_sigma: float  # log-normal spread of the length
    width: float  # mark width, fraction of the side
    curvature: float  # heading change per stroke segment, radians (signed); arcs: sweep / 360
    density: int  # marks per image
    composition: str
    spread: float  # std of mark positions around the focus, fraction of the side
    texture: str
    grain: int  # texture cells per side / weave frequency
    focus: tuple[float, float]


def make_hands(n_artists: int, seed: int) -> list[Hand]:
    """Deterministic hands for n artists: inside a movement (artist rank j) the direction,
    length, width, curvature and texture settings are spread apart, not drawn at random."""
    names = artist_names(n_artists)
    n_moves = min(len(MOVEMENTS), n_artists)
    per_move = -(-n_artists // n_moves)
    rng = np.random.default_rng([seed, 104729])
    hands = []
    for i in range(n_artists):
        mv_name, primitive, era0, era1 = MOVEMENTS[i % n_moves]
        j = i // n_moves
        span = int(rng.integers(22, 38))
        first = era0 + int(rng.integers(0, max(1, era1 - era0 - span)))
        hands.append(Hand(
            name=names[i], movement=mv_name, primitive=primitive, first_year=first, last_year=first + span,
            angle=float(np.pi * (j / per_move + rng.uniform(-0.04, 0.04))),
            angle_spread=(0.12, 0.9, 0.35)[j % 3],
            length=float((0.07, 0.22, 0.14)[(i + j) % 3] * rng.uniform(0.9, 1.1)),
            length_sigma=(0.15, 0.45)[(i + j) % 2],
            width=(0.012, 0.035, 0.022)[(2 * i + j) % 3],
            curvature=float((0.0, 0.35, -0.3)[(i + 2 * j) % 3]),
            density=int(60 + 40 * ((i + 3 * j) % 3)),
            composition=COMPOSITIONS[(i + j) % len(COMPOSITIONS)],
            spread=(0.18, 0.45)[(i + j + 1) % 2],
            texture=TEXTURES[(i + 2 * j) % len(TEXTURES)],
            grain=int((5, 11, 22)[(i + j) % 3] + rng.integers(0, 3)),
            focus=(float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.3, 0.7))),
        ))
    return hands


def render(hand: Hand, year: int, size: int, rng: np.random.Generator) -> Image.Image:
    """One artwork of `hand` painted in `year`, size x size RGB, on this painting's own palette."""
    t = (year - hand.first_year) / max(1, hand.last_year - hand.first_year)
    hue = rng.random()  # the painting's palette: the same distribution for every artist
    ground = Style(hand.name, hand.movement, hand.primitive, hand.first_year, hand.last_year, hue, hand.angle,
                   hand.length, hand.width, hand.density, hand.composition, hand.texture, hand.grain, hand.focus)
    yy, xx = _grid(size)
    field = _composition(ground, xx, yy, rng)
    # Ranks: the layout (where the ground is light or dark) stays, the share of each tone is the
    # same for every composition (a horizon's two flat tones would otherwise name it in a histogram).
    field = (np.argsort(np.argsort(field, axis=None)).reshape(field.shape) / field.size).astype(np.float32)
    light = _hsv(hue + rng.normal(0, 0.05), rng.uniform(0.15, 0.45), rng.uniform(0.65, 0.95))
    dark = _hsv(hue + rng.normal(0, 0.05), rng.uniform(0.35, 0.75), rng.uniform(0.15, 0.45))
    canvas = light + (dark - light) * field[..., None]
    texture = _texture(ground, xx, yy, size, rng)  # its frequency is the hand's, its strength the painting's
    canvas += (texture / (texture.std() + 1e-6) * rng.uniform(3, 10))[..., None]
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    _paint(ImageDraw.Draw(image), hand, (light, dark), t, size, rng)
    return image


def _paint(draw: ImageDraw.ImageDraw, hand: Hand, palette, t: float, size: int, rng) -> None:
    """The marks: the hand's primitive, direction, length, width and curvature; each mark's
    colour a random mix of the painting's light and dark ground colours (`palette`), so how
    much of the canvas the marks cover does not change the colour histogram much."""
    n = int(hand.density * (1 + 0.3 * t))
    fx, fy = hand.focus
    x = np.clip(rng.normal(fx, hand.spread, n), -0.05, 1.05) * size
    y = np.clip(rng.normal(fy, hand.spread, n), -0.05, 1.05) * size
    ang = hand.angle + rng.normal(0, hand.angle_spread, n)
    length = hand.length * (1 + 0.5 * t) * rng.lognormal(0, hand.length_sigma, n) * size
    width = max(1, round(hand.width * size))
    tone = rng.random(n)
    light, dark = palette
    mix = rng.random(n)[:, None]
    colors = np.clip(light + (dark - light) * mix + rng.normal(0, 6, (n, 3)), 0, 255).astype(int).tolist()
    for k in range(n):
        color = tuple(colors[k])
        if hand.primitive == "stroke":
            draw.line(_polyline(x[k], y[k], ang[k], length[k], hand.curvature), fill=color, width=width,
                      joint="curve")
        elif hand.primitive == "dot":
            r = max(1.0, width * (0.6 + tone[k]))
            dx, dy = np.cos(ang[k]) * r * 0.6, np.sin(ang[k]) * r * 0.6  # elongated along the habit
            draw.ellipse([x[k] - r - abs(dx), y[k] - r - abs(dy), x[k] + r + abs(dx), y[k] + r + abs(dy)],
                         fill=color)
        elif hand.primitive == "arc":
            r = length[k] / 2
            start = float(np.degrees(ang[k]))
            sweep = 150 + 300 * hand.curvature  # 60..255 degrees
            draw.arc([x[k] - r, y[k] - r, x[k] + r, y[k] + r], start, start + sweep, fill=color, width=width)
        else:  # block: slabs snapped to the hand's grid, long along the habit
            cell = size / hand.grain
            x0, y0 = (x[k] // cell) * cell, (y[k] // cell) * cell
            dx, dy = abs(np.cos(ang[k])) * length[k], abs(np.sin(ang[k])) * length[k]
            draw.rectangle([x0, y0, x0 + max(cell, dx) - 1, y0 + max(cell, dy) - 1], fill=color)


def _polyline(x: float, y: float, angle: float, length: float, curvature: float, segments: int = 4):
    """Points of a stroke centred near (x, y): `segments` pieces turning by `curvature` each."""
    step = length / segments
    heading = angle - curvature * segments / 2
    px, py = x - np.cos(angle) * length / 2, y - np.sin(angle) * length / 2
    points = [(px, py)]
    for _ in range(segments):
        px, py = px + np.cos(heading) * step, py + np.sin(heading) * step
        points.append((px, py))
        heading += curvature
    return points


def candidates(artists: int, per_artist: int, image_size: int, seed: int, genre: bool = True) -> list[Candidate]:
    """Lazy candidates (rendered when read) for the whole hard set; `genre`: the subject of the
    artist's composition as a ``genre`` label (`data_tools.synth.GENRES`)."""
    out = []
    for i, hand in enumerate(make_hands(artists, seed)):
        years = np.random.default_rng([seed, i, 11]).integers(hand.first_year, hand.last_year + 1, per_artist)
        for k in range(per_artist):
            rng = np.random.default_rng([seed, i, 12, k])
            out.append(Candidate(
                source=f"synth-hard:seed{seed}/artist{i:02d}/{k:04d}", image_id=f"h{seed}-a{i:02d}-{k:04d}",
                artist=hand.name, year=int(years[k]), movement=hand.movement,
                labels={"genre": GENRES[hand.composition]} if genre else {},
                read=lambda h=hand, y=int(years[k]), r=rng: render(h, y, image_size, r),
            ))
    return out


def write_hard(folder: Path, artists: int = 10, per_artist: int = 60, image_size: int = 128, seed: int = 0,
               split: tuple[float, float, float] = (0.8, 0.1, 0.1), genre: bool = True,
               console=None) -> BuildResult:
    """Fill the empty `folder` with the hard set (exact per-artist quotas, as the default set)."""
    check_args(artists, per_artist, image_size)
    opts = BuildOptions(top_artists=0, min_per_artist=1, max_side=None, split=split, seed=seed,
                        near_duplicate_bits=None, exact_split=True)
    return write_dataset(Path(folder), candidates(artists, per_artist, image_size, seed, genre), [], opts, console,
                         label="synth hard")


def ensure_hard_dataset(root: str | os.PathLike = HARD_ROOT, console=None) -> Path:
    """The study set at `root` (relative to the cwd), built on first use with `HARD_SYNTH`
    (as `data_tools.synth.ensure_default_dataset`: a temp folder renamed into place)."""
    root = Path(root)
    if (root / MANIFEST).is_file():
        return root
    outdir.check_out(root, overwrite=False)
    tmp = outdir.new_partial(root)
    try:
        write_hard(tmp, **HARD_SYNTH, console=console)
        outdir.publish(tmp, root, replace=False)
    finally:
        outdir.remove_tree(tmp)
    return root
