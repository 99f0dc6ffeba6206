"""What kiosks record at the hall besides tickets: 好差评 ratings, usage events for the
服务指数, the personal codes they have seen, and the keys that sign the hall's own codes.

None of it carries personal data: a rating names a ticket or an application, an event a
flow and a step as short lowercase tokens (no digits run long enough to be a phone, an ID
or a reference number).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import psycopg.errors
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kiosk.backend.interface import RATING_REASONS, STAT_EVENT_KINDS
from kiosk.common.clock import SHANGHAI
from kiosk.hall.api.deps import HallError, Key, Kiosk, allow, claim_key, now, pool
from kiosk.hall.auth import Principal, Role
from kiosk.hall.db import Conn, notify
from kiosk.hall.store import idempotency, keys
from kiosk.hall.store import residents as people

router = APIRouter(prefix="/v1", tags=["records"])

AnyCaller = Annotated[Principal, Depends(allow(Role.KIOSK, Role.COUNTER, Role.BOARD,
                                               Role.CLERK, Role.SUPERVISOR))]

_TOKEN_RE = re.compile(r"^[a-z0-9_:-]{0,64}$")
_DIGIT_RUN_RE = re.compile(r"[0-9]{6,}")


def _token(value: str, *, required: bool) -> str:
    if not _TOKEN_RE.match(value) or _DIGIT_RUN_RE.search(value) or (required and not value):
        raise ValueError("a lowercase token [a-z0-9_:-] of at most 64 characters, without "
                         "long digit runs (no personal data in statistics)")
    return value


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: int = Field(ge=1, le=5)
    reasons: list[str] = Field(default_factory=list, max_length=2 * len(RATING_REASONS))
    target_kind: Literal["ticket", "application", "none"]
    # A ticket id, or an application's public id or reference.
    target_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")

    @field_validator("reasons")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in RATING_REASONS]
        if unknown:
            raise ValueError(f"reasons are among {', '.join(RATING_REASONS)}")
        return list(dict.fromkeys(value))  # a double tap on a tag counts once

    @model_validator(mode="after")
    def _target(self) -> RatingIn:
        if (self.target_kind == "none") != (self.target_id is None):
            raise ValueError("target_id is given exactly when target_kind is not 'none'")
        return self


class Recorded(BaseModel):
    recorded: bool = True


class UsageEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    flow: str = Field(max_length=64)
    step: str = Field(default="", max_length=64)
    duration_s: float | None = Field(default=None, ge=0, le=86400, allow_inf_nan=False)
    # When it happened on the kiosk (events sent late after an outage); the hall's time
    # when absent, and never later than it.
    at: dt.datetime | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in STAT_EVENT_KINDS:
            raise ValueError(f"kind is one of {', '.join(STAT_EVENT_KINDS)}")
        return value

    @field_validator("flow")
    @classmethod
    def _flow(cls, value: str) -> str:
        return _token(value, required=True)

    @field_validator("step")
    @classmethod
    def _step(cls, value: str) -> str:
        return _token(value, required=False)


class NonceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The personal code's key id and nonce fields (kiosk.domain.payloads).
    key_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")
    nonce: str = Field(pattern=r"^[A-Za-z0-9_-]{8,24}$")
    expires_at: int = Field(ge=0, le=10**12)  # Unix seconds


class NonceOut(BaseModel):
    new: bool


def _rated_target(conn: Conn, center_id: str, body: RatingIn) -> tuple[str | None, int | None]:
    """The target as stored (an application by its reference, so either id rates it once)
    and the counter that served a ticket; 404 for a target this center does not have."""
    if body.target_kind == "ticket":
        row = conn.execute("SELECT id, counter_no FROM ticket WHERE id = %s AND center_id = %s",
                           (body.target_id, center_id)).fetchone()
        if row is not None:
            return str(row["id"]), row["counter_no"]
    elif body.target_kind == "application":
        row = conn.execute(
            "SELECT reference FROM application WHERE (public_id = %s OR reference = %s) "
            "AND center_id = %s", (body.target_id, body.target_id, center_id)).fetchone()
        if row is not None:
            return str(row["reference"]), None
    else:
        return None, None
    raise HallError(404, "unknown_target", "没有找到要评价的号或办件。",
                    "Nothing to rate with this id here.")


@router.post("/ratings", response_model=Recorded)
def rate(request: Request, body: RatingIn, who: Kiosk, key: Key) -> dict[str, Any]:
    at = now(request)
    with pool(request).connection() as conn:
        claim = claim_key(conn, who, key, "rating", body.model_dump())
        if not claim.first:
            assert claim.response is not None
            return claim.response
        target_id, counter_no = _rated_target(conn, who.center_id, body)
        try:
            with conn.transaction():  # a savepoint: the unique index says "rated before"
                conn.execute(
                    "INSERT INTO rating (center_id, at, level, reasons, target_kind, target_id, "
                    "counter_no, device_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (who.center_id, at, body.level, body.reasons, body.target_kind, target_id,
                     counter_no, who.device_id))
        except psycopg.errors.UniqueViolation:
            raise HallError(409, "already_rated", "您已经评价过了，感谢您的反馈。",
                            "This has been rated already. Thank you.") from None
        conn.execute(
            "INSERT INTO hall_event (center_id, at, kind, ticket_id, counter_no, device_id, data) "
            "VALUES (%s, %s, 'rated', %s, %s, %s, jsonb_build_object('level', %s::integer, "
            "'target_kind', %s::text))",
            (who.center_id, at, target_id if body.target_kind == "ticket" else None,
             counter_no, who.device_id, body.level, body.target_kind))
        notify(conn, who.center_id, "rated", {"level": body.level, "counter": counter_no})
        reply = {"recorded": True}
        idempotency.finish(conn, who.owner, key, reply)
        return reply


@router.post("/usage-events", response_model=Recorded)
def usage_event(request: Request, body: UsageEventIn, who: Kiosk, key: Key) -> dict[str, Any]:
    """Counted once per key. Statistics, not the hall's state: no hall event, no notice."""
    at = now(request)
    when = at if body.at is None else (
        body.at if body.at.tzinfo else body.at.replace(tzinfo=SHANGHAI))
    when = min(when, at)
    with pool(request).connection() as conn:
        claim = claim_key(conn, who, key, "usage_event", body.model_dump(mode="json"))
        if not claim.first:
            assert claim.response is not None
            return claim.response
        conn.execute(
            "INSERT INTO usage_event (center_id, device_id, at, kind, flow, step, duration_s) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (who.center_id, who.device_id, when, body.kind, body.flow, body.step,
             body.duration_s))
        reply = {"recorded": True}
        idempotency.finish(conn, who.owner, key, reply)
        return reply


@router.post("/used-nonces", response_model=NonceOut)
def used_nonce(request: Request, body: NonceIn, who: Kiosk) -> dict[str, bool]:
    """A kiosk saw a personal code: new to every kiosk of the hall? No key needed: asking
    again from the same kiosk before it opened a session with the code answers the same."""
    assert who.device_id is not None
    with pool(request).connection() as conn:
        new = people.claim_nonce(conn, who.device_id, body.key_id, body.nonce,
                                 body.expires_at, now(request))
    return {"new": new}


@router.get("/trusted-keys", response_model=dict[str, str])
def trusted_keys(request: Request, who: AnyCaller) -> dict[str, str]:
    """Key id -> base64 raw Ed25519 public key of the keys signing the hall's own codes
    (ticket tracking, receipts), for a kiosk to verify them when scanned."""
    with pool(request).connection() as conn:
        return keys.public_keys(conn)
