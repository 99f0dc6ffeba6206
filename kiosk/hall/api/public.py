"""The resident's phone: a ticket's page and an application's timeline, read with no
credential at all. The unguessable id in the QR code's address (a ticket id, an
application's public id) is the capability; the replies carry no personal data beyond a
masked surname (store/public.py).

The ticket's live stream is the hall's event stream narrowed to one ticket: the events of
its center that may change its view make the server recompute the view (at most once per
COALESCE_S, however busy the category) and send it when it changed, so a phone's data
plan pays for what it shows, and the page never learns of other residents' tickets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiosk.backend.interface import RATING_LEVELS, RATING_REASONS, ApplicationStatus
from kiosk.common import resources
from kiosk.domain.text import Bilingual
from kiosk.hall.api.deps import HallError, Key, claim_key, now, pool, read_pool, settings
from kiosk.hall.api.pages import PUBLIC_ID, TICKET_ID
from kiosk.hall.api.stream import HEARTBEAT_S, RETRY_MS
from kiosk.hall.events import EventHub
from kiosk.hall.store import idempotency
from kiosk.hall.store import public as store

router = APIRouter(prefix="/v1/public", tags=["public"])

COALESCE_S = 0.5
"""At most one recompute of a ticket's view per this many seconds for its category's
traffic: a busy category sends a call every few seconds, each of which changes every
waiting phone's "ahead". The ticket's own changes (its call) are not held back."""

TicketId = Annotated[str, Path(pattern=TICKET_ID)]
PublicId = Annotated[str, Path(pattern=PUBLIC_ID)]

# Which reasons suit which level, for the phone's form: praise for the satisfied levels,
# complaints for the dissatisfied ones, both in the middle. A reason not listed here (one
# added to RATING_REASONS later) is offered at every level.
POSITIVE_REASONS = ("fast", "polite", "clear_guidance", "easy_to_use")
NEGATIVE_REASONS = ("too_slow", "unclear", "machine_problem", "had_to_come_back")


def _reasons_for(level: int) -> list[str]:
    unsorted = [r for r in RATING_REASONS if r not in POSITIVE_REASONS + NEGATIVE_REASONS]
    positive = [r for r in RATING_REASONS if r in POSITIVE_REASONS]
    negative = [r for r in RATING_REASONS if r in NEGATIVE_REASONS]
    if level >= 4:
        return positive + unsorted
    if level <= 2:
        return negative + unsorted
    return positive + negative + unsorted


class RatingState(BaseModel):
    allowed: bool  # finished and not rated yet: the page offers the form
    given: bool


class PublicTicketOut(BaseModel):
    ticket_id: str
    number: str
    category: str
    category_title: Bilingual
    state: Literal["waiting", "called", "finished", "no_show", "withdrawn", "transferred"]
    priority: bool
    ahead: int | None  # waiting today: tickets to be called before it; else None
    estimated_wait_min: int | None
    counter: int | None  # the counter that called it
    counter_name: Bilingual | None
    called_at: dt.datetime | None
    issued_at: dt.datetime
    return_until: dt.datetime | None  # no_show: the last moment it may rejoin the queue
    now_ticket_id: str | None  # transferred: the resident's ticket now
    masked_surname: str | None  # "张*", or None for a ticket without a resident
    center_name: Bilingual
    rating: RatingState
    at: dt.datetime  # the hall's time of this view


class PublicRatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: int = Field(ge=1, le=5)
    reasons: list[str] = Field(default_factory=list, max_length=2 * len(RATING_REASONS))

    @field_validator("reasons")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in RATING_REASONS]
        if unknown:
            raise ValueError(f"reasons are among {', '.join(RATING_REASONS)}")
        return list(dict.fromkeys(value))  # a double tap on a tag counts once


class Recorded(BaseModel):
    recorded: bool = True


class LevelChoice(BaseModel):
    level: int
    title: Bilingual
    reasons: list[str]  # the reason ids that suit this level, in display order


class ReasonChoice(BaseModel):
    id: str
    title: Bilingual


class RatingChoices(BaseModel):
    levels: list[LevelChoice]  # best first, as the kiosk shows them
    reasons: list[ReasonChoice]


class TimelineEntry(BaseModel):
    status: ApplicationStatus
    status_title: Bilingual
    at: dt.datetime
    note: str


class PublicApplicationOut(BaseModel):
    reference: str  # 办件编号, for a counter or a phone call
    bundle_id: str
    bundle_title: Bilingual
    center_name: Bilingual | None
    submitted_at: dt.datetime
    processing_days: int  # working days until the result is expected
    status: ApplicationStatus
    status_title: Bilingual
    timeline: list[TimelineEntry]  # oldest first; the last one is `status`
    at: dt.datetime


def _unknown_ticket() -> HallError:
    return HallError(404, "unknown_ticket", "没有查到这个号，请核对二维码或到取号机重新取号。",
                     "No such ticket: check the QR code, or take a new number at a kiosk.")


def _unknown_application() -> HallError:
    return HallError(404, "unknown_application", "没有查到这个办件。",
                     "No application with this reference.")


def _view(request: Request, ticket_id: str) -> store.TicketView | None:
    with read_pool(request).connection() as conn:
        return store.ticket_view(conn, settings(request).rules, ticket_id, now(request))


def _wire(view: store.TicketView) -> dict[str, Any]:
    """The view as the GET answers it, which the stream sends as is."""
    return PublicTicketOut.model_validate(view.body).model_dump(mode="json")


@router.get("/tickets/{ticket_id}", response_model=PublicTicketOut)
def ticket(request: Request, ticket_id: TicketId) -> dict[str, Any]:
    view = _view(request, ticket_id)
    if view is None:
        raise _unknown_ticket()
    return _wire(view)


def _frame(body: dict[str, Any]) -> str:
    return f"event: ticket\ndata: {json.dumps(body, ensure_ascii=False)}\n\n"


def _unchanged(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {**a, "at": None} == {**b, "at": None}


async def _ticket_events(request: Request, hub: EventHub, ticket_id: str,
                         center_id: str, category: str) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    async with hub.subscribe(center_id) as queue:
        while not hub.connected.is_set():
            try:
                await asyncio.wait_for(hub.connected.wait(), HEARTBEAT_S)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": ping\n\n"
        yield f"retry: {RETRY_MS}\n: subscribed\n\n"
        # The view as of the subscription: every change after it arrives as an event.
        view = await run_in_threadpool(_view, request, ticket_id)
        if view is None:
            return
        sent = _wire(view)
        yield _frame(sent)
        if view.final:
            return
        computed = last_out = loop.time()
        pending = forced = own = False
        while True:
            # Wake for the next event, the end of the coalescing interval or the heartbeat,
            # whichever comes first. The heartbeat counts from the last line sent, so a busy
            # center whose events all concern other categories still pings a quiet phone.
            deadline = last_out + HEARTBEAT_S
            if pending:
                deadline = min(deadline, computed + COALESCE_S)
            try:
                event = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                pass
            else:
                if store.concerns(event, ticket_id, category):
                    forced = forced or event.get("kind") == "resync"
                    # The call is what the resident waits for: coalesced, it reached the
                    # phone up to COALESCE_S late (docs/PERFORMANCE.md, phones).
                    own = own or ticket_id in (event.get("ticket"), event.get("to_ticket"))
                    pending = True
            if pending and (own or loop.time() >= computed + COALESCE_S):
                pending = own = False
                view = await run_in_threadpool(_view, request, ticket_id)
                computed = loop.time()
                if view is None:
                    return
                body = _wire(view)
                if forced or not _unchanged(body, sent):
                    sent, forced, last_out = body, False, computed
                    yield _frame(body)
                if view.final:
                    return
            elif loop.time() >= last_out + HEARTBEAT_S:
                if await request.is_disconnected():
                    return
                last_out = loop.time()
                yield ": ping\n\n"


@router.get("/tickets/{ticket_id}/stream", response_class=StreamingResponse, responses={200: {
    "description": "Server-sent events: `event: ticket` with the GET's body, first at once "
                   "and then whenever it changed; ends once the ticket is final",
    "content": {"text/event-stream": {}}}})
async def ticket_stream(request: Request, ticket_id: TicketId) -> StreamingResponse:
    view = await run_in_threadpool(_view, request, ticket_id)
    if view is None:
        raise _unknown_ticket()
    hub: EventHub = request.app.state.events
    return StreamingResponse(
        _ticket_events(request, hub, ticket_id, view.center_id, view.category),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/tickets/{ticket_id}/rating", response_model=Recorded)
def rate(request: Request, ticket_id: TicketId, body: PublicRatingIn,
         key: Key) -> dict[str, Any]:
    """The 好差评 of the visit, once the ticket is finished, once. The keys of a phone
    are kept under its ticket (nobody else holds them): a retry after a lost answer gets
    the first one."""
    with pool(request).connection() as conn:
        if conn.execute("SELECT 1 FROM ticket WHERE id = %s", (ticket_id,)).fetchone() is None:
            raise _unknown_ticket()
        claim = claim_key(conn, f"public:{ticket_id}", key, "public.rating",
                          body.model_dump())
        if not claim.first:
            assert claim.response is not None
            return claim.response
        try:
            store.rate_ticket(conn, ticket_id, body.level, body.reasons, now(request))
        except store.NotFinished:
            raise HallError(409, "not_finished", "办理完成后才能评价。",
                            "You can rate the service once it is finished.") from None
        except store.AlreadyRated:
            raise HallError(409, "already_rated", "您已经评价过了，感谢您的反馈。",
                            "This has been rated already. Thank you.") from None
        reply = {"recorded": True}
        idempotency.finish(conn, f"public:{ticket_id}", key, reply)
        return reply


@router.get("/rating-choices", response_model=RatingChoices)
def rating_choices() -> dict[str, Any]:
    """The 好差评 levels and reasons as the kiosk names them, and which reasons suit each
    level: the phone's form shows the hall's own vocabulary."""
    return {
        "levels": [{"level": level, "title": title.model_dump(),
                    "reasons": _reasons_for(level)}
                   for level, title in sorted(RATING_LEVELS.items(), reverse=True)],
        "reasons": [{"id": r, "title": title.model_dump()}
                    for r, title in RATING_REASONS.items()],
    }


@lru_cache(maxsize=1)
def bundle_titles() -> dict[str, dict[str, str]]:
    """Bundle id -> title, from the bundle files the hall ships with (the hall stores only
    the id a kiosk filed)."""
    from kiosk.domain.bundles import load_bundles

    found = load_bundles(resources.default("bundles"), None)
    return {b.id: b.title.model_dump() for b in found.bundles}


@router.get("/applications/{public_id}", response_model=PublicApplicationOut)
def application(request: Request, public_id: PublicId) -> dict[str, Any]:
    titles = bundle_titles()
    with read_pool(request).connection() as conn:
        found = store.application_view(conn, settings(request).rules, public_id,
                                       now(request), titles)
    if found is None:
        raise _unknown_application()
    return found
