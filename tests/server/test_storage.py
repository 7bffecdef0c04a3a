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


def initiate(client: httpx.Client, urls: ServerURLs, kind: str, **body: Any) -> dict[str, Any]:
    """``POST storage/upload/initiate[-multipart]`` as fal-js sends it."""
    response = client.post(
        f"{urls.rest}/storage/upload/{kind}?storage_type=fal-cdn-v3",
        json={"content_type": "audio/wav", "file_name": "take.wav", **body},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert set(answer) == {"upload_url", "file_url"}
    return answer


def test_initiate_gives_a_presigned_url_that_takes_the_file(
    anon: httpx.Client, server: ServerURLs, client: httpx.Client
) -> None:
    urls = initiate(client, server, "initiate")
    before = anon.get(urls["file_url"])

    # A presigned URL needs no credentials: the client sends only the bytes and their type.
    put = anon.put(urls["upload_url"], content=b"RIFF....WAVE", headers={"Content-Type": "x/y"})

    assert before.status_code == 404
    assert put.status_code == 200, put.text
    download = anon.get(urls["file_url"])
    assert download.content == b"RIFF....WAVE"
    assert download.headers["content-type"] == "x/y"
    assert urls["file_url"].startswith(server.cdn + "/files/")
    assert urls["file_url"].endswith("/take.wav")


def test_initiate_multipart_takes_parts_beside_its_upload_url(
    anon: httpx.Client, server: ServerURLs, client: httpx.Client
) -> None:
    """fal-js: parts go to ``<upload_url path>/<n>`` and the list to ``.../complete``, each
    with the upload URL's query; each part's answer is JSON with its number and ETag."""
    urls = initiate(client, server, "initiate-multipart", content_type="video/mp4")
    upload = httpx.URL(urls["upload_url"])
    base, query = str(upload.copy_with(query=None)), upload.query.decode()
    answers = [
        anon.put(f"{base}/{number}?{query}", content=chunk).json()
        for number, chunk in ((1, b"first "), (2, b"second"))
    ]
    parts = [{"partNumber": answer["partNumber"], "etag": answer["etag"]} for answer in answers]

    done = anon.post(f"{base}/complete?{query}", json={"parts": parts})

    assert done.status_code == 200, done.text
    download = anon.get(urls["file_url"])
    assert download.content == b"first second"
    assert download.headers["content-type"] == "video/mp4"


def test_a_presigned_url_opens_only_its_own_file(
    anon: httpx.Client, server: ServerURLs, client: httpx.Client
) -> None:
    mine, other = initiate(client, server, "initiate"), initiate(client, server, "initiate")
    signature = httpx.URL(mine["upload_url"]).params["signature"]
    other_url = httpx.URL(other["upload_url"])

    borrowed = anon.put(str(other_url.copy_set_param("signature", signature)), content=b"x")
    unsigned = anon.put(str(other_url.copy_with(query=None)), content=b"x")
    not_reserved = anon.put(f"{server.cdn}/files/{'0' * 32}/take.wav", content=b"x")

    assert borrowed.status_code == unsigned.status_code == not_reserved.status_code == 401
    assert anon.get(other["file_url"]).status_code == 404


def test_initiate_needs_the_key_and_checks_its_request(
    anon: httpx.Client, server: ServerURLs, client: httpx.Client
) -> None:
    url = f"{server.rest}/storage/upload/initiate"
    without_key = anon.post(url, json={"file_name": "a.png"})
    bucket = client.post(url + "?storage_type=gcs", json={"file_name": "a.png"})  # fal-client
    unknown_storage = client.post(url + "?storage_type=ftp", json={})
    bad_name = client.post(url, json={"file_name": 7})

    assert without_key.status_code == 401
    assert bucket.status_code == 200
    assert unknown_storage.status_code == 400
    assert bad_name.status_code == 422
    assert bad_name.json()["detail"][0]["loc"] == ["body", "file_name"]
