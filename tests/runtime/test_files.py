"""Local files given for URL inputs, storage uploads, and output file objects."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.runtime.conftest import KEY

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\0" * 8


def test_local_files_from_paths_bytes_and_file_objects(tmp_path: Path) -> None:
    from fal_models._runtime._files import LocalFile

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0jpeg")
    local = LocalFile.of(photo)
    assert (local.size, local.content_type, local.file_name) == (8, "image/jpeg", "photo.jpg")
    assert local.read() == b"\xff\xd8\xff\xe0jpeg" and local.data is None  # read lazily

    assert LocalFile.of(PNG_HEAD).content_type == "image/png"
    assert LocalFile.of(PNG_HEAD).file_name == "file.png"
    assert LocalFile.of(bytearray(b"RIFF\0\0\0\0WEBPVP8 ")).content_type == "image/webp"
    assert LocalFile.of(b"\0\0\0\x18ftypmp42").content_type == "video/mp4"
    assert LocalFile.of(memoryview(b"plain")).content_type == "application/octet-stream"

    with photo.open("rb") as handle:
        from_handle = LocalFile.of(handle)
    assert (from_handle.file_name, from_handle.content_type) == ("photo.jpg", "image/jpeg")
    with pytest.raises(TypeError, match="binary"):
        LocalFile.of(io.StringIO("text"))  # type: ignore[arg-type]


def test_missing_paths_are_a_clear_error(tmp_path: Path) -> None:
    from fal_models import FalError
    from fal_models._runtime._files import LocalFile

    with pytest.raises(FalError, match=r"nope\.png"):
        LocalFile.of(tmp_path / "nope.png")


def test_chunks_cover_the_content(tmp_path: Path) -> None:
    from fal_models._runtime._files import LocalFile

    content = bytes(range(256)) * 3
    path = tmp_path / "data.bin"
    path.write_bytes(content)
    for local in (LocalFile.of(path), LocalFile.of(content)):
        chunks = list(local.chunks(100))
        assert [len(chunk) for chunk in chunks] == [100] * 7 + [68]
        assert b"".join(chunks) == content


def test_only_non_strings_are_files() -> None:
    from fal_models._runtime._files import is_file_input

    assert is_file_input(Path("x.png")) and is_file_input(b"x") and is_file_input(io.BytesIO())
    assert not is_file_input("x.png") and not is_file_input(None) and not is_file_input(3)


def test_file_slots_and_replacement() -> None:
    from fal_models._runtime._files import file_slots, with_urls

    data = {"image_url": b"a", "image_urls": ["https://x", b"b", Path("c")], "other": b"d"}
    slots = file_slots(data, ("image_url", "image_urls", "missing"))
    assert slots == [("image_url", None), ("image_urls", 1), ("image_urls", 2)]
    replaced = with_urls(data, slots, ["u1", "u2", "u3"])
    assert replaced == {"image_url": "u1", "image_urls": ["https://x", "u2", "u3"], "other": b"d"}
    assert data["image_url"] == b"a", "the caller's input is left alone"


def test_data_uris_round_trip() -> None:
    from fal_models import FalError
    from fal_models._runtime._files import data_uri, decode_data_uri

    uri = data_uri(b"\0\1binary", "application/octet-stream")
    assert uri.startswith("data:application/octet-stream;base64,")
    assert decode_data_uri(uri) == b"\0\1binary"
    assert decode_data_uri("data:text/plain,hello%20there") == b"hello there"
    with pytest.raises(FalError):
        decode_data_uri("https://not-data")


class FakeStorage:
    """The REST token endpoint and the CDN, recording every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.parts: dict[int, bytes] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/storage/auth/token":
            assert request.url.params["storage_type"] == "fal-cdn-v3"
            return httpx.Response(
                200,
                json={
                    "token": "cdn-token",
                    "token_type": "Bearer",
                    "base_url": "https://v3.fal.media",
                    "expires_at": "2999-01-01T00:00:00+00:00",
                },
            )
        if path == "/files/upload":
            name = request.headers["x-fal-file-name"]
            return httpx.Response(200, json={"access_url": f"https://v3.fal.media/f/{name}"})
        if path == "/files/upload/multipart":
            return httpx.Response(
                200, json={"access_url": "https://v3.fal.media/f/big", "uploadId": "u1"}
            )
        if path.startswith("/f/big/multipart/u1/") and request.method == "PUT":
            number = int(path.rsplit("/", 1)[1])
            self.parts[number] = request.content
            return httpx.Response(200, headers={"ETag": f'"etag-{number}"'})
        if path == "/f/big/multipart/u1/complete":
            return httpx.Response(200, json={})
        return httpx.Response(404)

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]


