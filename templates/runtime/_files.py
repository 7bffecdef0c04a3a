"""Files: local values given for URL inputs, and the file objects that outputs carry.

An input that takes a file URL also accepts a ``pathlib.Path``, ``bytes`` or a binary file
object; the client sends small ones inline as ``data:`` URIs and uploads larger ones to fal
storage (see ``_storage``). Output ``File``/``Image`` models derive from :class:`FileModel`.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import pathlib
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, TypeAlias

import pydantic

from . import _errors

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


def save_path(target: str | os.PathLike[str], url: str, file_name: str | None) -> pathlib.Path:
    """Where ``save`` writes: the path given, or a file inside it when it is a directory."""
    path = pathlib.Path(target)
    if not path.is_dir():
        return path
    name = file_name or ""
    if not name and not url.startswith("data:"):
        name = os.path.basename(urllib.parse.urlsplit(url).path)
    name = os.path.basename(name.replace("\\", "/"))
    return path / (name if name not in ("", ".", "..") else "file.bin")


class FileModel(pydantic.BaseModel):
    """Base of output file objects (``File``, ``Image``, ...): download or save the content.

    ``data:`` URLs (``sync_mode``) are decoded locally; other URLs are fetched without the API
    key, through ``client``'s connection pool when given.
    """

    def _file_url(self) -> str:
        return str(getattr(self, "url"))  # noqa: B009 (declared by subclasses)

    def _file_name(self) -> str | None:
        name = getattr(self, "file_name", None)
        return name if isinstance(name, str) else None

    def download(self, client: SyncClient | None = None) -> bytes:
        """The file's content."""
        url = self._file_url()
        if url.startswith("data:"):
            return decode_data_uri(url)
        from ._client import SyncClient

        if client is not None:
            return client._download(url)
        with SyncClient() as temporary:
            return temporary._download(url)

    async def adownload(self, client: AsyncClient | None = None) -> bytes:
        """The file's content (async)."""
        url = self._file_url()
        if url.startswith("data:"):
            return decode_data_uri(url)
        from ._client import AsyncClient

        if client is not None:
            return await client._download(url)
        async with AsyncClient() as temporary:
            return await temporary._download(url)

    def save(self, path: str | os.PathLike[str], client: SyncClient | None = None) -> pathlib.Path:
        """Write the content to ``path`` (or into it, when it is a directory); return the path."""
        target = save_path(path, self._file_url(), self._file_name())
        target.write_bytes(self.download(client))
        return target

    async def asave(
        self, path: str | os.PathLike[str], client: AsyncClient | None = None
    ) -> pathlib.Path:
        """Write the content to ``path`` (or into it, when it is a directory); return the path."""
        target = save_path(path, self._file_url(), self._file_name())
        target.write_bytes(await self.adownload(client))
        return target
