"""The hall's pages and their files. A page carries no data: it reads the API with its own
credential (a staff session, a board's device token, or, on a resident's phone, the
unguessable ticket or application id in its address)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from kiosk.hall.web import STATIC

router = APIRouter(tags=["pages"], include_in_schema=False)

TICKET_ID = r"^[A-Za-z0-9_-]{8,64}$"
PUBLIC_ID = r"^[A-Za-z0-9_-]{16,32}$"

# Only the hall's own files run or load; an address with a ticket id is not sent to any
# other site (Referrer-Policy); no page may be framed by another site.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # A page holds no data, but a phone's page names a ticket: no shared cache keeps it.
    "Cache-Control": "no-store",
}


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html; charset=utf-8",
                        headers=SECURITY_HEADERS)


@router.get("/counter")
def counter_page() -> FileResponse:
    return _page("counter.html")


@router.get("/board")
def board_page() -> FileResponse:
    return _page("board.html")


@router.get("/console")
def console_page() -> FileResponse:
    return _page("console.html")


@router.get("/t/{ticket_id}")
def ticket_page(ticket_id: Annotated[str, Path(pattern=TICKET_ID)]) -> FileResponse:
    return _page("ticket.html")


@router.get("/a/{public_id}")
def application_page(public_id: Annotated[str, Path(pattern=PUBLIC_ID)]) -> FileResponse:
    return _page("application.html")


class _Headers:
    """The security headers on the static files too (the scripts and styles)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in
                            SECURITY_HEADERS.items() if k != "Cache-Control"]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def mount_static(app: FastAPI) -> None:
    app.mount("/static", _Headers(StaticFiles(directory=STATIC)), name="static")
