"""Saving output files: names from a reply are made safe, downloads stream to disk within a
size limit, and nothing is overwritten that the caller did not ask to replace."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.runtime.conftest import KEY

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


@pytest.mark.parametrize(
    ("content_type", "file_name", "url", "extension"),
    [
        ("image/png", None, "https://v3.fal.media/a", ".png"),
        ("image/jpeg", "x.jpeg", "https://v3.fal.media/x.jpeg", ".jpg"),
        ("audio/mpeg", "music_generated.mp3", "", ".mp3"),
        ("audio/wav; rate=44100", None, "", ".wav"),
        ("video/mp4", None, "https://v3.fal.media/out", ".mp4"),
        ("model/gltf-binary", "model.glb", "", ".glb"),
        ("text/plain", "model.obj", "", ".obj"),  # a generic type: the name's known suffix
        (None, None, "https://v3.fal.media/files/weights.safetensors", ".safetensors"),
        (None, None, "https://storage.example/seed3d_output.zip", ".zip"),
        ("application/x-zip-compressed", None, "", ".zip"),
        (None, "notes.TXT", "", ".txt"),
        # Names that would run code, or that nobody knows: the neutral extension.
        ("text/x-python", "evil.pth", "https://x/evil.pth", ".bin"),
        (None, "evil.pth", "https://x/evil.py", ".bin"),
        ("application/x-sh", None, "https://x/run.sh", ".bin"),
        (None, None, "https://x/file", ".bin"),
        ("text/plain", "readme", "", ".txt"),
    ],
)
def test_extensions_come_from_a_fixed_table(
    content_type: str | None, file_name: str | None, url: str, extension: str
) -> None:
    from fal_models._runtime._files import file_extension

    assert file_extension(content_type, file_name, url) == extension


def test_data_urls_and_file_objects_name_their_format() -> None:
    from fal_models.endpoints.ideogram_v2 import File

    inline = File(url="data:audio/wav;base64," + base64.b64encode(b"RIFF").decode())
    assert inline._extension() == ".wav"
    assert File(url="https://v3.fal.media/f/x.mp4")._extension() == ".mp4"
    assert File(url="https://v3.fal.media/f/x", content_type="video/webm")._extension() == ".webm"


@pytest.mark.parametrize(
    ("file_name", "saved_as"),
    [
        ("../../escape.txt", "escape.txt"),
        ("..\\..\\evil.pth", "evil.bin"),
        ("/etc/cron.d/job", "job.bin"),
        ("\x1b[31mred.png", "31mred.png"),
        ("..", "file.bin"),
        ("NUL.txt", "file-NUL.txt"),
        ("a" * 300 + ".png", "a" * 100 + ".png"),
    ],
)
def test_names_from_a_reply_stay_inside_the_folder(
    tmp_path: Path, file_name: str, saved_as: str
) -> None:
    from fal_models.endpoints.ideogram_v2 import File

    folder = tmp_path / "out"
    folder.mkdir()
    saved = File(url="data:application/octet-stream,hi", file_name=file_name).save(folder)
    assert saved == folder.resolve() / saved_as
    assert [path.name for path in tmp_path.rglob("*")] == ["out", saved_as]


def test_a_derived_name_is_never_overwritten_unless_asked(tmp_path: Path) -> None:
    from fal_models.endpoints.ideogram_v2 import File

    first = File(url="data:text/plain,first", file_name="a.txt")
    second = File(url="data:text/plain,second", file_name="a.txt")
    path = first.save(tmp_path)
    with pytest.raises(FileExistsError):
        second.save(tmp_path)
    assert path.read_text() == "first"
    assert second.save(tmp_path, overwrite=True).read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temporary files left


def test_a_path_the_caller_names_is_replaced_unless_told_not_to(tmp_path: Path) -> None:
    from fal_models.endpoints.ideogram_v2 import File

    target = tmp_path / "mine.txt"
    target.write_text("old")
    File(url="data:text/plain,new").save(target)
    assert target.read_text() == "new"
    with pytest.raises(FileExistsError):
        File(url="data:text/plain,newer").save(target, overwrite=False)
    assert target.read_text() == "new"


def test_a_link_in_the_folder_is_replaced_not_followed(tmp_path: Path) -> None:
    from fal_models.endpoints.ideogram_v2 import File

    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").symlink_to(outside)
    file = File(url="data:text/plain,planted", file_name="a.txt")
    with pytest.raises(FileExistsError):
        file.save(folder)
    file.save(folder, overwrite=True)
    assert outside.read_text() == "keep"
    assert not (folder / "a.txt").is_symlink() and (folder / "a.txt").read_text() == "planted"


class Watched(httpx.SyncByteStream):
    """A download whose chunks check, as they are sent, how much is already on disk."""

    def __init__(self, folder: Path, chunks: int, size: int) -> None:
        self.folder, self.chunks, self.size = folder, chunks, size
        self.on_disk: list[int] = []

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.chunks):
            parts = list(self.folder.glob(".*.part"))
            self.on_disk.append(sum(part.stat().st_size for part in parts))
            yield b"x" * self.size


def client_with(stream: httpx.SyncByteStream, **options: Any) -> Any:
    from fal_models import FalClient

    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=stream))
    return FalClient(key=KEY, http_client=httpx.Client(transport=transport), **options)


def test_downloads_stream_to_disk_in_chunks(tmp_path: Path) -> None:
    from fal_models.endpoints.ideogram_v2 import File

    body = Watched(tmp_path, chunks=8, size=64 * 1024)
    with client_with(body) as client:
        saved = File(url="https://v3.fal.media/f/big.bin").save(tmp_path / "big.bin", client)
    assert saved.stat().st_size == 8 * 64 * 1024
    # Each chunk was on disk before the next one arrived: the file was never held whole.
    assert body.on_disk[1:] == sorted(body.on_disk[1:]) and body.on_disk[-1] >= 6 * 64 * 1024


def test_downloads_beyond_the_limit_stop_and_leave_nothing(tmp_path: Path) -> None:
    from fal_models import ResponseTooLargeError
    from fal_models.endpoints.ideogram_v2 import File

    body = Watched(tmp_path, chunks=1000, size=64 * 1024)
    with client_with(body, max_download_bytes=256 * 1024) as client:
        with pytest.raises(ResponseTooLargeError, match="max_download_bytes"):
            File(url="https://v3.fal.media/f/big.bin").save(tmp_path, client)
        with pytest.raises(ResponseTooLargeError):
            File(url="https://v3.fal.media/f/big.bin").download(client, max_bytes=1000)
    assert len(body.on_disk) < 10
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
async def test_async_saves_follow_the_same_rules(tmp_path: Path) -> None:
    from fal_models import AsyncFalClient, ResponseTooLargeError
    from fal_models.endpoints.ideogram_v2 import File

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncFalClient(key=KEY, http_client=http) as client:
        file = File(url="https://v3.fal.media/f/../x", file_name="../shot.png")
        saved = await file.asave(tmp_path, client)
        assert saved == tmp_path.resolve() / "shot.png" and saved.read_bytes() == PNG
        with pytest.raises(FileExistsError):
            await file.asave(tmp_path, client)
        with pytest.raises(ResponseTooLargeError):
            await file.asave(tmp_path / "small.png", client, max_bytes=8)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["shot.png"]
    await http.aclose()
