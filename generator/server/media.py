"""Small, genuine files of every kind fal's outputs carry, and the rule that picks the kind.

fal's file objects (``File``, ``Image``, ``VideoFile``...) all look alike: a ``url`` and a
``content_type`` whose published example is ``image/png`` whatever the file. What the file is
shows in the document around it: the URL of the property's example (``.../output.mp4``), the
words of the property's and the schema's names (``video``, ``audio_file``, ``model_glb``), the
endpoint's category (``text-to-speech``), or image dimensions. The server answers with a real
file of that kind, which a client can download, save under the right extension and open:

- image: PNG (images.py; JPEG and WebP examples are served as PNG too);
- audio: WAV (a quarter second of silence); video: MP4 (an ISO base media file with no tracks);
- 3D: GLB (binary glTF 2.0 with an empty scene); archive: ZIP (one text file);
- JSON, text, and raw bytes for anything else (weights, embeddings).
"""

from __future__ import annotations

import functools
import io
import json
import re
import struct
import wave
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from .images import solid_png


class Kind(Enum):
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    MODEL = "model"
    ARCHIVE = "archive"
    JSON = "json"
    TEXT = "text"
    BINARY = "binary"


@dataclass(frozen=True)
class Media:
    content_type: str
    extension: str


MEDIA = {
    Kind.IMAGE: Media("image/png", ".png"),
    Kind.AUDIO: Media("audio/wav", ".wav"),
    Kind.VIDEO: Media("video/mp4", ".mp4"),
    Kind.MODEL: Media("model/gltf-binary", ".glb"),
    Kind.ARCHIVE: Media("application/zip", ".zip"),
    Kind.JSON: Media("application/json", ".json"),
    Kind.TEXT: Media("text/plain", ".txt"),
    Kind.BINARY: Media("application/octet-stream", ".bin"),
}

_EXTENSIONS: dict[str, Kind] = {
    **dict.fromkeys(("png", "jpg", "jpeg", "webp", "gif", "bmp", "tiff"), Kind.IMAGE),
    **dict.fromkeys(("wav", "mp3", "flac", "ogg", "m4a", "aac", "opus"), Kind.AUDIO),
    **dict.fromkeys(("mp4", "webm", "mov", "mkv", "avi", "gifv"), Kind.VIDEO),
    **dict.fromkeys(("glb", "gltf", "fbx", "obj", "ply", "stl", "usdz"), Kind.MODEL),
    **dict.fromkeys(("zip", "tar", "gz", "tgz"), Kind.ARCHIVE),
    "json": Kind.JSON,
    **dict.fromkeys(("txt", "srt", "vtt"), Kind.TEXT),
    **dict.fromkeys(("safetensors", "bin", "pt", "ckpt", "npy", "npz"), Kind.BINARY),
}
# Words of property and schema names that say what a file is.
_WORDS: dict[str, Kind] = {
    **dict.fromkeys(
        ("image", "images", "img", "thumbnail", "mask", "masks", "frame", "frames", "picture"),
        Kind.IMAGE,
    ),
    **dict.fromkeys(("photo", "depth", "spritesheet", "normal", "texture"), Kind.IMAGE),
    **dict.fromkeys(("audio", "speech", "voice", "music", "sound", "song"), Kind.AUDIO),
    **dict.fromkeys(("video", "videos", "clip", "animation"), Kind.VIDEO),
    **dict.fromkeys(("glb", "gltf", "mesh", "fbx", "obj", "ply", "3d", "scene"), Kind.MODEL),
    **dict.fromkeys(("zip", "archive", "dir"), Kind.ARCHIVE),
    **dict.fromkeys(("json", "config"), Kind.JSON),
    **dict.fromkeys(("captions", "caption", "transcript", "subtitles", "text"), Kind.TEXT),
    **dict.fromkeys(("lora", "weights", "safetensors", "checkpoint", "embedding"), Kind.BINARY),
}
# fal's categories, by the kind their main output is (the last word: "image-to-video").
_CATEGORY_WORDS: dict[str, Kind] = {
    "image": Kind.IMAGE,
    "video": Kind.VIDEO,
    "audio": Kind.AUDIO,
    "speech": Kind.AUDIO,
    "3d": Kind.MODEL,
    "json": Kind.JSON,
    "text": Kind.TEXT,
    "training": Kind.BINARY,
}
_URL_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,12})(?:[?#]|$)")
_WORD = re.compile(r"[A-Za-z0-9]+")


def kind_of(
    example_urls: Iterable[str],
    names: Iterable[str],
    category: str,
    has_size: bool,
) -> Kind:
    """What a file-like output is: by the extension of its examples' URLs, else by the words of
    ``names`` (the property's, then its schema's, then those around them: the last word naming
    a kind counts), else by image dimensions in its schema, else by the endpoint's category
    (image when nothing tells)."""
    for url in example_urls:
        match = _URL_EXTENSION.search(url)
        if match and (kind := _EXTENSIONS.get(match[1].lower())):
            return kind
    for name in names:
        # The last word that names a kind: the head of the compound ("frames_zip" is an
        # archive, "video_thumbnail" an image).
        words = [word.lower() for word in _WORD.findall(_split_camel(name))]
        if kind := next((_WORDS[word] for word in reversed(words) if word in _WORDS), None):
            return kind
    if has_size:
        return Kind.IMAGE
    last = category.rsplit("-", 1)[-1].lower()
    return _CATEGORY_WORDS.get(last, Kind.IMAGE)


def file_bytes(kind: Kind, width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A small real file of ``kind`` (an image of ``width`` x ``height`` in ``rgb``)."""
    if kind is Kind.IMAGE:
        return solid_png(width, height, rgb)
    return _MAKERS[kind]()


def _split_camel(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)


@functools.cache
def _wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(16000)
        audio.writeframes(bytes(2 * 4000))
    return buffer.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


@functools.cache
def _mp4() -> bytes:
    brands = b"isom" + struct.pack(">I", 512) + b"isom" + b"iso2" + b"mp41"
    return _box(b"ftyp", brands) + _box(b"free", b"") + _box(b"mdat", b"")


@functools.cache
def _glb() -> bytes:
    scene = {"asset": {"version": "2.0", "generator": "falgen"}, "scene": 0, "scenes": [{}]}
    content = json.dumps(scene, separators=(",", ":")).encode()
    content += b" " * (-len(content) % 4)  # chunks are 4-byte aligned, JSON padded with spaces
    chunk = struct.pack("<I", len(content)) + b"JSON" + content
    return b"glTF" + struct.pack("<II", 2, 12 + len(chunk)) + chunk


@functools.cache
def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entry = zipfile.ZipInfo("README.txt", date_time=(2024, 1, 1, 0, 0, 0))
        archive.writestr(entry, "A synthetic output of the falgen local server.\n")
    return buffer.getvalue()


_MAKERS: dict[Kind, Callable[[], bytes]] = {
    Kind.AUDIO: _wav,
    Kind.VIDEO: _mp4,
    Kind.MODEL: _glb,
    Kind.ARCHIVE: _zip,
    Kind.JSON: lambda: b'{"synthetic": true}\n',
    Kind.TEXT: lambda: b"A synthetic output of the falgen local server.\n",
    Kind.BINARY: lambda: b"falgen synthetic output\n" + bytes(40),
}
