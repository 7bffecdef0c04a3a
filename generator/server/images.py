"""Real PNG files of the size a request asks for, without an imaging library.

Clients under test download and decode the images the server returns, so they must be genuine PNGs
of the right dimensions; a solid colour keeps them cheap: every row is identical, so even a
14142x14142 image compresses in a stream without holding the raw pixels.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache
from typing import Any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFAULT_SIZE = (1024, 1024)
MAX_SIDE = 16384  # fal's ImageSize allows up to 14142 per side

# fal's named image sizes (ImageSize presets); "auto*" let the model choose: we choose square.
IMAGE_SIZE_PRESETS: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
    "auto": (1024, 1024),
    "auto_2K": (2048, 2048),
    "auto_4K": (4096, 4096),
}
_ROWS_PER_CHUNK = 64


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


@lru_cache(maxsize=64)
def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """An 8-bit RGB PNG of one colour. Cached: outputs of equal size and colour share bytes."""
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ValueError(f"image size {width}x{height} is outside 1..{MAX_SIDE}")
    row = b"\x00" + bytes(rgb) * width  # filter type 0 (None), then the pixels
    compressor = zlib.compressobj(6)
    parts: list[bytes] = []
    full, rest = divmod(height, _ROWS_PER_CHUNK)
    block = row * _ROWS_PER_CHUNK
    for _ in range(full):
        parts.append(compressor.compress(block))
    parts.append(compressor.compress(row * rest))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def requested_size(model_input: dict[str, Any]) -> tuple[int, int]:
    """The output size an input asks for: ``image_size`` (preset or ``{width, height}``), else an
    ``aspect_ratio`` like ``16:9`` with the long side 1024, else 1024x1024."""
    image_size = model_input.get("image_size")
    if isinstance(image_size, str) and image_size in IMAGE_SIZE_PRESETS:
        return IMAGE_SIZE_PRESETS[image_size]
    if isinstance(image_size, dict):
        width, height = image_size.get("width"), image_size.get("height")
        if isinstance(width, int) and isinstance(height, int):
            return _clamp(width), _clamp(height)
    ratio = model_input.get("aspect_ratio")
    if isinstance(ratio, str) and ratio.count(":") == 1:
        left, right = ratio.split(":")
        if left.isdigit() and right.isdigit() and int(left) > 0 and int(right) > 0:
            across, down = int(left), int(right)
            if across >= down:
                return 1024, _clamp(round(1024 * down / across))
            return _clamp(round(1024 * across / down)), 1024
    return DEFAULT_SIZE


def _clamp(side: int) -> int:
    return max(1, min(MAX_SIDE, side))
