"""The local stand-in for fal's CDN: uploaded and generated files, kept in memory.

Both client uploads (single and multipart, as the official client performs them) and the images
the simulated models produce land here, so every URL the server hands out can really be fetched.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import quote

DEFAULT_FILE_NAME = "upload.bin"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class StoredFile:
    data: bytes
    content_type: str
    file_name: str


@dataclass
class MultipartUpload:
    """An upload in progress: parts arrive in any order and are joined by part number."""

    upload_id: str
    file_id: str
    file_name: str
    content_type: str
    parts: dict[int, bytes] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(len(part) for part in self.parts.values())


@dataclass(frozen=True)
class UploadTarget:
    """A multipart upload as its URLs name it: ``<access url>/multipart/<upload id>/...``."""

    file_id: str
    file_name: str
    upload_id: str


class UploadError(Exception):
    """A multipart upload cannot proceed; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class FileStore:
    """Files by id. Thread-safe: generated outputs are stored from worker threads."""

    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}
        self._uploads: dict[str, MultipartUpload] = {}
        self._reserved: dict[str, tuple[str, str]] = {}  # file id -> (name, content type)
        self._lock = threading.Lock()

    @staticmethod
    def path_of(file_id: str, file_name: str) -> str:
        """The URL path of a file below the CDN prefix."""
        return f"/files/{file_id}/{quote(file_name, safe='')}"

    def put(self, data: bytes, content_type: str, file_name: str | None) -> tuple[str, str]:
        """Store a file; return its id and the (sanitised) name it is served under."""
        name = safe_file_name(file_name)
        file_id = secrets.token_hex(16)
        with self._lock:
            self._files[file_id] = StoredFile(data, content_type, name)
        return file_id, name

    def put_with_id(self, file_id: str, stored: StoredFile) -> None:
        with self._lock:
            self._files[file_id] = stored

    def reserve(self, content_type: str, file_name: str | None) -> tuple[str, str]:
        """A place for a file that a presigned upload will fill (``PUT`` to its URL): its id and
        (sanitised) name. Until then the file does not exist."""
        file_id = secrets.token_hex(16)
        name = safe_file_name(file_name)
        with self._lock:
            self._reserved[file_id] = (name, content_type)
        return file_id, name

    def fill(self, file_id: str, file_name: str, data: bytes, content_type: str | None) -> bool:
        """Store the uploaded bytes of a reserved file; False when no such place was reserved."""
        with self._lock:
            reserved = self._reserved.get(file_id)
            if reserved is None or reserved[0] != file_name:
                return False
            del self._reserved[file_id]
            self._files[file_id] = StoredFile(data, content_type or reserved[1], file_name)
        return True

    def get(self, file_id: str, file_name: str) -> StoredFile | None:
        with self._lock:
            stored = self._files.get(file_id)
        return stored if stored is not None and stored.file_name == file_name else None

    def start_multipart(self, content_type: str, file_name: str | None) -> MultipartUpload:
        upload = MultipartUpload(
            upload_id=secrets.token_hex(16),
            file_id=secrets.token_hex(16),
            file_name=safe_file_name(file_name),
            content_type=content_type,
        )
        with self._lock:
            self._uploads[upload.upload_id] = upload
        return upload

    def add_part(self, target: UploadTarget, number: int, data: bytes, max_bytes: int) -> None:
        with self._lock:
            upload = self._upload(target)
            previous = len(upload.parts.get(number, b""))
            if upload.size - previous + len(data) > max_bytes:
                raise UploadError(413, f"upload exceeds {max_bytes} bytes")
            upload.parts[number] = data

    def complete_multipart(self, target: UploadTarget, parts: list[tuple[int, str]]) -> None:
        """Join the listed parts, by part number, into the final file. Every listed part must
        have been uploaded with the listed ETag, as S3-style multipart uploads demand."""
        with self._lock:
            upload = self._upload(target)
            if not parts:
                raise UploadError(400, "no parts listed")
            for number, etag in parts:
                if number not in upload.parts:
                    raise UploadError(400, f"part {number} was not uploaded")
                if etag.strip('"') != part_etag(upload.parts[number]):
                    raise UploadError(400, f"part {number} has a different ETag")
            data = b"".join(upload.parts[number] for number, _ in sorted(parts))
            self._files[upload.file_id] = StoredFile(data, upload.content_type, upload.file_name)
            del self._uploads[upload.upload_id]

    def _upload(self, target: UploadTarget) -> MultipartUpload:
        upload = self._uploads.get(target.upload_id)
        if upload is None or (upload.file_id, upload.file_name) != (
            target.file_id,
            target.file_name,
        ):
            raise UploadError(404, "multipart upload not found")
        return upload


def part_etag(data: bytes) -> str:
    """The ETag of an uploaded part: its MD5, as S3 and fal's CDN report it."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def safe_file_name(name: str | None) -> str:
    """A file name safe to put in one URL path segment."""
    cleaned = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return cleaned if cleaned not in ("", ".", "..") else DEFAULT_FILE_NAME
