"""Kiosks: the queue's figures, taking a number, and withdrawing a number nobody holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from kiosk.hall.api.deps import (
    HallError,
    Key,
    Kiosk,
    center_of,
    claim_key,
    now,
    pool,
    read_pool,
    settings,
)
from kiosk.hall.auth import resident_of
from kiosk.hall.rules import hours, waits
from kiosk.hall.store import idempotency, tickets

router = APIRouter(prefix="/v1", tags=["kiosk"])


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    # The handle `POST /v1/kiosk/residents` gave for the verified code the resident showed;
    # absent for a resident without one. Identity and priority are the hall's to derive.
    resident_session: str | None = Field(default=None, max_length=100)


class TicketOut(BaseModel):
    ticket_id: str
    number: str
    category: str
    priority: bool
    priority_reason: str
    ahead: int
    estimated_wait_min: int
    issued_at: dt.datetime
    tracking_code: str
    already_waiting: bool = False
    offline: bool = False
    state: str = "waiting"


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=8, max_length=100)
    reason: str = Field(default="timeout", pattern=r"^[a-z_]{1,20}$")


class CancelOut(BaseModel):
    withdrawn_number: str | None


class CategoryFigures(BaseModel):
    category: str
    waiting: int
    priority_waiting: int
    minutes_per_ticket: float
    open: bool
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None
    remaining_today: int | None  # None: no daily cap


def _closed(exc: tickets.CategoryClosed) -> HallError:
    when = exc.opens_at
    zh = (f"该业务现在不取号，{when:%m月%d日 %H:%M} 起可取号。" if when
          else "该业务近期不取号。")
    en = (f"No numbers for this service now; counters open {when:%d %b %H:%M}." if when
          else "No numbers for this service in the coming weeks.")
    return HallError(409, "closed", zh, en, category=exc.category,
                     opens_at=when.isoformat() if when else None)


def _cap(exc: tickets.CapReached) -> HallError:
    return HallError(409, "cap_reached", "今日该业务号源已取完，请改日再来或预约。",
                     "Today's numbers for this service are all taken: come another day or "
                     "book an appointment.", category=exc.category,
                     opens_at=exc.opens_at.isoformat() if exc.opens_at else None)


@router.get("/queue", response_model=list[CategoryFigures])
def queue(request: Request, who: Kiosk) -> list[dict[str, Any]]:
    center = center_of(request, who)
    at = now(request)
    out = []
    with pool(request).connection() as conn:
        counts = {(r["category"], r["priority"]): int(r["n"]) for r in conn.execute(
            "SELECT category, priority, count(*) AS n FROM ticket WHERE center_id = %s "
            "AND day = %s AND state = 'waiting' GROUP BY category, priority",
            (center.id, at.date()))}
        for cat in center.config.categories:
            open_now = hours.is_open(center, cat.id, at)
            recent = tickets.recent_service_minutes(conn, center.id, cat.id, at)
            minutes = (sum(recent) / len(recent) if len(recent) >= waits.MIN_SAMPLES
                       else float(cat.default_minutes_per_ticket))
            out.append({
                "category": cat.id,
                "waiting": counts.get((cat.id, False), 0) + counts.get((cat.id, True), 0),
                "priority_waiting": counts.get((cat.id, True), 0),
                "minutes_per_ticket": round(minutes, 1),
                "open": open_now,
                "opens_at": None if open_now else hours.next_opening(center, cat.id, at),
                "closes_at": hours.closes_at(center, cat.id, at) if open_now else None,
                "remaining_today": waits.remaining_today(
                    cat.daily_cap, tickets.issued_today(conn, center.id, at.date(), cat.id)),
            })
    return out


@router.post("/tickets", response_model=TicketOut)
def issue_ticket(request: Request, body: TicketIn, who: Kiosk, key: Key) -> dict[str, Any]:
    center = center_of(request, who)
    at = now(request)
    with pool(request).connection() as conn:
        claim = claim_key(conn, who, key, "ticket", body.model_dump())
        if not claim.first:
            # The same ticket, with how many are ahead of it now.
            assert claim.response is not None
            return tickets.reply_for(conn, center, claim.response["ticket_id"], at,
                                     public_url=settings(request).public_url,
                                     already_waiting=claim.response["already_waiting"])
        resident_id = None
        if body.resident_session:
            resident_id = resident_of(conn, who.device_id, body.resident_session, at)
            if resident_id is None:
                raise HallError(409, "resident_session", "身份核验已过期，请重新扫码。",
                                "The resident's identification expired: scan the code again.")
        try:
            issued = tickets.issue(conn, center, who, body.category, resident_id, at,
                                   idempotency=(who.owner, key))
        except tickets.UnknownCategory:
            raise HallError(422, "unknown_category", "没有这项业务。",
                            "No such service category.") from None
        except tickets.CategoryClosed as exc:
            raise _closed(exc) from None
        except tickets.CapReached as exc:
            raise _cap(exc) from None
        if not issued.recorded:
            idempotency.finish(conn, who.owner, key, {"ticket_id": issued.row["id"],
                                                      "already_waiting": issued.already_waiting})
    # Committed: the number's lock is gone before the reply reads the queue.
    with read_pool(request).connection() as conn:
        return tickets.ticket_reply(conn, center, issued.row, at,
                                    public_url=settings(request).public_url,
                                    already_waiting=issued.already_waiting)


@router.post("/ticket-cancellations", response_model=CancelOut)
def cancel_ticket_request(request: Request, body: CancelIn, who: Kiosk) -> dict[str, Any]:
    with pool(request).connection() as conn:
        first = idempotency.cancel(conn, who.owner, body.key, "ticket")
        # A ticket already called (the resident did get it after all) is not taken back.
        number = (tickets.withdraw(conn, who.center_id, first["ticket_id"], body.reason)
                  if first is not None else None)
    return {"withdrawn_number": number}
