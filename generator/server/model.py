"""The simulated model behind every endpoint: validate the input, maybe fail, produce an output.

Queue, direct run, streaming and realtime all go through here, so an input gets the same checks
and the same output whichever way it arrives. Outputs are deterministic: the generator is seeded
with the server seed, the endpoint and the canonical input.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from .catalog import Endpoint
from .faults import FaultInjector
from .files import FileStore
from .outcomes import MODEL_FAILURE, Outcome, invalid_input, succeeded
from .schemas import detail_item
from .stats import input_digest
from .synthetic_outputs import OutputRequest, Synthesizer


class Model:
    """Runs inputs for all endpoints against their schemas."""

    def __init__(self, files: FileStore, faults: FaultInjector, seed: int) -> None:
        self.files = files
        self.faults = faults
        self.seed = seed
        self._synthesizers: dict[str, Synthesizer] = {}

    def input_problem(self, endpoint: Endpoint, payload: Any) -> Outcome | None:
        """The 422 answer for an invalid input, or None when the input is valid."""
        if not isinstance(payload, dict):
            return invalid_input(
                [detail_item(["body"], "Input should be a valid dictionary", "dict_type", payload)]
            )
        errors = endpoint.input_errors(payload)
        return invalid_input(errors) if errors else None

    async def output(
        self,
        endpoint: Endpoint,
        payload: dict[str, Any],
        cdn_url: str,
        inference_time: float,
        shade: int = 0,
    ) -> dict[str, Any]:
        """The output for a valid input; ``shade`` > 0 makes a stream's intermediate preview.
        Built in a worker thread: large images take a while to encode."""
        synthesizer = self._synthesizers.get(endpoint.endpoint_id)
        if synthesizer is None:
            synthesizer = self._synthesizers[endpoint.endpoint_id] = Synthesizer(
                endpoint, self.files
            )
        request = OutputRequest(
            model_input=endpoint.with_defaults(payload),
            rng=random.Random(
                f"{self.seed}/{endpoint.endpoint_id}/{input_digest(payload)}/{shade}"
            ),
            cdn_url=cdn_url,
            inference_time=inference_time,
            shade=shade,
        )
        return await asyncio.to_thread(synthesizer.output, request)

    async def infer(
        self, endpoint: Endpoint, payload: Any, cdn_url: str, inference_time: float
    ) -> Outcome:
        problem = self.input_problem(endpoint, payload)
        if problem is not None:
            return problem
        if self.faults.model_fails():
            return MODEL_FAILURE
        return succeeded(await self.output(endpoint, payload, cdn_url, inference_time))
