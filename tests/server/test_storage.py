"""The storage token, uploads (single and multipart) and downloads from the CDN stand-in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from generator.loader import SpecDocument
from generator.server import ServerConfig, ServerURLs, running_server
from tests.server.support import AUTH


def storage_token(client: httpx.Client, urls: ServerURLs) -> dict[str, Any]:
    response = client.post(f"{urls.rest}/storage/auth/token?storage_type=fal-cdn-v3", json={})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"{token['token_type']} {token['token']}"}


def test_storage_token_names_the_cdn_and_an_expiry(
    server: ServerURLs, client: httpx.Client
) -> None:
    token = storage_token(client, server)

    assert token["token_type"] == "Bearer"
    assert token["base_url"] == server.cdn
    assert datetime.fromisoformat(token["expires_at"]) > datetime.now(UTC)
    wrong_type = client.post(f"{server.rest}/storage/auth/token?storage_type=gcs")
    assert wrong_type.status_code == 400


def test_single_upload_is_served_back(
    anon: httpx.Client, server: ServerURLs, client: httpx.Client
) -> None:
    token = storage_token(client, server)
    data = b"\x00\x01binary payload\xff" * 100

    response = anon.post(
        f"{token['base_url']}/files/upload",
        content=data,
        headers={**bearer(token), "Content-Type": "image/webp", "X-Fal-File-Name": "cat.webp"},
    )

    assert response.status_code == 200
    url = response.json()["access_url"]
    assert url.startswith(server.cdn + "/files/") and url.endswith("/cat.webp")
    download = anon.get(url)
    assert download.content == data
    assert download.headers["content-type"] == "image/webp"


def test_multipart_upload_joins_parts_in_order(
    anon: httpx.Client, server: ServerURLs, client: httpx.Client
) -> None:
    token = storage_token(client, server)
    headers = {**bearer(token), "Content-Type": "video/mp4", "X-Fal-File-Name": "clip.mp4"}
    parts_data = [b"a" * 1000, b"b" * 1000, b"c" * 10]

    started = anon.post(f"{token['base_url']}/files/upload/multipart", headers=headers).json()
    location, upload_id = started["access_url"], started["uploadId"]
    parts = []
    for number in (3, 1, 2):  # parts may arrive in any order
        reply = anon.put(
            f"{location}/multipart/{upload_id}/{number}",
            content=parts_data[number - 1],
            headers=headers,
        )
        assert reply.status_code == 200
        assert reply.json()["etag"] == reply.headers["etag"].strip('"')
        parts.append({"partNumber": number, "etag": reply.headers["etag"]})
    before = anon.get(location)
    done = anon.post(
        f"{location}/multipart/{upload_id}/complete", json={"parts": parts}, headers=bearer(token)
    )

    assert before.status_code == 404
    assert done.status_code == 200
    assert done.json()["access_url"] == location
    download = anon.get(location)
    assert download.content == b"".join(parts_data)
    assert download.headers["content-type"] == "video/mp4"


def test_multipart_completion_checks_the_parts(
    anon: httpx.Client, server: ServerURLs, client: httpx.Client
) -> None:
    token = storage_token(client, server)
    started = anon.post(f"{server.cdn}/files/upload/multipart", headers=bearer(token)).json()
    location, upload_id = started["access_url"], started["uploadId"]
    anon.put(f"{location}/multipart/{upload_id}/1", content=b"part", headers=bearer(token))
    complete_url = f"{location}/multipart/{upload_id}/complete"

    wrong_etag = anon.post(
        complete_url, json={"parts": [{"partNumber": 1, "etag": "0" * 32}]}, headers=bearer(token)
    )
    missing = anon.post(
        complete_url, json={"parts": [{"partNumber": 2, "etag": "x"}]}, headers=bearer(token)
    )
    malformed = anon.post(complete_url, json={"parts": "all"}, headers=bearer(token))
    unknown = anon.put(f"{location}/multipart/nope/1", content=b"x", headers=bearer(token))

    assert (wrong_etag.status_code, missing.status_code) == (400, 400)
    assert malformed.status_code == 422
    assert unknown.status_code == 404


def test_uploads_need_a_storage_token_not_the_key(anon: httpx.Client, server: ServerURLs) -> None:
    with_key = anon.post(f"{server.cdn}/files/upload", content=b"x", headers=AUTH)
    forged = anon.post(
        f"{server.cdn}/files/upload", content=b"x", headers={"Authorization": "Bearer forged"}
    )

    assert with_key.status_code == forged.status_code == 401


def test_unknown_files_are_not_found(anon: httpx.Client, server: ServerURLs) -> None:
    assert anon.get(f"{server.cdn}/files/0123/none.png").status_code == 404


@pytest.mark.parametrize("multipart", [False, True])
def test_uploads_over_the_limit_are_refused(
    anon: httpx.Client, client: httpx.Client, specs: list[SpecDocument], multipart: bool
) -> None:
    with running_server(specs, ServerConfig(max_upload_bytes=100)) as urls:
        token = storage_token(client, urls)
        if multipart:
            started = anon.post(f"{urls.cdn}/files/upload/multipart", headers=bearer(token))
            body = started.json()
            url = f"{body['access_url']}/multipart/{body['uploadId']}/1"
            response = anon.put(url, content=b"x" * 101, headers=bearer(token))
        else:
            response = anon.post(
                f"{urls.cdn}/files/upload", content=b"x" * 101, headers=bearer(token)
            )

    assert response.status_code == 413
