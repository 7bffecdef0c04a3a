"""Files: local values given for URL inputs, and the file objects that outputs carry.

An input that takes a file URL also accepts a ``pathlib.Path``, ``bytes`` or a binary file
object; the client sends small ones inline as ``data:`` URIs and uploads larger ones to fal
storage (see ``_storage``). Output ``File``/``Image`` models derive from :class:`FileModel`.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import mimetypes
import os
import pathlib
import re
import tempfile
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, TypeAlias

from . import _errors
from ._outputs import FalModel

if TYPE_CHECKING:
    from ._client import AsyncClient, SyncClient

FileInput: TypeAlias = pathlib.PurePath | bytes | bytearray | memoryview | IO[bytes]
"""A local file: a path, its content, or a binary file object (read from its position)."""

DEFAULT_CONTENT_TYPE = "application/octet-stream"
# Leading bytes of common media, for content given without a file name.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"ID3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
)


def is_file_input(value: object) -> bool:
    """Whether ``value`` is a local file rather than a URL (``str`` always means a URL)."""
    if isinstance(value, str):
        return False
    return isinstance(value, pathlib.PurePath | bytes | bytearray | memoryview) or callable(
        getattr(value, "read", None)
    )


@dataclass(frozen=True)
class LocalFile:
    """A local file ready to send: its content (or path, for large files read in parts)."""

    size: int
    content_type: str
    file_name: str
    data: bytes | None = None
    path: pathlib.Path | None = None

    @classmethod
    def of(cls, value: FileInput) -> LocalFile:
        if isinstance(value, pathlib.PurePath):
            path = pathlib.Path(value)
            try:
                size = path.stat().st_size
            except OSError as problem:
                raise _errors.FalError(f"cannot read {path}: {problem.strerror}") from None
            return cls(size, guess_content_type(path.name), path.name, path=path)
        if isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
        else:
            data = value.read()
            if not isinstance(data, bytes):
                raise TypeError("file objects must be opened in binary mode ('rb')")
        name = getattr(value, "name", None)
        file_name = os.path.basename(name) if isinstance(name, str) and name else ""
        content_type = guess_content_type(file_name, data)
        return cls(len(data), content_type, file_name or default_file_name(content_type), data)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    def chunks(self, size: int) -> Iterator[bytes]:
        """The content in parts of ``size`` bytes, without holding a large file in memory."""
        if self.data is not None:
            for start in range(0, len(self.data), size):
                yield self.data[start : start + size]
            return
        assert self.path is not None
        with self.path.open("rb") as file:
            while chunk := file.read(size):
                yield chunk


def guess_content_type(file_name: str, data: bytes = b"") -> str:
    guessed, _ = mimetypes.guess_type(file_name) if file_name else (None, None)
    if guessed:
        return guessed
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] in (b"WEBP", b"WAVE"):
        return "image/webp" if data[8:12] == b"WEBP" else "audio/wav"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return DEFAULT_CONTENT_TYPE


def default_file_name(content_type: str) -> str:
    return "file" + (mimetypes.guess_extension(content_type) or ".bin")


def data_uri(data: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def decode_data_uri(uri: str) -> bytes:
    """The content of a ``data:`` URI (base64 or percent-encoded)."""
    header, sep, payload = uri.partition(",")
    if not sep or not header.startswith("data:"):
        raise _errors.FalError("malformed data: URI")
    if header.endswith(";base64"):
        try:
            return base64.b64decode(payload, validate=False)
        except ValueError as problem:
            raise _errors.FalError(f"malformed base64 in data: URI: {problem}") from None
    return urllib.parse.unquote_to_bytes(payload)


def file_slots(data: Mapping[str, Any], fields: tuple[str, ...]) -> list[tuple[str, int | None]]:
    """Where local files sit in an input: (field, None) or (field, index in its list)."""
    slots: list[tuple[str, int | None]] = []
    for name in fields:
        value = data.get(name)
        if is_file_input(value):
            slots.append((name, None))
        elif isinstance(value, list | tuple):
            slots.extend((name, index) for index, item in enumerate(value) if is_file_input(item))
    return slots


def slot_value(data: Mapping[str, Any], slot: tuple[str, int | None]) -> FileInput:
    name, index = slot
    value: FileInput = data[name] if index is None else data[name][index]
    return value


def with_urls(
    data: Mapping[str, Any], slots: list[tuple[str, int | None]], urls: list[str]
) -> dict[str, Any]:
    """A copy of the input with each local file replaced by its URL."""
    result = dict(data)
    for (name, index), url in zip(slots, urls, strict=True):
        if index is None:
            result[name] = url
        else:
            items = list(result[name])
            items[index] = url
            result[name] = items
    return result


# Saved files get their extension from this table only: a name taken from a reply could end in
# ``.pth`` (run at Python's start) or ``.desktop``. Unknown types are saved as ``.bin``.
EXTENSIONS: Mapping[str, str] = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
    "image/avif": ".avif",
    "image/heic": ".heic",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "video/x-matroska": ".mkv",
    "video/x-msvideo": ".avi",
    "video/mpeg": ".mpeg",
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/wav": ".wav",
    "audio/wave": ".wav",
    "audio/x-wav": ".wav",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
    "audio/aac": ".aac",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/webm": ".weba",
    "model/gltf-binary": ".glb",
    "model/gltf+json": ".gltf",
    "model/obj": ".obj",
    "model/stl": ".stl",
    "model/vnd.usdz+zip": ".usdz",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "application/gzip": ".gz",
    "application/x-tar": ".tar",
    "application/x-7z-compressed": ".7z",
    "application/pdf": ".pdf",
    "application/json": ".json",
    "text/plain": ".txt",
    "text/csv": ".csv",
    "text/markdown": ".md",
    "application/octet-stream": ".bin",
}
# Types too vague to name a format (``model.obj`` often comes as text/plain): then a suffix of the
# file's name or URL is kept when it is a known data format.
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "text/plain"})
DATA_SUFFIXES = frozenset({*EXTENSIONS.values(), ".jpeg", ".safetensors", ".fbx", ".ply"})
MAX_STEM = 100  # characters of a file name taken from a reply
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"{d}{n}" for d in ("COM", "LPT") for n in "123456789")}
)


def safe_stem(text: str) -> str:
    """``text`` as part of a file name: letters, digits, ``_`` and ``-`` only (no dots, no
    separators), never empty nor a name Windows reserves."""
    stem = _UNSAFE.sub("_", text).strip("_-")[:MAX_STEM] or "file"
    return f"file-{stem}" if stem.upper() in _RESERVED else stem


def media_type(content_type: str | None, url: str = "") -> str:
    """The bare media type of a file (``image/png``), also from a ``data:`` URL."""
    if not content_type and url.startswith("data:"):
        content_type = url[5:].partition(",")[0]
    return (content_type or "").partition(";")[0].strip().lower()


def file_extension(content_type: str | None, *names: str | None) -> str:
    """The extension a file is saved with: from its content type, or from a name's suffix when
    the type is missing or generic, but always one of the known data formats."""
    kind = media_type(content_type)
    if kind not in GENERIC_TYPES and kind in EXTENSIONS:
        return EXTENSIONS[kind]
    for name in names:
        suffix = pathlib.PurePosixPath(name or "").suffix.lower()
        if suffix in DATA_SUFFIXES:
            return suffix
    return EXTENSIONS.get(kind, ".bin")


def file_in(directory: pathlib.Path, name: str) -> pathlib.Path:
    """``directory / name``, refused unless it stays directly inside ``directory``."""
    folder = directory.resolve()
    path = folder / name
    if name in ("", ".", "..") or path.parent != folder:
        raise _errors.FalError(f"refusing to write {name!r} outside {folder}")
    return path


@contextlib.contextmanager
def writing(path: pathlib.Path, *, overwrite: bool) -> Iterator[IO[bytes]]:
    """A file to write ``path``'s content to: a temporary file beside it, moved into place when
    the block succeeds, so that a failed download leaves nothing behind. An existing file (or
    link) is replaced only when ``overwrite``; a link is replaced, never followed."""
    if not overwrite and (path.exists() or path.is_symlink()):
        raise FileExistsError(errno.EEXIST, "file exists (pass overwrite to replace it)", str(path))
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
        if overwrite:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if the name was taken meanwhile
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def save_target(
    target: str | os.PathLike[str], file: FileModel, overwrite: bool | None
) -> tuple[pathlib.Path, bool]:
    """Where ``save`` writes, and whether it may replace a file there: the path given (replaced
    unless ``overwrite`` is False), or inside it when it is a folder, under a name made from the
    reply's (safe characters only, a known extension; replaced only when ``overwrite``)."""
    path = pathlib.Path(target)
    if not path.is_dir():
        return path, overwrite is not False
    url = file._file_url()
    name = file._file_name() or ""
    if not name and not url.startswith("data:"):
        name = urllib.parse.unquote(os.path.basename(urllib.parse.urlsplit(url).path))
    name = name.replace("\\", "/").rpartition("/")[2]
    stem = safe_stem(name.rpartition(".")[0] or name)
    extension = file._extension()
    return file_in(path, stem + extension), bool(overwrite)


