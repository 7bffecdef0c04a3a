"""The Platform API host (api.fal.ai): the model catalogue, ``GET /v1/models``.

The key is optional, as on fal (it only raises rate limits there); one that is sent must be
valid. Errors, injected faults included, come in the Platform API's shape.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..context import ServerContext
from ..model_search import ModelQuery, QueryError, search
from ..outcomes import platform_error
from ..urls import API_PREFIX, MODELS_PATH

REPEATABLE = ("endpoint_id", "expand")


def routes(ctx: ServerContext) -> list[BaseRoute]:
    async def models(request: Request) -> Response:
        params = request.query_params
        try:
            query = ModelQuery.parse(params, {name: params.getlist(name) for name in REPEATABLE})
            return JSONResponse(search(ctx.catalog.listings, query))
        except QueryError as problem:
            return platform_error(problem.status, problem.message)

    return [
        Route(
            API_PREFIX + MODELS_PATH,
            ctx.route("models", models, "optional_key", platform_error),
            methods=["GET"],
        )
    ]
