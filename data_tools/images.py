"""Turn raw image bytes into a clean RGB JPEG, or reject them with a fixed reason."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

JPEG_QUALITY = 95
MAX_SIDE = 512  # ingest's default --max-side; `preprocess.load_image` applies it too
EXIF_ORIENTATION = 0x0112
MAX_PIXELS = 89_478_485  # Pillow's own decompression-bomb threshold
MAX_FILE_BYTES = 256 * 1024 * 1024
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp")

# Every reason a file can be rejected for; rejected.csv uses only these.
REASONS = (
    "missing file",
    "empty file",
    "file too large",
    "not an image",
    "damaged image",
    "too many pixels",
    "unsafe archive path",
    "no image path",
    "not in label list",
    "no artist",
    "duplicate id",
    "duplicate content",
    "near duplicate",
    "too few images for artist",
    "artist not in top N",
)


class Rejected(Exception):
    """An input file is not kept; `reason` is one of REASONS."""

    def __init__(self, reason: str):
        assert reason in REASONS, reason
        super().__init__(reason)
        self.reason = reason


def is_image_name(name: str) -> bool:
    """Whether a file name has an image extension (these are the input files)."""
    return name.lower().endswith(IMAGE_EXTENSIONS)


def to_jpeg(
    data: bytes | Image.Image, max_side: int | None = None, max_pixels: int = MAX_PIXELS
) -> bytes:
    """Decode, check, convert to RGB, shrink to `max_side` and encode as JPEG.

    Raises Rejected for empty, non-image, truncated/damaged or oversized input.
    Pixel counts are checked from the header before anything is decoded. Bytes that
    are already a clean JPEG (`is_clean_jpeg`) within `max_side` are checked by a full
    decode and returned unchanged: no second lossy encoding, and the training pipeline
    then decodes exactly the bytes a user's file holds (`preprocess.load_image`).
    """
    image = data if isinstance(data, Image.Image) else _decode(data, max_side, max_pixels)
    if not isinstance(data, Image.Image) and is_clean_jpeg(data):
        if not max_side or max(image.size) <= max_side:
            return data
    image = _to_rgb(image)
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def is_clean_jpeg(data: bytes) -> bool:
    """Whether bytes are an RGB (YCbCr) JPEG with no EXIF rotation to apply (header only)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != "JPEG" or img.mode != "RGB":
                return False
            return img.getexif().get(EXIF_ORIENTATION, 1) == 1
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False


def _decode(data: bytes, max_side: int | None, max_pixels: int) -> Image.Image:
    """Open and fully decode bytes (header size check first)."""
    if not data:
        raise Rejected("empty file")
    assert not ImageFile.LOAD_TRUNCATED_IMAGES, "truncated images must be rejected"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise Rejected("too many pixels") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise Rejected("not an image") from None
        width, height = image.size
        if width * height > max_pixels:
            raise Rejected("too many pixels")
        if width < 1 or height < 1:
            raise Rejected("damaged image")
        if max_side and image.format == "JPEG" and max(width, height) >= 2 * max_side:
            image.draft("RGB", (max_side, max_side))  # decode at a reduced DCT scale
        try:
            image.load()
        except Image.DecompressionBombError:
            raise Rejected("too many pixels") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError):
            raise Rejected("damaged image") from None
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block is no reason to drop good pixels
        return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB copy of any mode; transparency is flattened onto white."""
    if image.mode == "RGB":
        return image
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode.startswith("I") or image.mode == "F":
        # 16/32-bit and float greyscale: scale the real value range to 8 bits.
        lo, hi = image.getextrema()
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        image = image.convert("F").point(lambda v: (v - lo) * scale).convert("L")
    return image.convert("RGB")
