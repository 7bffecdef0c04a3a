"""Drive fal's official Python client (fal-client) through one operation; print a JSON report.

Run in a fresh interpreter (``python -m tests.conformance.fal_client_driver OPERATION``) by
test_fal_client.py, because fal-client reads its hosts from the environment when it is imported.
It is configured as a user configures it, with two exceptions that fal-client offers no setting
for (the test's docstring says why each is needed):

- the REST and CDN hosts are module constants (``fal_client.client.REST_URL`` and ``CDN_URL``,
  https://rest.fal.ai and https://v3.fal.media): the driver points them at the local server;
- fal-client uploads in parts only above 100 MiB (``MULTIPART_THRESHOLD``, in parts of
  ``MULTIPART_CHUNK_SIZE``): the multipart operation lowers both rather than send 100 MiB.

Environment: FAL_KEY, FAL_QUEUE_RUN_HOST, FAL_RUN_HOST and SSL_CERT_FILE as for any user, plus
FALGEN_REST_URL and FALGEN_CDN_URL for the two constants.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import fal_client
import fal_client.client

fal_client.client.REST_URL = os.environ["FALGEN_REST_URL"]
fal_client.client.CDN_URL = os.environ["FALGEN_CDN_URL"]

FLUX = "fal-ai/flux-1/schnell"
STREAMING = "fal-ai/hidream-i1-full"
REALTIME = "fal-ai/fast-lcm-diffusion"
ARGUMENTS: dict[str, Any] = {"prompt": "a lighthouse", "image_size": {"width": 64, "height": 64}}
DEADLINE = 30.0  # seconds for a request to complete
UPLOADED = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def status(value: fal_client.Status) -> dict[str, Any]:
    """A status as JSON: its class name and fields."""
    assert dataclasses.is_dataclass(value)
    return {"type": type(value).__name__, **dataclasses.asdict(value)}


def submit() -> dict[str, Any]:
    handle = fal_client.submit(FLUX, ARGUMENTS)
    return {
        "request_id": handle.request_id,
        "status_url": handle.status_url,
        "response_url": handle.response_url,
    }


def polled_status() -> dict[str, Any]:
    handle = fal_client.submit(FLUX, ARGUMENTS)
    statuses = [status(handle.status(with_logs=True))]
    deadline = time.monotonic() + DEADLINE
    while statuses[-1]["type"] != "Completed" and time.monotonic() < deadline:
        time.sleep(0.02)
        statuses.append(status(handle.status(with_logs=True)))
    return {"statuses": statuses}


def events() -> dict[str, Any]:
    handle = fal_client.submit(FLUX, ARGUMENTS)
    return {"events": [status(event) for event in handle.iter_events(with_logs=True)]}


def result() -> dict[str, Any]:
    handle = fal_client.submit(FLUX, ARGUMENTS)
    output = handle.get()
    again = fal_client.result(FLUX, handle.request_id)  # re-attached by id
    return {"request_id": handle.request_id, "output": output, "by_id": again}


def cancel() -> dict[str, Any]:
    handle = fal_client.submit(FLUX, ARGUMENTS)
    handle.cancel()  # raises unless the server accepted it
    final = next(event for event in handle.iter_events() if type(event).__name__ == "Completed")
    try:
        handle.get()
    except fal_client.client.FalClientHTTPError as error:
        return {"final": status(final), "result_status": error.status_code}
    return {"final": status(final), "result_status": 200}


def subscribe() -> dict[str, Any]:
    updates: list[dict[str, Any]] = []
    enqueued: list[str] = []
    output = fal_client.subscribe(
        FLUX,
        ARGUMENTS,
        with_logs=True,
        on_enqueue=enqueued.append,
        on_queue_update=lambda update: updates.append(status(update)),
    )
    return {"output": output, "updates": updates, "enqueued": enqueued}


def run() -> dict[str, Any]:
    return {"output": fal_client.run(FLUX, ARGUMENTS)}


def stream() -> dict[str, Any]:
    return {"events": list(fal_client.stream(STREAMING, {"prompt": "a lighthouse"}))}


def upload() -> dict[str, Any]:
    return {
        "data": UPLOADED.hex(),
        # fal-client's default: a storage token, then the CDN.
        "cdn": fal_client.upload(UPLOADED, "image/png", "sketch.png"),
        # The other repository: REST storage/upload/initiate, then a PUT to the presigned URL.
        "initiated": fal_client.upload(UPLOADED, "image/png", "sketch.png", repository="fal"),
    }


def multipart_upload() -> dict[str, Any]:
    fal_client.client.MULTIPART_THRESHOLD = 1024
    fal_client.client.MULTIPART_CHUNK_SIZE = 4096
    return {"data": UPLOADED.hex(), "url": fal_client.upload(UPLOADED, "image/png", "big.png")}


def realtime() -> dict[str, Any]:
    outputs = []
    with fal_client.realtime(REALTIME) as connection:  # with a token from the REST host
        for prompt in ("a lighthouse", "a lighthouse at night"):
            connection.send({"prompt": prompt})
            outputs.append(connection.recv())
    with fal_client.realtime(REALTIME, use_jwt=False) as connection:  # with the key header
        connection.send({"prompt": "by key"})
        outputs.append(connection.recv())
    return {"outputs": outputs}


def async_client() -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        client = fal_client.AsyncClient()
        outputs = await asyncio.gather(
            *(client.subscribe(FLUX, {**ARGUMENTS, "seed": seed}) for seed in range(3))
        )
        url = await client.upload(UPLOADED, "image/png", "async.png")
        return {"outputs": outputs, "url": url, "data": UPLOADED.hex()}

    return asyncio.run(main())


OPERATIONS: dict[str, Callable[[], dict[str, Any]]] = {
    "submit": submit,
    "status": polled_status,
    "events": events,
    "result": result,
    "cancel": cancel,
    "subscribe": subscribe,
    "run": run,
    "stream": stream,
    "upload": upload,
    "multipart_upload": multipart_upload,
    "realtime": realtime,
    "async_client": async_client,
}

if __name__ == "__main__":
    print(json.dumps(OPERATIONS[sys.argv[1]]()))
