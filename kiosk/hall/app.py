"""The hall's FastAPI application: settings, one connection pool, the live-event listener,
the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import OperationalError
from psycopg_pool import PoolTimeout

from kiosk.hall.api import routers
from kiosk.hall.db import make_pool
from kiosk.hall.settings import HallSettings


def create_app(settings: HallSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = make_pool(settings.dsn, max_size=settings.pool_max)
        from kiosk.hall.events import EventHub

        hub = EventHub(settings.dsn)
        app.state.events = hub
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
            app.state.pool.close()

    app = FastAPI(title="Shanghai kiosk hall", version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    for router in routers():
        app.include_router(router)

    @app.exception_handler(HTTPException)
    async def refused(request: Request, exc: HTTPException) -> JSONResponse:
        # One shape for every refusal, the routes' own and the app's: {"error", "message",
        # ...} at the top level, not FastAPI's {"detail": ...} wrapper.
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

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
