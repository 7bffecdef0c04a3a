"""First use is cheap: a client that builds and validates a request imports neither httpx nor
the modules that need it, and makes its connection pool (TLS set-up) only when it sends."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

from tests.helpers import GENERATED
from tests.runtime.conftest import KEY

FIRST_USE = """
import json, sys
from fal_models import FalClient, ValidationError
client = FalClient(key="k")
endpoint = client.flux_1_schnell
endpoint._validated(endpoint._arguments({"prompt": "a fox", "num_images": 2}))
try:
    endpoint(prompt=3)
except ValidationError:
    pass
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in ("httpx",
    "httpcore") or name.startswith("fal_models._runtime._"))))
"""


def test_building_and_validating_a_request_loads_no_http_stack() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_USE],
        env={"PYTHONPATH": str(GENERATED)},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(done.stdout)
    assert not [name for name in loaded if name.startswith(("httpx", "httpcore"))], loaded
    for lazy in ("_http", "_realtime", "_storage", "_webhooks"):
        assert f"fal_models._runtime.{lazy}" not in loaded


def test_the_pool_is_made_once_when_first_needed() -> None:
    from fal_models import FalClient

    unused = FalClient(key=KEY)
    unused.close()
    assert unused._pool is None, "closing a client that never sent makes no pool"
    client = FalClient(key=KEY)
    pools: list[object] = []
    threads = [threading.Thread(target=lambda: pools.append(client.http)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(pool) for pool in pools}) == 1 and pools[0] is client.http
    client.close()
    assert client.http.is_closed


FIRST_REQUEST = """
import json, sys
import httpx
from fal_models import FalClient

def queue(request):
    return httpx.Response(200, json={"request_id": "r"})

client = FalClient(key="k", http_client=httpx.Client(transport=httpx.MockTransport(queue)))
client.flux_1_schnell.submit(prompt="a lighthouse")
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] == "asyncio")))
"""


def test_a_sync_clients_first_request_loads_no_asyncio() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST],
        env={"PYTHONPATH": str(GENERATED)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == []
