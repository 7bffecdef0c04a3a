"""Synthesised outputs: valid for every spec, real PNGs of the requested size, conventions."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from generator.loader import SpecDocument
from generator.server import ServerURLs, running_server
from tests.server.support import FLUX, output_validator


def example_input(spec: SpecDocument) -> dict[str, Any]:
    """The smallest input the spec accepts: each required field from its first example."""
    schema = spec.schemas[spec.input_schema]
    return {name: schema["properties"][name]["examples"][0] for name in schema.get("required", [])}


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and raw scanlines of an 8-bit RGB PNG, checking every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, dict[bytes, bytes]()
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    assert b"IEND" in chunks
    return width, height, zlib.decompress(chunks[b"IDAT"])


def run(client: httpx.Client, urls: ServerURLs, endpoint_id: str, payload: dict[str, Any]) -> Any:
    response = client.post(f"{urls.run}/{endpoint_id}", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


def test_outputs_validate_for_every_spec(
    server: ServerURLs, client: httpx.Client, specs: list[SpecDocument]
) -> None:
    for spec in specs:
        output = run(client, server, spec.endpoint_id, example_input(spec))
        output_validator(spec).validate(output)


@pytest.fixture(scope="module")
def real_server(real_specs: list[SpecDocument]) -> Iterator[ServerURLs]:
    with running_server(real_specs) as urls:
        yield urls


def test_outputs_validate_for_every_real_fal_document(
    real_server: ServerURLs, client: httpx.Client, real_specs: list[SpecDocument]
) -> None:
    for spec in real_specs:
        output = run(client, real_server, spec.endpoint_id, example_input(spec))
        output_validator(spec).validate(output)


@pytest.mark.parametrize(
    ("image_size", "expected"),
    [
        (None, (1024, 768)),  # the spec's default, landscape_4_3
        ("square_hd", (1024, 1024)),
        ("square", (512, 512)),
        ("portrait_16_9", (576, 1024)),
        ({"width": 333, "height": 77}, (333, 77)),
    ],
)
def test_images_are_real_pngs_of_the_requested_size(
    anon: httpx.Client,
    server: ServerURLs,
    client: httpx.Client,
    image_size: Any,
    expected: tuple[int, int],
) -> None:
    payload: dict[str, Any] = {"prompt": "a size test"}
    if image_size is not None:
        payload["image_size"] = image_size

    image = run(client, server, FLUX, payload)["images"][0]
    download = anon.get(image["url"])
    width, height, pixels = decode_png(download.content)

    assert (image["width"], image["height"]) == (width, height) == expected
    assert len(pixels) == (width * 3 + 1) * height
    assert image["content_type"] == download.headers["content-type"] == "image/png"


def test_aspect_ratios_set_the_size_and_file_fields_are_filled(
    anon: httpx.Client, server: ServerURLs, client: httpx.Client
) -> None:
    image = run(
        client, server, "fal-ai/imagen4/preview", {"prompt": "wide", "aspect_ratio": "16:9"}
    )["images"][0]
    data = anon.get(image["url"]).content

    assert decode_png(data)[:2] == (1024, 576)
    assert image["file_size"] == len(data)
    assert image["file_name"].endswith(".png")


def test_sync_mode_inlines_images_as_data_uris(server: ServerURLs, client: httpx.Client) -> None:
    image = run(
        client, server, FLUX, {"prompt": "inline", "sync_mode": True, "image_size": "square"}
    )["images"][0]

    prefix = "data:image/png;base64,"
    assert image["url"].startswith(prefix)
    assert decode_png(base64.b64decode(image["url"][len(prefix) :]))[:2] == (512, 512)


def test_image_counts_prompt_and_seed_follow_the_input(
    server: ServerURLs, client: httpx.Client
) -> None:
    output = run(client, server, FLUX, {"prompt": "three cats", "seed": 42, "num_images": 3})

    assert len(output["images"]) == 3
    assert output["has_nsfw_concepts"] == [False, False, False]
    assert (output["prompt"], output["seed"]) == ("three cats", 42)
    assert len({image["url"] for image in output["images"]}) == 3


def test_equal_inputs_give_equal_outputs(server: ServerURLs, client: httpx.Client) -> None:
    payload = {"prompt": "deterministic"}

    first, second = run(client, server, FLUX, payload), run(client, server, FLUX, payload)
    other = run(client, server, FLUX, {"prompt": "something else"})

    assert first["seed"] == second["seed"] != other["seed"]
    assert first["images"] == second["images"] != other["images"]
