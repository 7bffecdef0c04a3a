"""Local files as inputs (inline data: URIs or uploads to storage), uploads, and saving outputs."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.server import ServerURLs, input_digest
from tests.e2e.conftest import client_options, reset, stats

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_small_files_are_sent_inline(client: Any, server: ServerURLs, tmp_path: Path) -> None:
    picture = tmp_path / "dot.png"
    picture.write_bytes(PNG)
    output = client.omnigen_v2(
        prompt="two dots",
        input_image_urls=[picture, io.BytesIO(PNG), "https://example.com/cat.png"],
    )
    assert output.images
    data_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    sent = {
        "prompt": "two dots",
        "input_image_urls": [data_uri, data_uri, "https://example.com/cat.png"],
    }
    data = stats(server)
    assert data["submissions_by_input"]["fal-ai/omnigen-v2"] == {input_digest(sent): 1}
    assert data["uploads"] == 0


def test_large_files_are_uploaded_first(server: ServerURLs, tmp_path: Path) -> None:
    from fal_models import FalClient

    reset(server)
    picture = tmp_path / "dot.png"
    picture.write_bytes(PNG)
    with FalClient(**client_options(server, upload_threshold=0)) as client:
        output = client.omnigen_v2(prompt="two dots", input_image_urls=[picture, PNG])
    assert output.images
    data = stats(server)
    assert data["uploads"] == 2
    assert data["routes"]["storage_token"] == 1, "the storage token is reused"


@pytest.mark.anyio
async def test_async_upload_of_local_files(server: ServerURLs, tmp_path: Path) -> None:
    from fal_models import AsyncFalClient

    reset(server)
    picture = tmp_path / "dot.png"
    picture.write_bytes(PNG)
    async with AsyncFalClient(**client_options(server, upload_threshold=0)) as client:
        output = await client.omnigen_v2(prompt="dots", input_image_urls=[picture])
        url = await client.storage.upload(PNG, file_name="again.png")
    assert output.images
    assert stats(server)["uploads"] == 2
    assert url.endswith("/again.png") and httpx.get(url).content == PNG


def test_upload_returns_a_url_serving_the_content(client: Any, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello fal")
    url = client.storage.upload(notes)
    assert url.endswith("/notes.txt")
    from_string = client.storage.upload(str(notes))  # for upload(), a string is a path
    assert httpx.get(from_string).content == b"hello fal"
    response = httpx.get(url)
    assert response.content == b"hello fal"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_multipart_upload(serve: Callable[..., ServerURLs], tmp_path: Path, flavour: str) -> None:
    import anyio
    from fal_models import AsyncFalClient, ClientConfig, FalClient

    urls = serve()
    content = bytes(range(256)) * 40  # 10 KiB in parts of 1 KiB
    big = tmp_path / "big.bin"
    big.write_bytes(content)
    config = ClientConfig(
        **client_options(urls), multipart_threshold=4096, multipart_chunk_size=1024
    )
    if flavour == "sync":
        with FalClient(config=config) as client:
            url = client.storage.upload(big)
    else:

        async def upload() -> str:
            async with AsyncFalClient(config=config) as client:
                result: str = await client.storage.upload(big)
                return result

        url = anyio.run(upload)
    assert httpx.get(url).content == content
    data = stats(urls)
    assert data["uploads"] == 1
    assert data["routes"]["upload"] == 1 + 10 + 1  # start, ten parts, complete


def test_output_files_download_and_save(client: Any, tmp_path: Path) -> None:
    output = client.flux_1_schnell(prompt="a fox", image_size={"width": 64, "height": 48})
    image = output.images[0]
    content = image.download(client)
    assert content.startswith(b"\x89PNG")
    saved = image.save(tmp_path / "fox.png")
    assert saved == tmp_path / "fox.png" and saved.read_bytes() == content
    into_folder = image.save(tmp_path)  # a folder: the file keeps its own name
    assert into_folder.parent == tmp_path and into_folder.read_bytes() == content


def test_sync_mode_data_urls_save_without_a_request(client: Any, tmp_path: Path) -> None:
    output = client.flux_1_schnell(prompt="a fox", sync_mode=True)
    image = output.images[0]
    assert image.url.startswith("data:image/png;base64,")
    path = image.save(tmp_path / "inline.png")
    assert path.read_bytes().startswith(b"\x89PNG")


@pytest.mark.anyio
async def test_async_download(server: ServerURLs, tmp_path: Path) -> None:
    from fal_models import AsyncFalClient

    async with AsyncFalClient(**client_options(server)) as client:
        output = await client.flux_1_schnell(prompt="a fox")
        saved = await output.images[0].asave(tmp_path / "fox.png", client)
        anonymous = await output.images[0].adownload()  # without a client: its own connection
    assert saved.read_bytes() == anonymous and anonymous.startswith(b"\x89PNG")
