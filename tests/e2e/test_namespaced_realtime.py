"""Realtime for namespaced apps (``workflows/<owner>/<alias>/...``): the token is scoped to the
alias, as fal's own client scopes it, and the local server accepts nothing else."""

from __future__ import annotations

from pathlib import Path

import pydantic

from generator.loader import load_specs
from generator.server import ServerConfig, running_server
from tests.e2e.conftest import KEY, client_options
from tests.helpers import make_spec, write_spec

ENDPOINT_ID = "workflows/someone/my-flow/run"


class FlowInput(pydantic.BaseModel):
    prompt: str


class FlowOutput(pydantic.BaseModel):
    seed: int | None = None


def test_a_namespaced_app_gets_a_token_for_its_alias(tmp_path: Path) -> None:
    from fal_models import FalClient
    from fal_models._runtime import SyncEndpoint, SyncRealtime

    spec = make_spec(ENDPOINT_ID, {"prompt": {"type": "string"}}, capabilities=["realtime"])
    write_spec(tmp_path, spec)

    class Flow(SyncEndpoint[FlowInput, FlowOutput]):
        endpoint_id = ENDPOINT_ID
        app_id = "workflows/someone/my-flow"
        input_model = FlowInput
        output_model = FlowOutput

    config = ServerConfig(accepted_keys=frozenset({KEY}))
    with (
        running_server(load_specs(tmp_path), config) as urls,
        FalClient(**client_options(urls)) as client,
        SyncRealtime(Flow(client), {}) as connection,
    ):
        connection.send_input(FlowInput(prompt="a cat"))
        assert isinstance(connection.recv(timeout=5), FlowOutput)
