"""Configuration from arguments and environment, context managers, and keeping the key secret."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest

from tests.helpers import GENERATED
from tests.runtime.conftest import KEY


def test_environment_and_argument_precedence() -> None:
    from fal_models import ClientConfig

    env = {
        "FAL_KEY_ID": "id",
        "FAL_KEY_SECRET": "secret",
        "FAL_QUEUE_RUN_HOST": "queue.example",
        "FAL_RUN_URL": "http://run.example/",
        "FAL_REST_URL": "http://rest.example",
    }
    config = ClientConfig.from_env(env, rest_url="http://override/")
    assert config.key == "id:secret"
    assert config.queue_url == "https://queue.example"
    assert config.run_url == "http://run.example"
    assert config.rest_url == "http://override"
    assert config.realtime_url == "wss://fal.run"
    assert (
        ClientConfig.from_env({"FAL_KEY": "k", "FAL_KEY_ID": "i", "FAL_KEY_SECRET": "s"}).key == "k"
    )
    assert ClientConfig.from_env({}).key is None


def test_client_arguments_override_a_given_config() -> None:
    from fal_models import ClientConfig, FalClient

    base = ClientConfig(key=KEY, timeout=5.0, upload_threshold=10)
    with FalClient(config=base, max_retries=2, upload_threshold=0) as client:
        assert (client.config.timeout, client.config.max_retries) == (5.0, 2)
        assert client.config.upload_threshold == 0


def test_invalid_settings_are_rejected() -> None:
    from fal_models import ClientConfig

    with pytest.raises(ValueError):
        ClientConfig(timeout=0).normalised()


def test_one_pool_per_client_closed_by_the_context_manager() -> None:
    from fal_models import FalClient

    with FalClient(key=KEY) as client:
        assert client.flux_1_schnell._client is client
        assert client.storage._client is client
        http = client.http
    assert http.is_closed


def test_injected_http_clients_stay_open() -> None:
    from fal_models import FalClient

    http = httpx.Client()
    with FalClient(key=KEY, http_client=http) as client:
        assert client.http is http
    assert not http.is_closed
    http.close()


@pytest.mark.anyio
async def test_async_context_manager_closes_the_pool() -> None:
    from fal_models import AsyncFalClient

    async with AsyncFalClient(key=KEY) as client:
        http = client.http
    assert http.is_closed


def test_the_key_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    from fal_models import APIConnectionError, ClientConfig, FalClient

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused {request.headers}")  # worst case: headers in the text

    http = httpx.Client(transport=httpx.MockTransport(refuse))
    with FalClient(key=KEY, max_retries=0, http_client=http) as client:
        handle = client.flux_1_schnell.handle("r-1")
        realtime = client.fast_lcm_diffusion.realtime()
        shown: list[Any] = [client, client.config, ClientConfig(key=KEY), handle, realtime]
        shown += [client.flux_1_schnell, client.storage]
        for item in shown:
            assert KEY not in repr(item) and KEY not in str(item)
        with pytest.raises(APIConnectionError) as failure:
            handle.status()
    assert KEY not in str(failure.value) and KEY not in repr(failure.value)


def test_importing_the_runtime_leaves_optional_packages_unloaded() -> None:
    code = (
        "import sys, fal_models\n"
        "assert 'httpx' not in sys.modules, 'the package import stays lazy'\n"
        "client = fal_models.FalClient(key='k')\n"
        "client.flux_1_schnell, client.fast_lcm_diffusion, client.hidream_i1_full\n"
        "heavy = {'httpx_sse', 'websockets', 'msgpack', 'cryptography'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=GENERATED, check=True)


def test_with_options_shares_the_pool() -> None:
    from fal_models import FalClient

    with FalClient(key=KEY, timeout=30) as client:
        quick = client.with_options(timeout=2.0, max_retries=0)
        assert isinstance(quick, FalClient) and quick.http is client.http
        assert (quick.config.timeout, quick.config.max_retries, quick.config.key) == (2.0, 0, KEY)
        assert client.config.timeout == 30
        quick.close()
        assert not client.http.is_closed, "the clone does not own the pool"


def test_unknown_keyword_arguments_are_rejected() -> None:
    from fal_models import FalClient

    with FalClient(key=KEY) as client:
        with pytest.raises(TypeError, match="'promt'"):
            client.flux_1_schnell(prompt="p", promt="a typo")  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="'webhook_url'"):
            client.flux_1_schnell.run(prompt="p", webhook_url="https://hook")  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="'on_enqueue'"):
            client.flux_1_schnell.submit(prompt="p", on_enqueue=print)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="'framing_'"):
            client.fast_lcm_diffusion.realtime(framing_="json")  # type: ignore[call-arg]
