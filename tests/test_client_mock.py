"""Each endpoint of the committed package, called through ``httpx.MockTransport``: the request
the client sends (URL, key, body without unset fields) and the typed output it returns."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from generator.ir import Endpoint
from generator.loader import SpecDocument, load_specs
from generator.pipeline import load_package
from tests.helpers import SPECS, calling, sample

KEY = "mock-key-0c7e51a9"
SPEC_DOCUMENTS = {spec.endpoint_id: spec for spec in load_specs(SPECS)}
ENDPOINTS = load_package(SPECS).endpoints


def output_for(spec: SpecDocument) -> dict[str, Any]:
    """A valid result body: the Output schema's required fields."""
    value: dict[str, Any] = sample(spec.schemas[spec.output_schema], spec.schemas)
    return value


class FakeQueue:
    """Answers the four queue calls the way fal does, recording every request."""

    def __init__(self, spec: SpecDocument) -> None:
        self.output = output_for(spec)
        self.requests: list[httpx.Request] = []
        app = "/".join(spec.endpoint_id.split("/")[:2])
        self.base = f"https://queue.fal.run/{app}/requests/r-1"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST":
            return httpx.Response(
                200,
                json={
                    "request_id": "r-1",
                    "status_url": f"{self.base}/status",
                    "response_url": self.base,
                    "cancel_url": f"{self.base}/cancel",
                },
            )
        if request.url.path.endswith("/status/stream"):
            event = json.dumps({"status": "COMPLETED", "logs": [], "metrics": {}})
            return httpx.Response(
                200, text=f"data: {event}\n\n", headers={"content-type": "text/event-stream"}
            )
        return httpx.Response(200, json=self.output)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.endpoint_id)
def test_each_endpoint_sends_its_arguments_and_parses_the_output(endpoint: Endpoint) -> None:
    from fal_models import FalClient

    spec = SPEC_DOCUMENTS[endpoint.endpoint_id]
    fake = FakeQueue(spec)
    # The page's example request, which leaves many optional fields unset.
    body = endpoint.example_input or sample(spec.schemas[spec.input_schema], spec.schemas)
    params = {field.name: field.param for field in endpoint.input.fields}
    with (
        FalClient(key=KEY, http_client=httpx.Client(transport=httpx.MockTransport(fake))) as fal,
        calling(endpoint),
    ):
        output = getattr(fal, endpoint.attribute)(**{params[k]: v for k, v in body.items()})

    submit, stream, result = fake.requests
    assert (submit.method, str(submit.url)) == (
        "POST",
        f"https://queue.fal.run/{endpoint.endpoint_id}",
    )
    assert submit.headers["Authorization"] == f"Key {KEY}"
    assert json.loads(submit.content) == body
    assert stream.url.path == f"{fake.base.removeprefix('https://queue.fal.run')}/status/stream"
    assert (result.method, str(result.url)) == ("GET", fake.base)
    assert all(request.headers["Authorization"] == f"Key {KEY}" for request in fake.requests)
    assert type(output).__name__ == endpoint.output.class_name
    assert output.model_dump(mode="json", exclude_unset=True) == fake.output


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.endpoint_id)
def test_each_endpoint_rejects_a_missing_or_wrong_field_before_any_request(
    endpoint: Endpoint,
) -> None:
    from fal_models import FalClient, ValidationError

    spec = SPEC_DOCUMENTS[endpoint.endpoint_id]
    fake = FakeQueue(spec)
    required = [field for field in endpoint.input.fields if not field.optional]
    assert required, "every seed endpoint has a required field"
    wrong = {field.param: object() for field in required}
    with (
        FalClient(key=KEY, http_client=httpx.Client(transport=httpx.MockTransport(fake))) as fal,
        pytest.raises(ValidationError) as caught,
        calling(endpoint),
    ):
        getattr(fal, endpoint.attribute)(**wrong)
    assert {error.path for error in caught.value.errors} >= {field.name for field in required}
    assert fake.requests == []


def test_options_given_as_none_are_not_sent() -> None:
    """``submit(..., webhook_url=None)``: None means "not given", as for fal-client."""
    from fal_models import FalClient

    fake = FakeQueue(SPEC_DOCUMENTS["fal-ai/flux-1/schnell"])
    with FalClient(key=KEY, http_client=httpx.Client(transport=httpx.MockTransport(fake))) as fal:
        fal.flux_1_schnell.submit(
            prompt="a fox", webhook_url=None, priority=None, start_timeout=None, hint=None
        )
        fal.flux_1_schnell(prompt="a fox", timeout=None, on_queue_update=None, with_logs=None)
    for submit in (fake.requests[0], fake.requests[1]):
        assert submit.method == "POST"
        assert submit.url.params == httpx.QueryParams()
        assert not [name for name in submit.headers if name.lower().startswith("x-fal")]