class FileModel(FalModel):
    """Base of output file objects (``File``, ``Image``, ...): download or save the content.

    ``data:`` URLs (``sync_mode``) are decoded locally; other URLs are fetched without the API
    key, through ``client``'s connection pool when given, at most ``max_bytes`` (default: the
    client's ``max_download_bytes``). ``save`` streams to disk in chunks.
    """

    def _file_url(self) -> str:
        return str(getattr(self, "url"))  # noqa: B009 (declared by subclasses)

    def _file_name(self) -> str | None:
        name = getattr(self, "file_name", None)
        return name if isinstance(name, str) else None

    def _content_type(self) -> str:
        content_type = getattr(self, "content_type", None)
        return media_type(content_type if isinstance(content_type, str) else None, self._file_url())

    def _extension(self) -> str:
        """The extension the content is saved with (see :func:`file_extension`)."""
        url = self._file_url()
        path = "" if url.startswith("data:") else urllib.parse.urlsplit(url).path
        return file_extension(self._content_type(), self._file_name(), path)

    def _saved_inline(self, target: pathlib.Path, replace: bool) -> bool:
        """Write the content of a ``data:`` URL (no request needed); False for other URLs."""
        url = self._file_url()
        if not url.startswith("data:"):
            return False
        with writing(target, overwrite=replace) as file:
            file.write(decode_data_uri(url))
        return True

    def download(self, client: SyncClient | None = None, *, max_bytes: int | None = None) -> bytes:
        """The file's content."""
        url = self._file_url()
        if url.startswith("data:"):
            return decode_data_uri(url)
        from ._client import SyncClient

        if client is not None:
            return client._download(url, max_bytes)
        with SyncClient() as temporary:
            return temporary._download(url, max_bytes)

    async def adownload(
        self, client: AsyncClient | None = None, *, max_bytes: int | None = None
    ) -> bytes:
        """The file's content (async)."""
        url = self._file_url()
        if url.startswith("data:"):
            return decode_data_uri(url)
        from ._client import AsyncClient

        if client is not None:
            return await client._download(url, max_bytes)
        async with AsyncClient() as temporary:
            return await temporary._download(url, max_bytes)

    def save(
        self,
        path: str | os.PathLike[str],
        client: SyncClient | None = None,
        *,
        overwrite: bool | None = None,
        max_bytes: int | None = None,
    ) -> pathlib.Path:
        """Write the content to ``path``, or into it when it is a folder, under a name made from
        the file's (safe characters, an extension of a known format); return the path.

        ``overwrite``: None replaces a file at a path you named but never one whose name came
        from the reply; True replaces both, False neither (FileExistsError).
        """
        target, replace = save_target(path, self, overwrite)
        url = self._file_url()
        if self._saved_inline(target, replace):
            return target
        from ._client import SyncClient

        with contextlib.ExitStack() as stack:
            if client is None:
                client = stack.enter_context(SyncClient())
            with (
                client._open_download(url, max_bytes) as chunks,
                writing(target, overwrite=replace) as file,
            ):
                for chunk in chunks:
                    file.write(chunk)
        return target

    async def asave(
        self,
        path: str | os.PathLike[str],
        client: AsyncClient | None = None,
        *,
        overwrite: bool | None = None,
        max_bytes: int | None = None,
    ) -> pathlib.Path:
        """The async twin of :meth:`save`."""
        target, replace = save_target(path, self, overwrite)
        url = self._file_url()
        if self._saved_inline(target, replace):
            return target
        from ._client import AsyncClient

        async with contextlib.AsyncExitStack() as stack:
            if client is None:
                client = await stack.enter_async_context(AsyncClient())
            async with client._open_download(url, max_bytes) as chunks:
                with writing(target, overwrite=replace) as file:
                    async for chunk in chunks:
                        file.write(chunk)
        return target
