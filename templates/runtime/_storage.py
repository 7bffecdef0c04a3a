"""fal storage: upload local files and get back URLs the API can fetch.

Protocol: a CDN token from the REST host (``POST /storage/auth/token?storage_type=fal-cdn-v3``),
then ``POST <base_url>/files/upload`` for one-shot uploads, or for large files
``POST <base_url>/files/upload/multipart``, ``PUT <access_url>/multipart/<id>/<n>`` per part and
``POST <access_url>/multipart/<id>/complete``. The API key is only sent to the REST host.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import pathlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from . import _errors, _http
from ._files import FileInput, LocalFile, data_uri, file_slots, slot_value, with_urls

if TYPE_CHECKING:
    from ._client import AsyncClient, SyncClient

TOKEN_PATH = "/storage/auth/token?storage_type=fal-cdn-v3"
TOKEN_MARGIN = 30.0  # seconds: renew a token this long before it expires


@dataclass(frozen=True)
class CDNToken:
    token: str = dataclasses.field(repr=False)
    token_type: str
    base_url: str
    expires_at: float  # epoch seconds

    @classmethod
    def from_reply(cls, data: Any) -> CDNToken:
        try:
            expires = data.get("expires_at")
            if isinstance(expires, int | float):
                expires_at = float(expires)
            elif isinstance(expires, str):
                parsed = datetime.datetime.fromisoformat(expires.replace("Z", "+00:00"))
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=datetime.UTC)
                expires_at = parsed.timestamp()
            else:
                expires_at = time.time() + 60.0
            return cls(
                token=str(data["token"]),
                token_type=str(data.get("token_type") or "Bearer"),
                base_url=str(data["base_url"]).rstrip("/"),
                expires_at=expires_at,
            )
        except (AttributeError, KeyError, TypeError, ValueError) as problem:
            raise _errors.APIError(f"unexpected storage token reply: {problem!r}") from None

    def fresh(self) -> bool:
        return time.time() < self.expires_at - TOKEN_MARGIN

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {
            "Authorization": f"{self.token_type} {self.token}",
            "User-Agent": _http.USER_AGENT,
            **(extra or {}),
        }


def local_file(
    value: FileInput | str, content_type: str | None, file_name: str | None
) -> LocalFile:
    """What ``upload()`` sends; there a string is a path (in inputs it is a URL)."""
    local = LocalFile.of(pathlib.Path(value) if isinstance(value, str) else value)
    return dataclasses.replace(
        local,
        content_type=content_type or local.content_type,
        file_name=file_name or local.file_name,
    )


def file_headers(local: LocalFile) -> dict[str, str]:
    return {"Content-Type": local.content_type, "X-Fal-File-Name": local.file_name}


def access_url(response: httpx.Response) -> str:
    try:
        return str(response.json()["access_url"])
    except (KeyError, TypeError, ValueError):
        raise _errors.APIError("the upload reply has no access_url", body=response.text) from None


def multipart_started(response: httpx.Response) -> tuple[str, str]:
    """(access URL, upload id) from the reply that starts a multipart upload."""
    try:
        data = response.json()
        return str(data["access_url"]), str(data["uploadId"])
    except (KeyError, TypeError, ValueError):
        raise _errors.APIError("unexpected multipart upload reply", body=response.text) from None


def part_record(number: int, response: httpx.Response) -> dict[str, Any]:
    etag = response.headers.get("etag")
    if not etag:
        raise _errors.APIError(f"upload of part {number} returned no ETag")
    return {"partNumber": number, "etag": etag}


class SyncStorage:
    """``client.storage``: upload files to fal storage and get their URLs."""

    def __init__(self, client: SyncClient) -> None:
        self._client = client
        self._token: CDNToken | None = None
        self._lock = threading.Lock()

    def upload(
        self,
        file: FileInput | str,
        *,
        content_type: str | None = None,
        file_name: str | None = None,
    ) -> str:
        """Upload a path (also as a string), bytes or a binary file object; return its URL.
        Files larger than ``config.multipart_threshold`` go in parts of
        ``config.multipart_chunk_size``."""
        return self._upload(local_file(file, content_type, file_name))

    def url_for(self, file: FileInput) -> str:
        """A URL for a local file given as input: a ``data:`` URI when it is small, else an
        upload's URL (``config.upload_threshold``)."""
        local = LocalFile.of(file)
        if local.size <= self._client.config.upload_threshold:
            return data_uri(local.read(), local.content_type)
        return self._upload(local)

    def resolve(self, data: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
        """The input with the local files in ``fields`` replaced by URLs."""
        slots = file_slots(data, fields)
        urls = [self.url_for(slot_value(data, slot)) for slot in slots]
        return with_urls(data, slots, urls)

    def _upload(self, local: LocalFile) -> str:
        token = self._cdn_token()
        if local.size > self._client.config.multipart_threshold:
            return self._multipart(local, token)
        response = self._cdn(
            "POST",
            f"{token.base_url}/files/upload",
            token,
            file_headers(local),
            content=local.read(),
        )
        return access_url(response)

    def _multipart(self, local: LocalFile, token: CDNToken) -> str:
        url = f"{token.base_url}/files/upload/multipart"
        location, upload_id = multipart_started(self._cdn("POST", url, token, file_headers(local)))
        parts = []
        chunks = local.chunks(self._client.config.multipart_chunk_size)
        for number, chunk in enumerate(chunks, start=1):
            part_url = f"{location}/multipart/{upload_id}/{number}"
            headers = {"Content-Type": local.content_type}
            response = self._cdn("PUT", part_url, self._cdn_token(), headers, content=chunk)
            parts.append(part_record(number, response))
        complete_url = f"{location}/multipart/{upload_id}/complete"
        self._cdn("POST", complete_url, self._cdn_token(), None, json={"parts": parts})
        return location

    def _cdn_token(self) -> CDNToken:
        with self._lock:
            if self._token is None or not self._token.fresh():
                url = self._client.config.rest_url + TOKEN_PATH
                response = self._client._send("POST", url, idempotent=True, json={})
                self._token = CDNToken.from_reply(response.json())
            return self._token

    def _cdn(
        self,
        method: str,
        url: str,
        token: CDNToken,
        headers: Mapping[str, str] | None,
        **kwargs: Any,
    ) -> httpx.Response:
        client = self._client
        return _http.send(
            client.http,
            client.config,
            method,
            url,
            idempotent=True,
            headers=token.headers(headers),
            **kwargs,
        )


class AsyncStorage:
    """``client.storage`` of the async client: upload files to fal storage."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._token: CDNToken | None = None
        self._lock = asyncio.Lock()

    async def upload(
        self,
        file: FileInput | str,
        *,
        content_type: str | None = None,
        file_name: str | None = None,
    ) -> str:
        """Upload a path (also as a string), bytes or a binary file object; return its URL."""
        return await self._upload(local_file(file, content_type, file_name))

    async def url_for(self, file: FileInput) -> str:
        """A ``data:`` URI for a small local file, else an upload's URL."""
        local = LocalFile.of(file)
        if local.size <= self._client.config.upload_threshold:
            return data_uri(await asyncio.to_thread(local.read), local.content_type)
        return await self._upload(local)

    async def resolve(self, data: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
        """The input with the local files in ``fields`` replaced by URLs."""
        slots = file_slots(data, fields)
        urls = [await self.url_for(slot_value(data, slot)) for slot in slots]
        return with_urls(data, slots, urls)

    async def _upload(self, local: LocalFile) -> str:
        token = await self._cdn_token()
        if local.size > self._client.config.multipart_threshold:
            return await self._multipart(local, token)
        content = await asyncio.to_thread(local.read)
        url = f"{token.base_url}/files/upload"
        response = await self._cdn("POST", url, token, file_headers(local), content=content)
        return access_url(response)

    async def _multipart(self, local: LocalFile, token: CDNToken) -> str:
        url = f"{token.base_url}/files/upload/multipart"
        started = await self._cdn("POST", url, token, file_headers(local))
        location, upload_id = multipart_started(started)
        parts = []
        chunks = local.chunks(self._client.config.multipart_chunk_size)
        number = 0
        while chunk := await asyncio.to_thread(next, chunks, b""):
            number += 1
            part_url = f"{location}/multipart/{upload_id}/{number}"
            headers = {"Content-Type": local.content_type}
            response = await self._cdn(
                "PUT", part_url, await self._cdn_token(), headers, content=chunk
            )
            parts.append(part_record(number, response))
        complete_url = f"{location}/multipart/{upload_id}/complete"
        await self._cdn("POST", complete_url, await self._cdn_token(), None, json={"parts": parts})
        return location

    async def _cdn_token(self) -> CDNToken:
        async with self._lock:
            if self._token is None or not self._token.fresh():
                url = self._client.config.rest_url + TOKEN_PATH
                response = await self._client._send("POST", url, idempotent=True, json={})
                self._token = CDNToken.from_reply(response.json())
            return self._token

    async def _cdn(
        self,
        method: str,
        url: str,
        token: CDNToken,
        headers: Mapping[str, str] | None,
        **kwargs: Any,
    ) -> httpx.Response:
        client = self._client
        return await _http.asend(
            client.http,
            client.config,
            method,
            url,
            idempotent=True,
            headers=token.headers(headers),
            **kwargs,
        )
