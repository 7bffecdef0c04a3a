"""The direct-run host: synchronous runs and streamed runs."""

from __future__ import annotations

import httpx
from httpx_sse import connect_sse

from generator.loader import SpecDocument
from generator.server import ServerURLs
from tests.server.support import FLUX, output_validator

STREAMING = "fal-ai/hidream-i1-fast"


def test_run_answers_with_the_output(
    server: ServerURLs, client: httpx.Client, specs_by_id: dict[str, SpecDocument]
) -> None:
    response = client.post(f"{server.run}/{FLUX}", json={"prompt": "a heron", "seed": 3})

    assert response.status_code == 200
    output = response.json()
    output_validator(specs_by_id[FLUX]).validate(output)
    assert (output["prompt"], output["seed"]) == ("a heron", 3)


def test_an_overlay_is_applied_to_what_is_served(
    server: ServerURLs, client: httpx.Client, specs_by_id: dict[str, SpecDocument]
) -> None:
    """fal publishes hidream-i1-full's Output empty; its overlay restores it: the output is made
    from (and checked against) the overlaid document."""
    spec = specs_by_id["fal-ai/hidream-i1-full"]
    assert spec.original["components"]["schemas"][spec.output_schema] == {}

    response = client.post(f"{server.run}/fal-ai/hidream-i1-full", json={"prompt": "a heron"})

    assert response.status_code == 200
    output = response.json()
    output_validator(spec).validate(output)
    assert set(output) >= {"images", "seed", "prompt"} and output["images"][0]["url"]


def test_run_rejects_invalid_input_with_fal_style_detail(
    server: ServerURLs, client: httpx.Client
) -> None:
    response = client.post(
        f"{server.run}/{FLUX}",
        json={"prompt": "x", "num_inference_steps": "four", "output_format": "gif"},
    )

    assert response.status_code == 422
    detail = response.json()["detail"]
    by_field = {tuple(item["loc"]): item for item in detail}
    assert set(by_field) == {("body", "num_inference_steps"), ("body", "output_format")}
    for item in detail:
        assert {"loc", "msg", "type", "url", "input"} <= set(item)
    assert by_field[("body", "num_inference_steps")]["type"] == "int_type"
    assert by_field[("body", "output_format")]["type"] == "enum"
    assert by_field[("body", "output_format")]["input"] == "gif"


def test_nested_and_ranged_fields_are_located(server: ServerURLs, client: httpx.Client) -> None:
    response = client.post(
        f"{server.run}/fal-ai/hidream-i1-full",
        json={"prompt": "x", "image_size": {"width": "wide"}, "loras": [{"scale": 1}]},
    )

    locations = {tuple(item["loc"]) for item in response.json()["detail"]}
    assert ("body", "loras", 0, "path") in locations
    assert any(loc[:2] == ("body", "image_size") for loc in locations)


def test_stream_sends_previews_then_the_final_output(
    server: ServerURLs, client: httpx.Client, specs_by_id: dict[str, SpecDocument]
) -> None:
    validator = output_validator(specs_by_id[STREAMING])

    with connect_sse(
        client, "POST", f"{server.run}/{STREAMING}/stream", json={"prompt": "rain", "seed": 9}
    ) as sse:
        assert sse.response.headers["content-type"].startswith("text/event-stream")
        events = [event.json() for event in sse.iter_sse()]

    assert len(events) == 3  # one preview per progress step, then the final output
    for event in events:
        validator.validate(event)
    assert len({event["images"][0]["url"] for event in events}) == 3
    final = client.post(f"{server.run}/{STREAMING}", json={"prompt": "rain", "seed": 9}).json()
    assert events[-1] == final


def test_stream_of_an_endpoint_without_streaming_is_not_found(
    server: ServerURLs, client: httpx.Client
) -> None:
    response = client.post(f"{server.run}/{FLUX}/stream", json={"prompt": "x"})

    assert response.status_code == 404


def test_stream_rejects_invalid_input_before_streaming(
    server: ServerURLs, client: httpx.Client
) -> None:
    response = client.post(f"{server.run}/{STREAMING}/stream", json={})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "prompt"]


def test_unknown_endpoint_is_not_found(server: ServerURLs, client: httpx.Client) -> None:
    assert client.post(f"{server.run}/fal-ai/unknown", json={}).status_code == 404
