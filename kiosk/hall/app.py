"""The hall's FastAPI application: settings, one connection pool, the live-event listener,
the routers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import DataError, OperationalError
from psycopg_pool import PoolTimeout
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.hall.api import routers
from kiosk.hall.api.deps import HallError
from kiosk.hall.db import make_pool
from kiosk.hall.settings import HallSettings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 512 * 1024
"""The largest request body the hall reads. The largest honest one, an application with
every field at its longest in Chinese sent as \\u escapes, is under 200 KB; without a limit
a client could make the server hold any amount in memory before validation refuses it."""

_TOO_LARGE = ("too_large", "请求内容过大。",
              f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.")


class BodyLimit:
    """Refuses a body over `limit` bytes before any route reads it: at once when its
    Content-Length says so, else (a chunked body) as soon as what arrived passes the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            refusal = HallError(413, *_TOO_LARGE)
            await JSONResponse(status_code=413, content=refusal.detail)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # An HTTPException, which FastAPI lets through its body parsing.
                    raise HallError(413, *_TOO_LARGE)
            return message

        await self.app(scope, counted, send)


def create_app(settings: HallSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Worker threads for the (blocking) routes: as many as there are connections to
        # use, not anyio's 40, whose surplus threads only fight over the GIL while they wait
        # for a connection (measured: docs/PERFORMANCE.md, the hall under load).
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = settings.pool_max
        app.state.pool = make_pool(settings.dsn, max_size=settings.pool_max)
        app.state.read_pool = make_pool(settings.dsn, max_size=settings.pool_max,
                                        autocommit=True)
        from kiosk.hall.events import EventHub

        hub = EventHub(settings.dsn)
        app.state.events = hub
        await hub.start()
        metrics = app.state.metrics
        sampler = (asyncio.create_task(metrics.sample_pools_forever(app.state))
                   if metrics is not None else None)
        try:
            yield
        finally:
            if sampler is not None:
                sampler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampler
                metrics.process_ended()
            await hub.stop()
            app.state.pool.close()
            app.state.read_pool.close()

    app = FastAPI(title="Shanghai kiosk hall", version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.state.metrics = None
    if settings.metrics_token:
        # After BodyLimit, so outside it: a body refused for its size is counted too.
        from kiosk.hall.metrics import install as install_metrics

        app.state.metrics = install_metrics(app, settings)
    for router in routers():
        app.include_router(router)
    from kiosk.hall.api.pages import mount_static

    mount_static(app)

    @app.exception_handler(HTTPException)
    async def refused(request: Request, exc: HTTPException) -> JSONResponse:
        # One shape for every refusal, the routes' own and the app's: {"error", "message",
        # ...} at the top level, not FastAPI's {"detail": ...} wrapper.
        # Starlette's class, so that routing's 404 and 405 and FastAPI's unreadable body
        # (400) have the shape too, not only HallError and fastapi.HTTPException.
        detail: object = exc.detail  # typed str, but HallError puts a dict there
        body = detail if isinstance(detail, dict) else {
            "error": "http_" + str(exc.status_code),
            "message": {"zh": "请求无法处理。", "en": str(exc.detail)}}
        return JSONResponse(status_code=exc.status_code, content=body, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The fields that failed, never the values sent (they may be a resident's data).
        fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()]
        return JSONResponse(status_code=422, content={
            "error": "invalid_request", "fields": fields,
            "message": {"zh": "请求格式不正确。", "en": "The request is malformed."}})

    # No connection within the pool's timeout, or the one lent died mid-transaction
    # (PostgreSQL restarting, failing over): the transaction did not commit, so the caller
    # retries with the same key and nothing is done twice.
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(OperationalError)
    async def busy(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=503, headers={"Retry-After": "2"}, content={
            "error": "database_unavailable",
            "message": {"zh": "排队系统数据库暂时不可用，请稍后重试。",
                        "en": "The hall's database is unavailable; try again shortly."}})

    # A value PostgreSQL refuses to store or compare (a NUL character in a text, a number
    # out of range) came from the request; its transaction rolled back.
    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> JSONResponse:
        # The class and SQLSTATE only: the message may quote the value, a resident's data.
        log.warning("refused a value the database cannot take on %s %s: %s (%s)",
                    request.method, request.url.path, type(exc).__name__, exc.sqlstate)
        return JSONResponse(status_code=422, content={
            "error": "invalid_request", "fields": [],
            "message": {"zh": "请求中含有无法保存的字符或数值。",
                        "en": "The request holds a character or a number the hall cannot "
                              "store."}})

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
