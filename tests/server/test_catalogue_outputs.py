"""``falgen serve`` over fal's real catalogue (../shared/catalog): every endpoint answers a valid
input with an output that validates against its Output schema, and every file in it is a real
file of the kind it claims, served by this server."""

from __future__ import annotations

import base64
import io
import json
import wave
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from generator.loader import load_folder
from generator.server.catalog import Catalog
from generator.server.files import FileStore
from generator.server.synthetic_outputs import Synthesizer
from tests.server.conftest import RealCatalogue
from tests.server.support import AUTH, output_validator


def _is_wav(data: bytes) -> bool:
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getnframes() > 0


def _is_zip(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.testzip() is None and bool(archive.namelist())


# What each content type the server hands out must look like inside.
GENUINE: dict[str, Callable[[bytes], bool]] = {
    "image/png": lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"),
    "audio/wav": _is_wav,
    "video/mp4": lambda data: data[4:8] == b"ftyp",
    "model/gltf-binary": lambda data: data[:4] == b"glTF" and len(data) % 4 == 0,
    "application/zip": _is_zip,
    "application/json": lambda data: json.loads(data) is not None,
    "text/plain": lambda data: bool(data.decode("utf-8")),
    "application/octet-stream": bool,
}


def files_in(value: Any) -> Iterator[dict[str, Any]]:
    """Every file object (a dict with a ``url``) inside an output."""
    if isinstance(value, dict):
        if isinstance(value.get("url"), str):
            yield value
        for item in value.values():
            yield from files_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from files_in(item)


def test_the_server_serves_what_the_generator_generates(real_catalogue: RealCatalogue) -> None:
    """The documents the server refuses (fal's error objects, an Input that cannot be built)
    are exactly the endpoints the generator skips; every other one is served."""
    refused = {problem.endpoint_id for problem in real_catalogue.loaded.unavailable}
    served = len(real_catalogue.loaded.documents)
    generated = load_folder(real_catalogue.folder)
    skipped = {p.source.removesuffix(".json") for p in generated.skipped}

    assert served + len(refused) == sum(map(len, real_catalogue.by_category.values()))
    assert refused == skipped and served == len(generated.documents)


def test_every_catalogue_endpoint_answers_with_a_valid_output(
    real_catalogue: RealCatalogue,
) -> None:
    urls = real_catalogue.urls
    invalid: dict[str, Any] = {}
    kinds: dict[str, int] = {}
    with httpx.Client(headers=AUTH, timeout=60) as http:
        for endpoint in Catalog(real_catalogue.loaded.documents):
            # A valid input, made from the document's examples and schema by the server's own
            # synthesiser; the server validates it independently of how it was made.
            model_input = Synthesizer(endpoint, FileStore()).sample(
                endpoint.input_component, urls.cdn
            )
            answer = http.post(f"{urls.run}/{endpoint.endpoint_id}", json=model_input)
            assert answer.status_code == 200, (endpoint.endpoint_id, answer.text[:500])
            output = answer.json()
            problems = sorted(
                error.message for error in output_validator(endpoint.spec).iter_errors(output)
            )
            if problems:
                invalid[endpoint.endpoint_id] = problems[:3]
            for file in files_in(output):
                content_type = check_file(http, urls.cdn, file)
                kinds[content_type] = kinds.get(content_type, 0) + 1

    assert not invalid, invalid
    # Every kind of file the catalogue's outputs hold was served at least once.
    assert set(kinds) >= {
        "image/png",
        "audio/wav",
        "video/mp4",
        "model/gltf-binary",
        "application/zip",
        "application/json",
    }, kinds


def test_sync_mode_inlines_the_same_files_as_data_uris(real_catalogue: RealCatalogue) -> None:
    urls = real_catalogue.urls
    inputs = {}
    for endpoint in Catalog(real_catalogue.loaded.documents):
        sample = Synthesizer(endpoint, FileStore()).sample(endpoint.input_component, urls.cdn)
        synchronous = {**sample, "sync_mode": True}
        # fal's convention is a boolean sync_mode; an endpoint that means something else by the
        # name refuses it, and is left out.
        if not endpoint.input_errors(synchronous):
            inputs[endpoint.endpoint_id] = synchronous
    assert len(inputs) > 100
    with httpx.Client(headers=AUTH, timeout=60) as http:
        for endpoint_id, synchronous in inputs.items():
            answer = http.post(f"{urls.run}/{endpoint_id}", json=synchronous)
            assert answer.status_code == 200, answer.text[:300]
            for file in files_in(answer.json()):
                assert file["url"].startswith("data:")
                check_file(http, urls.cdn, file)


def check_file(http: httpx.Client, cdn: str, file: dict[str, Any]) -> str:
    """Fetch a file of an output (from this server's CDN, never elsewhere, or its data URI),
    check that it is what its content type says, and return that type."""
    url: str = file["url"]
    if url.startswith("data:"):
        header, _, encoded = url.partition(",")
        served, data = (
            header.removeprefix("data:").removesuffix(";base64"),
            base64.b64decode(encoded),
        )
    else:
        assert url.startswith(cdn + "/"), f"{url} is not served by this server"
        response = http.get(url)
        assert response.status_code == 200, url
        served, data = response.headers["content-type"].partition(";")[0], response.content
    assert file.get("content_type", served) == served, file
    assert GENUINE[served](data), file
    return served
