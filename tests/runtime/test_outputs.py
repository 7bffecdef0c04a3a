"""Partial outputs of streams and realtime connections."""

from __future__ import annotations

import pytest


def test_complete_data_validates_strictly() -> None:
    from fal_models._runtime._outputs import partial_output
    from fal_models.endpoints.flux_1_schnell import Flux1SchnellOutput

    data = {
        "images": [{"url": "u", "width": 1, "height": 2}],
        "timings": {"a": 1.0},
        "seed": 3,
        "has_nsfw_concepts": [],
        "prompt": "p",
    }
    output = partial_output(Flux1SchnellOutput, data)
    assert output.model_fields_set == set(data)
    assert output.images[0].height == 2


def test_partial_data_keeps_the_valid_fields_typed() -> None:
    from fal_models._runtime._outputs import partial_output
    from fal_models.endpoints.flux_1_schnell import Flux1SchnellOutput, Image

    output = partial_output(
        Flux1SchnellOutput, {"images": [{"url": "u", "width": 1, "height": 2}], "seed": "bad"}
    )
    assert output.model_fields_set == {"images"}
    assert isinstance(output.images[0], Image)
    with pytest.raises(AttributeError):
        output.seed  # noqa: B018 (not yet known)


def test_non_objects_are_errors() -> None:
    from fal_models import APIError
    from fal_models._runtime._outputs import partial_output
    from fal_models.endpoints.flux_1_schnell import Flux1SchnellOutput

    with pytest.raises(APIError):
        partial_output(Flux1SchnellOutput, [1, 2])


def test_stream_events() -> None:
    from fal_models import APIError
    from fal_models._runtime._endpoint import stream_event
    from fal_models.endpoints.flux_1_schnell import Flux1SchnellOutput

    assert stream_event(Flux1SchnellOutput, "message", "  ") is None
    partial = stream_event(Flux1SchnellOutput, "message", '{"seed": 5}')
    assert partial is not None and partial.seed == 5
    with pytest.raises(APIError, match="overloaded"):
        stream_event(Flux1SchnellOutput, "error", '{"detail": "overloaded"}')
    with pytest.raises(APIError, match="not JSON"):
        stream_event(Flux1SchnellOutput, "message", "{oops")