def storage_client(fake: FakeStorage, **options: Any) -> Any:
    from fal_models import ClientConfig, FalClient

    config = ClientConfig(key=KEY, rest_url="https://rest.test", **options)
    return FalClient(config=config, http_client=httpx.Client(transport=httpx.MockTransport(fake)))


def test_upload_sends_the_token_not_the_key(tmp_path: Path) -> None:
    fake = FakeStorage()
    photo = tmp_path / "cat.png"
    photo.write_bytes(PNG_HEAD)
    with storage_client(fake) as client:
        first = client.storage.upload(photo)
        second = client.storage.upload(b"raw", content_type="text/plain", file_name="n.txt")
    assert (first, second) == ("https://v3.fal.media/f/cat.png", "https://v3.fal.media/f/n.txt")
    token_request, upload, again = fake.requests
    assert token_request.headers["authorization"] == f"Key {KEY}"
    assert upload.headers["authorization"] == "Bearer cdn-token"
    assert upload.headers["content-type"] == "image/png" and upload.content == PNG_HEAD
    assert again.headers["content-type"] == "text/plain" and again.content == b"raw"
    assert fake.paths().count("/storage/auth/token") == 1, "the token is cached"


def test_multipart_upload_in_order() -> None:
    fake = FakeStorage()
    content = bytes(range(250)) * 4
    with storage_client(fake, multipart_threshold=500, multipart_chunk_size=300) as client:
        url = client.storage.upload(content)
    assert url == "https://v3.fal.media/f/big"
    assert sorted(fake.parts) == [1, 2, 3, 4]
    assert b"".join(fake.parts[n] for n in sorted(fake.parts)) == content
    complete = fake.requests[-1]
    assert json.loads(complete.content) == {
        "parts": [{"partNumber": n, "etag": f'"etag-{n}"'} for n in (1, 2, 3, 4)]
    }


def test_inputs_inline_small_files_and_upload_large_ones(tmp_path: Path) -> None:
    from fal_models import ClientConfig, FalClient

    sent: list[Any] = []
    fake = FakeStorage()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "queue.test":
            sent.append(json.loads(request.content))
            return httpx.Response(400, json={"detail": "stop here"})
        return fake(request)

    small, large = tmp_path / "small.png", tmp_path / "large.png"
    small.write_bytes(PNG_HEAD)
    large.write_bytes(PNG_HEAD * 10)
    config = ClientConfig(
        key=KEY, queue_url="https://queue.test", rest_url="https://rest.test", upload_threshold=100
    )
    http = httpx.Client(transport=httpx.MockTransport(handler))
    with (
        FalClient(config=config, http_client=http) as client,
        pytest.raises(Exception, match="stop"),
    ):
        client.omnigen_v2.submit(prompt="p", input_image_urls=[small, large, "https://x/y.png"])
    inline = "data:image/png;base64," + base64.b64encode(PNG_HEAD).decode()
    assert sent == [
        {
            "prompt": "p",
            "input_image_urls": [inline, "https://v3.fal.media/f/large.png", "https://x/y.png"],
        }
    ]


def test_file_outputs_decode_data_urls_and_save(tmp_path: Path) -> None:
    from fal_models import FileModel
    from fal_models.endpoints.flux_1_schnell import Image
    from fal_models.endpoints.ideogram_v2 import File

    assert issubclass(Image, FileModel) and issubclass(File, FileModel)
    inline = Image(
        url="data:image/png;base64," + base64.b64encode(PNG_HEAD).decode(), width=1, height=1
    )
    assert inline.download() == PNG_HEAD
    assert inline.save(tmp_path / "out.png").read_bytes() == PNG_HEAD
    named = File(url="data:text/plain,hi", file_name="../../escape.txt")
    saved = named.save(tmp_path)
    assert saved == tmp_path / "escape.txt" and saved.read_text() == "hi"


def test_file_download_does_not_send_the_key() -> None:
    from fal_models import FalClient
    from fal_models.endpoints.flux_1_schnell import Image

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=PNG_HEAD)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with FalClient(key=KEY, http_client=http) as client:
        content = Image(url="https://cdn.test/a.png", width=1, height=1).download(client)
    assert content == PNG_HEAD
    assert "authorization" not in seen[0].headers
