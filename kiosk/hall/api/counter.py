"""Counters: a clerk signed in at a counter calls residents, recalls, marks no-shows, lets
them return, transfers them to another category and finishes the service.

Every action is the staff session's: its counter (the one named at sign-in) and its staff
member are what the ticket and the log record, whatever the request says.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kiosk.domain.text import Bilingual
from kiosk.hall.api.deps import (
    Clerk,
    HallError,
    Key,
    center_of,
    claim_key,
    now,
    pool,
    settings,
)
from kiosk.hall.api.tickets import TicketOut
from kiosk.hall.auth import Principal
from kiosk.hall.db import Conn
from kiosk.hall.rules.config import CenterRules
from kiosk.hall.store import calls, idempotency

router = APIRouter(prefix="/v1/counter", tags=["counter"])

TICKET_ID = r"^[A-Za-z0-9_-]{8,64}$"
NUMBER = r"^[A-Z]{1,2}[0-9]{3,6}$"
CATEGORY = r"^[a-z0-9_]{1,40}$"


class NumberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(pattern=NUMBER)


class CounterTicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: str = Field(pattern=TICKET_ID)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: str = Field(pattern=TICKET_ID)
    category: str = Field(pattern=CATEGORY)


class CounterAppointment(BaseModel):
    appointment_id: str
    starts_at: dt.datetime
    ends_at: dt.datetime


class CounterTicket(BaseModel):
    """A called ticket as the counter's screen shows it; the resident only masked."""

    ticket_id: str
    number: str
    category: str
    category_title: Bilingual
    priority: bool
    priority_reason: str
    state: str
    counter: int | None
    called_at: dt.datetime | None
    recalls: int
    issued_at: dt.datetime
    resident_name: str | None
    appointment: CounterAppointment | None
    application_references: list[str]


class CounterCallOut(BaseModel):
    ticket: CounterTicket | None  # None: nobody waiting in this counter's categories


class Outcome(BaseModel):
    ticket_id: str
    number: str
    category: str
    state: str
    return_until: dt.datetime | None = None  # no-show: the last moment it may return
    ahead: int | None = None  # returned: tickets to be called before it
    estimated_wait_min: int | None = None
    service_min: float | None = None  # finished: minutes from the call
    new_ticket: TicketOut | None = None  # transferred: the resident's ticket now


class WaitingOut(BaseModel):
    category: str
    title: Bilingual
    waiting: int
    priority_waiting: int


class CategoryOut(BaseModel):
    category: str
    title: Bilingual


class StateOut(BaseModel):
    counter: int
    counter_name: Bilingual
    current: CounterTicket | None
    waiting: list[WaitingOut]  # in the order the counter serves its categories
    # Every category of the center, in the rules file's order: where a transfer may go.
    categories: list[CategoryOut]


def _refusal(exc: calls.CallRefused) -> HallError:
    match exc:
        case calls.NoCounter():
            return HallError(409, "no_counter", "此登录未指定窗口，请退出后选择窗口号重新登录。",
                             "This session has no counter: sign out and sign in again at a "
                             "counter.")
        case calls.CounterBusy(number=number):
            return HallError(409, "counter_busy",
                             f"本窗口正在办理 {number}，请先办结或标记过号。",
                             f"This counter is serving {number}: finish or mark no-show "
                             "first.", number=number)
        case calls.UnknownTicket():
            return HallError(404, "unknown_ticket", "今日没有这个号。", "No such ticket today.")
        case calls.NotServed(category=category):
            return HallError(409, "not_served", "本窗口不办理该业务，请转办。",
                             "This counter does not serve that category: transfer it.",
                             category=category)
        case calls.WrongState(number=number, state=state):
            return HallError(409, "wrong_state", f"{number} 当前状态为 {state}，不能执行该操作。",
                             f"{number} is {state}: this action does not apply.",
                             number=number, state=state)
        case calls.NotCalledHere(number=number, counter_no=counter_no):
            return HallError(409, "not_called_here", f"{number} 不是本窗口叫的号。",
                             f"{number} was called at another counter.", number=number,
                             counter=counter_no)
        case calls.ReturnExpired(number=number, minutes=minutes):
            return HallError(409, "return_expired",
                             f"{number} 过号已超过 {minutes} 分钟，请重新取号。",
                             f"{number} was called more than {minutes} minutes ago: take a "
                             "new number.", number=number)
        case calls.AlreadyWaiting(number=number):
            return HallError(409, "already_waiting", f"该办事人已持有等候中的号 {number}。",
                             f"The resident already holds waiting number {number}.",
                             number=number)
        case calls.UnknownCategory(category=category):
            return HallError(422, "unknown_category", "没有这项业务。",
                             "No such service category.", category=category)
        case calls.SameCategory(category=category):
            return HallError(409, "same_category", "该号已属于这项业务。",
                             "The ticket is in that category already.", category=category)
    return HallError(409, "refused", "无法执行该操作。", "This action cannot be done.")


