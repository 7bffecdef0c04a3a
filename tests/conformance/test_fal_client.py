"""fal's official Python client (fal-client) against ``falgen serve``: the conformance test of the
local server. Every operation of fal-client succeeds: submit, status with logs, events, result
(also re-attached by id), cancel, subscribe, run, stream, upload (single, through
``storage/upload/initiate``, and in parts), realtime (token and key) and the async client.

How fal-client is pointed at the server, as close to a user's setup as it allows:

- TLS: fal-client only speaks https/wss. The server presents a certificate of a throwaway CA
  (trustme), which the client trusts through ``SSL_CERT_FILE``, as bench/runtime.py does.
- Queue and run hosts: ``FAL_QUEUE_RUN_HOST`` and ``FAL_RUN_HOST``, its documented settings.
  fal-client builds ``https://<host>/<endpoint id>``, so the hosts carry the server's path
  prefixes (``127.0.0.1:PORT/queue``); realtime goes to ``wss://<FAL_RUN_HOST>/<app>/realtime``,
  which the server accepts on its run prefix as fal.run does.
- REST and CDN hosts: fal-client has no setting for them (the module constants ``REST_URL`` and
  ``CDN_URL`` in fal_client/client.py are fixed to https://rest.fal.ai and https://v3.fal.media),
  so the realtime token, the storage token, ``storage/upload/initiate`` and CDN uploads could not
  reach any other server. The driver sets those two constants; nothing else of fal-client is
  changed. (Multipart: fal-client splits only files above 100 MiB; the driver lowers that
  threshold and the part size, see fal_client_driver.py, instead of uploading 100 MiB.)

Not exercised because fal-client does not do it: the status *stream* (fal-client's Python
``iter_events`` polls ``/status``; the stream is tested with the generated client and with
httpx in tests/server).
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from generator.loader import SpecDocument, load_specs
from generator.server import ServerConfig, ServerURLs, running_server
from tests.server.support import ROOT, SPECS_DIR, output_validator

pytest.importorskip("fal_client", reason="fal-client (the test extra) is not installed")
pytest.importorskip("trustme", reason="trustme (the test extra) is not installed")

KEY = "conformance-key-3e8a1f"
FLUX = "fal-ai/flux-1/schnell"
STREAMING = "fal-ai/hidream-i1-full"
REALTIME = "fal-ai/fast-lcm-diffusion"
LOGS = ["Step 1/2", "Step 2/2"]


@dataclass(frozen=True)
class Served:
    urls: ServerURLs
    ca: Path
    specs: dict[str, SpecDocument]

    def http(self) -> httpx.Client:
        return httpx.Client(verify=ssl.create_default_context(cafile=str(self.ca)), timeout=10)

    def validator(self, endpoint_id: str) -> Draft202012Validator:
        return output_validator(self.specs[endpoint_id])

    def stats(self) -> dict[str, Any]:
        with self.http() as http:
            body: dict[str, Any] = http.get(
                self.urls.admin + "/stats", headers=self.urls.admin_headers
            ).json()
        return body


@pytest.fixture(scope="module")
def served(certificates: tuple[Path, Path, Path]) -> Iterator[Served]:
    specs = load_specs(SPECS_DIR)
    ca_path, cert, key = certificates
    # A visible wait in the queue, so that a cancel arrives while the request waits.
    config = ServerConfig(
        accepted_keys=frozenset({KEY}), queue_delay=0.3, progress_steps=2, step_delay=0.05
    )
    with running_server(specs, config, ssl_certfile=cert, ssl_keyfile=key) as urls:
        yield Served(urls, ca_path, {spec.endpoint_id: spec for spec in specs})


def drive(served: Served, operation: str) -> dict[str, Any]:
    """Run one operation of fal-client in a fresh interpreter configured for the server."""
    host = served.urls.base.removeprefix("https://")
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("FAL")},
        "FAL_KEY": KEY,
        "FAL_QUEUE_RUN_HOST": f"{host}/queue",
        "FAL_RUN_HOST": f"{host}/run",
        "SSL_CERT_FILE": str(served.ca),
        "FALGEN_REST_URL": served.urls.rest,
        "FALGEN_CDN_URL": served.urls.cdn,
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.conformance.fal_client_driver", operation],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def assert_valid(served: Served, endpoint_id: str, output: Any) -> None:
    problems = [error.message for error in served.validator(endpoint_id).iter_errors(output)]
    assert not problems, problems


def test_submit(served: Served) -> None:
    report = drive(served, "submit")

    record = served.stats()["requests"][report["request_id"]]
    assert record["endpoint_id"] == FLUX
    assert report["status_url"].startswith(f"{served.urls.queue}/fal-ai/flux-1/requests/")


def test_status_with_logs(served: Served) -> None:
    statuses = drive(served, "status")["statuses"]

    kinds = [status["type"] for status in statuses]
    assert kinds[0] == "Queued" and kinds[-1] == "Completed"
    assert "InProgress" in kinds
    assert [log["message"] for log in statuses[-1]["logs"]] == LOGS
    assert set(statuses[-1]["logs"][0]) == {"message", "level", "source", "timestamp"}
    assert statuses[-1]["metrics"]["inference_time"] > 0


def test_events(served: Served) -> None:
    events = drive(served, "events")["events"]

    assert events[-1]["type"] == "Completed"
    assert [log["message"] for log in events[-1]["logs"]] == LOGS
    assert all(event["type"] != "Completed" for event in events[:-1])


def test_result_also_by_request_id(served: Served) -> None:
    report = drive(served, "result")

    assert_valid(served, FLUX, report["output"])
    assert report["by_id"] == report["output"]
    with served.http() as http:
        image = http.get(report["output"]["images"][0]["url"])
    assert image.content.startswith(b"\x89PNG")


def test_cancel(served: Served) -> None:
    report = drive(served, "cancel")

    assert report["final"]["type"] == "Completed"
    assert report["final"]["error"] == "Request was cancelled"
    assert report["result_status"] == 499


def test_subscribe(served: Served) -> None:
    report = drive(served, "subscribe")

    assert_valid(served, FLUX, report["output"])
    assert len(report["enqueued"]) == 1
    kinds = [update["type"] for update in report["updates"]]
    assert kinds[0] == "Queued" and "InProgress" in kinds


def test_run(served: Served) -> None:
    output = drive(served, "run")["output"]

    assert_valid(served, FLUX, output)
    assert output["prompt"] == "a lighthouse"


def test_stream(served: Served) -> None:
    events = drive(served, "stream")["events"]

    assert len(events) >= 2
    for event in events:
        assert_valid(served, STREAMING, event)


@pytest.mark.parametrize("operation", ["upload", "multipart_upload"])
def test_upload(served: Served, operation: str) -> None:
    before = served.stats()["routes"]
    report = drive(served, operation)
    after = served.stats()["routes"]

    data = bytes.fromhex(report.pop("data"))
    urls = list(report.values())
    with served.http() as http:
        for url in urls:
            assert url.startswith(served.urls.cdn + "/files/")
            assert http.get(url).content == data
    if operation == "upload":  # one of the two went through storage/upload/initiate
        assert after["upload_initiate"] == before.get("upload_initiate", 0) + 1


def test_realtime(served: Served) -> None:
    outputs = drive(served, "realtime")["outputs"]

    assert [output["prompt"] for output in outputs] == [
        "a lighthouse",
        "a lighthouse at night",
        "by key",
    ]
    for output in outputs:
        assert_valid(served, REALTIME, output)


def test_async_client(served: Served) -> None:
    report = drive(served, "async_client")

    assert [output["seed"] for output in report["outputs"]] == [0, 1, 2]
    with served.http() as http:
        assert http.get(report["url"]).content == bytes.fromhex(report["data"])
