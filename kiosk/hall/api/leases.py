"""Outages: a kiosk leases blocks of numbers in advance, issues from them while it cannot
reach the hall, and delivers those tickets when the link returns (rules in
kiosk.hall.store.leases)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kiosk.domain.queue import PriorityReason
from kiosk.hall.api.deps import (
    HallError,
    Key,
    Kiosk,
    center_of,
    now,
    pool,
    replay_or_none,
    settings,
)
from kiosk.hall.api.tickets import TicketOut
from kiosk.hall.store import idempotency, leases, tickets

router = APIRouter(prefix="/v1", tags=["kiosk"])


class LeaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    priority: bool = False


class LeaseOut(BaseModel):
    lease_id: int
    day: dt.date
    category: str
    priority: bool
    series: str
    first: int
    last: int
    created_at: dt.datetime
    used: list[int]  # numbers of the block already delivered


class OfflineTicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lease_id: int = Field(ge=1)
    seq: int = Field(ge=1)
    category: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    issued_at: AwareDatetime
    # The priority the kiosk derived and printed, "" for an ordinary ticket.
    priority_reason: Literal["", "age", "entitlement", "appointment"] = ""


_UNKNOWN_CATEGORY = ("unknown_category", "没有这项业务。", "No such service category.")


@router.post("/leases", response_model=LeaseOut)
def take_lease(request: Request, body: LeaseIn, who: Kiosk, key: Key) -> dict[str, Any]:
    center = center_of(request, who)
    assert who.device_id is not None
    with pool(request).connection() as conn:
        replay = replay_or_none(conn, who, key, "lease", body.model_dump())
        if replay is not None:
            return replay
        try:
            reply = leases.take_lease(conn, center, who.device_id, body.category,
                                      body.priority, now(request))
        except leases.LeasesOff:
            raise HallError(409, "leases_off", "本中心未启用离线号段。",
                            "This center gives kiosks no offline numbers "
                            "(fairness.offline_lease_size is 0).") from None
        except tickets.UnknownCategory:
            raise HallError(422, *_UNKNOWN_CATEGORY) from None
        idempotency.finish(conn, who.owner, key, reply)
        return reply


@router.get("/leases", response_model=list[LeaseOut])
def my_leases(request: Request, who: Kiosk) -> list[dict[str, Any]]:
    """This kiosk's leases of today; those of a past day are void."""
    assert who.device_id is not None
    with pool(request).connection() as conn:
        return leases.leases_of(conn, who.center_id, who.device_id, now(request).date())


@router.post("/offline-tickets", response_model=TicketOut)
def deliver_offline_ticket(request: Request, body: OfflineTicketIn, who: Kiosk,
                           key: Key) -> dict[str, Any]:
    center = center_of(request, who)
    assert who.device_id is not None
    with pool(request).connection() as conn:
        replay = replay_or_none(conn, who, key, "offline_ticket", body.model_dump(mode="json"))
        if replay is not None:
            return replay
        try:
            reply = leases.issue_offline(
                conn, center, who.device_id, lease_id=body.lease_id, seq=body.seq,
                category_id=body.category, issued_at=body.issued_at,
                priority_reason=PriorityReason(body.priority_reason), now=now(request),
                public_url=settings(request).public_url)
        except leases.NotLeased:
            raise HallError(409, "not_leased", "该号码不在本机今日领取的离线号段内。",
                            "This number is in none of this kiosk's offline blocks of today "
                            "for that category.") from None
        except leases.NumberUsed:
            raise HallError(409, "number_used", "该号码已登记过。",
                            "This number was delivered already.") from None
        except leases.PriorityMismatch:
            raise HallError(422, "priority_mismatch", "优先原因与号段不符。",
                            "The priority reason does not match the block's series: a "
                            "priority reason goes with a priority block, and only there."
                            ) from None
        idempotency.finish(conn, who.owner, key, reply)
        return reply