Action = Callable[[Conn, CenterRules, Principal, dt.datetime], dict[str, Any]]


def _act(request: Request, who: Principal, key: str, operation: str, body: dict[str, Any],
         action: Action) -> dict[str, Any]:
    """One counter action in one transaction, answered once per Idempotency-Key: a refusal
    rolls the claim back with everything else, so a retry is judged afresh."""
    center = center_of(request, who)
    at = now(request)
    with pool(request).connection() as conn:
        claim = claim_key(conn, who, key, f"counter.{operation}",
                          {"counter": who.counter_no, **body})
        if not claim.first:
            assert claim.response is not None
            return claim.response
        try:
            reply = action(conn, center, who, at)
        except calls.CallRefused as exc:
            raise _refusal(exc) from None
        idempotency.finish(conn, who.owner, key, reply)
        return reply


# Calls of counters that share categories take turns on the categories' streak rows
# (store/calls.py), so running more of them at once gains nothing: past CALLS_AT_ONCE per
# process they wait here, in the event loop, holding neither a worker thread nor a pooled
# connection, both of which the kiosks' tickets need meanwhile.
CALLS_AT_ONCE = 2


def _call_gate(request: Request) -> asyncio.Semaphore:
    gate: asyncio.Semaphore | None = getattr(request.app.state, "call_gate", None)
    if gate is None:
        gate = request.app.state.call_gate = asyncio.Semaphore(CALLS_AT_ONCE)
    return gate


@router.post("/call-next", response_model=CounterCallOut)
async def call_next(request: Request, who: Clerk, key: Key) -> dict[str, Any]:
    """Call whoever the fairness rule picks among this counter's categories."""
    async with _call_gate(request):
        return await run_in_threadpool(
            _act, request, who, key, "call_next", {},
            lambda conn, center, w, at: {"ticket": calls.call_next(conn, center, w, at)})


@router.post("/call", response_model=CounterCallOut)
async def call_number(request: Request, body: NumberIn, who: Clerk,
                      key: Key) -> dict[str, Any]:
    """Call a given waiting number of this counter's categories, out of turn."""
    async with _call_gate(request):
        return await run_in_threadpool(
            _act, request, who, key, "call", body.model_dump(),
            lambda conn, center, w, at: {"ticket": calls.call_number(
                conn, center, w, body.number, at)})


@router.post("/recall", response_model=CounterTicket)
def recall(request: Request, body: CounterTicketIn, who: Clerk, key: Key) -> dict[str, Any]:
    return _act(request, who, key, "recall", body.model_dump(),
                lambda conn, center, w, at: calls.recall(conn, center, w, body.ticket_id, at))


@router.post("/no-show", response_model=Outcome)
def no_show(request: Request, body: CounterTicketIn, who: Clerk, key: Key) -> dict[str, Any]:
    return _act(request, who, key, "no_show", body.model_dump(),
                lambda conn, center, w, at: calls.no_show(conn, center, w, body.ticket_id, at))


@router.post("/return", response_model=Outcome)
def return_to_queue(request: Request, body: NumberIn, who: Clerk, key: Key) -> dict[str, Any]:
    """A no-show resident who came back within no_show_return_min minutes of the call
    waits again at their original place."""
    return _act(request, who, key, "return", body.model_dump(),
                lambda conn, center, w, at: calls.return_to_queue(
                    conn, center, w, body.number, at))


@router.post("/transfer", response_model=Outcome)
def transfer(request: Request, body: TransferIn, who: Clerk, key: Key) -> dict[str, Any]:
    return _act(request, who, key, "transfer", body.model_dump(),
                lambda conn, center, w, at: calls.transfer(
                    conn, center, w, body.ticket_id, body.category, at,
                    public_url=settings(request).public_url))


@router.post("/finish", response_model=Outcome)
def finish(request: Request, body: CounterTicketIn, who: Clerk, key: Key) -> dict[str, Any]:
    return _act(request, who, key, "finish", body.model_dump(),
                lambda conn, center, w, at: calls.finish(conn, center, w, body.ticket_id, at))


@router.get("/state", response_model=StateOut)
def state(request: Request, who: Clerk) -> dict[str, Any]:
    center = center_of(request, who)
    with pool(request).connection() as conn:
        try:
            found = calls.counter_state(conn, center, who, now(request))
        except calls.CallRefused as exc:
            raise _refusal(exc) from None
    return {**found, "categories": [{"category": c.id, "title": c.title.model_dump()}
                                    for c in center.config.categories]}
