"""Kiosks: the resident who shows a personal code, what a kiosk may show them, and 预约签到.

A kiosk never tells the hall what priority someone has, and who they are only in one way:
it sends the scanned code, the hall verifies it (signature, age, a nonce no kiosk of the
hall has used) and answers with a session handle and masked facts. The one exception is a
resident ID card: the hall cannot verify a card read (only the kiosk's reader saw the card),
so it takes the number and name a kiosk read from a card only from a kiosk an administrator
marked as having a reader (`kiosk hall add-device --id-card-reader`), and answers the same.
Later requests name the resident by that handle in the X-Resident-Session header (kept out
of URLs and so out of access logs), valid only for the kiosk that opened it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from kiosk.domain import idnumber, payloads
from kiosk.domain.masking import mask_name
from kiosk.domain.queue import AppointmentFit, PriorityReason, appointment_fit
from kiosk.hall.api.deps import (
    HallError,
    Key,
    Kiosk,
    center_of,
    claim_key,
    now,
    pool,
    settings,
)
from kiosk.hall.api.tickets import TicketOut
from kiosk.hall.auth import Principal, open_resident_session, resident_of
from kiosk.hall.db import Conn, notify
from kiosk.hall.rules import hours
from kiosk.hall.store import idempotency, tickets
from kiosk.hall.store import residents as store

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["residents"])

MAX_CODE_AGE_S = 90
CLOCK_SKEW_S = 10

# The kiosk's own wording for each refusal (kiosk/ui/messages.py and its English
# translation), so a resident reads the same sentence whichever side refused the code.
_REFUSALS: dict[payloads.PayloadProblem, tuple[str, str]] = {
    payloads.PayloadProblem.NOT_OURS: (
        "这不是随申码。请打开“随申办”App，出示个人随申码后再扫。",
        "This is not a Suishenma code. Open the Suishenban app and show your personal "
        "Suishenma code."),
    payloads.PayloadProblem.MALFORMED: (
        "二维码不完整或已损坏，无法识别。请在手机上刷新随申码后重新对准方框。",
        "The QR code is incomplete or damaged. Refresh your Suishenma code on your phone and "
        "hold it to the frame again."),
    payloads.PayloadProblem.UNSUPPORTED_VERSION: (
        "这个随申码的版本本机暂不支持。请更新“随申办”App，或选择“没有手机？直接取号”。",
        "This kiosk does not support this version of the Suishenma code. Update the "
        "Suishenban app, or choose “No phone? Take a number”."),
    payloads.PayloadProblem.WRONG_KIND: (
        "这是其他用途的二维码（如排队凭条或回执），不是个人随申码。请出示个人随申码。",
        "This QR code is for something else (such as a queue ticket or a receipt). Please "
        "show your personal Suishenma code."),
    payloads.PayloadProblem.UNKNOWN_KEY: (
        "无法确认这个二维码的来源。请出示“随申办”App 中的随申码，或联系工作人员。",
        "We cannot tell where this QR code comes from. Please show the Suishenma code in the "
        "Suishenban app, or ask a staff member."),
    payloads.PayloadProblem.BAD_SIGNATURE: (
        "二维码校验未通过，可能被修改过。请出示“随申办”App 中的随申码，或联系工作人员。",
        "This QR code failed its check and may have been altered. Please show the Suishenma "
        "code in the Suishenban app, or ask a staff member."),
    payloads.PayloadProblem.EXPIRED: (
        "随申码已过期（截图无效）。请在手机上刷新随申码后再扫。",
        "This Suishenma code has expired (screenshots do not work). Refresh it on your phone "
        "and scan again."),
    payloads.PayloadProblem.NOT_YET_VALID: (
        "随申码时间不正确。请检查手机的日期和时间设置，刷新随申码后再扫。",
        "The time on this Suishenma code is wrong. Check the date and time on your phone, "
        "refresh the code and scan again."),
    payloads.PayloadProblem.REPLAYED: (
        "这个随申码已经用过了。请在手机上刷新随申码后再扫。",
        "This Suishenma code has already been used. Refresh it on your phone and scan again."),
}

_SESSION_RE = re.compile(r"^res_[A-Za-z0-9_-]{20,80}$")


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The scanned text as it is; the payload format caps it at 200 ASCII characters.
    code: str = Field(min_length=1, max_length=payloads.MAX_LENGTH)


class IdCardIn(BaseModel):
    """What a kiosk's reader read from a resident ID card's chip (the card's own check, by
    the reader's security module, stays in the kiosk)."""

    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(min_length=18, max_length=18)
    name: str = Field(min_length=1, max_length=60)


class AppointmentOut(BaseModel):
    appointment_id: str
    category: str
    start: dt.datetime
    end: dt.datetime
    checked_in: bool


class ResidentOut(BaseModel):
    session: str
    masked_name: str
    entitlements: list[str]
    priority_reason: str  # "" | "age" | "entitlement" | "appointment": the hall's own
    appointments: list[AppointmentOut]  # today's, at this center


class LicenseOut(BaseModel):
    kind: str
    title: str
    number_masked: str
    valid_until: dt.date | None


class PrefillOut(BaseModel):
    # Prefill source (resident.name, resident.id_number, resident.phone, license:<kind>) ->
    # the value masked; a submission's masked values are replaced by the real ones.
    values: dict[str, str]
    licenses: list[str]  # the license kinds held (materials they exempt)


class CheckInOut(BaseModel):
    ticket: TicketOut
    # Checked in before under another key (another scan, another kiosk): its ticket again.
    earlier: bool


ResidentSession = Annotated[str, Header(alias="X-Resident-Session", min_length=1,
                                        max_length=100)]

SESSION_EXPIRED = ("resident_session", "身份核验已过期，请重新扫码。",
                   "The resident's identification expired: scan the code again.")


def resident_for(conn: Conn, who: Principal, handle: str, at: dt.datetime) -> str:
    """The resident behind the header's handle, for the kiosk that opened it only."""
    resident_id = None
    if _SESSION_RE.match(handle):
        resident_id = resident_of(conn, who.device_id, handle, at)
    if resident_id is None:
        raise HallError(409, *SESSION_EXPIRED)
    return resident_id


def _refused(problem: payloads.PayloadProblem) -> HallError:
    zh, en = _REFUSALS[problem]
    return HallError(422, problem.value, zh, en)


@router.post("/kiosk/residents", response_model=ResidentOut)
def identify(request: Request, body: CodeIn, who: Kiosk, key: Key) -> dict[str, Any]:
    at = now(request)
    assert who.device_id is not None
    with pool(request).connection() as conn:
        claim = claim_key(conn, who, key, "identify", body.model_dump())
        if not claim.first:
            assert claim.response is not None
            return _reopened(conn, who.device_id, claim.response, at)
        verifier = payloads.Verifier(
            settings(request).issuer_keys, max_age_s=MAX_CODE_AGE_S, clock_skew_s=CLOCK_SKEW_S,
            clock=lambda: at.timestamp(), seen=store.SessionNonces(conn, who.device_id, at))
        try:
            payload = verifier.verify(body.code, payloads.Kind.RESIDENT)
        except payloads.PayloadRefused as refused:
            raise _refused(refused.problem) from None
        person = store.resident(conn, payload.reference)
        if person is None:
            # The code stays used (committed): a code is good for one answer, this one.
            raise _unknown_kept(conn, who, key)
        return _identified(conn, who, key, person, at)


ID_CARD_NOT_ALLOWED = (
    "id_card_not_allowed",
    "本机暂不能通过身份证识别您。请出示“随申办”App 中的随申码，或联系工作人员。",
    "This kiosk cannot identify you by your ID card. Please show the Suishenma code in the "
    "Suishenban app, or ask a staff member.")

INVALID_ID_NUMBER = (
    "invalid_id_number",
    "身份证号码校验未通过，可能读卡有误。请重新放置身份证，或联系工作人员。",
    "The ID number did not pass its check (perhaps a bad read). Place the card on the reader "
    "again, or ask a staff member.")


@router.post("/kiosk/residents/id-card", response_model=ResidentOut)
def identify_by_id_card(request: Request, body: IdCardIn, who: Kiosk,
                        key: Key) -> dict[str, Any]:
    """The resident whose ID card this kiosk's reader read: by number and name, answered as
    a code is (the same session handle and masked facts)."""
    if not who.reads_id_cards:
        # The device's name only: the card's holder is none of the technician's business.
        log.warning("ID card refused: device %s is not marked as having an ID card reader "
                    "(kiosk hall set-id-card-reader %s on)", who.name, who.name)
        raise HallError(403, *ID_CARD_NOT_ALLOWED,
                        reason=f"device {who.name} is not marked as having an ID card reader "
                        "the hall trusts: an administrator runs `kiosk hall "
                        f"set-id-card-reader {who.name} on`")
    if not idnumber.is_valid(body.id_number):
        raise HallError(422, *INVALID_ID_NUMBER, fields=["body.id_number"])
    at = now(request)
    assert who.device_id is not None
    with pool(request).connection() as conn:
        claim = claim_key(conn, who, key, "identify_id_card", body.model_dump())
        if not claim.first:
            assert claim.response is not None
            return _reopened(conn, who.device_id, claim.response, at)
        person = store.by_id_card(conn, body.id_number, body.name)
        if person is None:
            raise _unknown_kept(conn, who, key)
        return _identified(conn, who, key, person, at)


def _identified(conn: Conn, who: Principal, key: str, person: dict[str, Any],
                at: dt.datetime) -> dict[str, Any]:
    """The reply about an identified resident, however they were identified: their masked
    facts and a fresh session handle, the facts kept for a retry under the same key."""
    assert who.device_id is not None
    today = store.appointments_on(conn, person["resident_id"], who.center_id,
                                  store.local_day(at))
    reason = store.identification_priority(conn, who.center_id, person["resident_id"],
                                           today, at)
    reply = {
        "masked_name": mask_name(person["name"]),
        "entitlements": list(person["entitlements"]),
        "priority_reason": reason.value,
        "appointments": [{**a, "start": a["start"].isoformat(),
                          "end": a["end"].isoformat()} for a in today],
    }
    # The kept answer holds no session handle (the database keeps only hashes of
    # credentials): a retry gets a fresh handle to the same resident.
    idempotency.finish(conn, who.owner, key, {**reply, "resident": person["resident_id"]})
    return {**reply, "session": open_resident_session(conn, who.device_id,
                                                      person["resident_id"], at)}


def _unknown_kept(conn: Conn, who: Principal, key: str) -> HallError:
    """Nobody found: that answer kept (committed) for a retry under the same key."""
    idempotency.finish(conn, who.owner, key, {"unknown": True})
    conn.commit()
    return _unknown_resident()


def _unknown_resident() -> HallError:
    return HallError(404, "unknown_resident",
                     "未查到您的信息。请联系工作人员，或选择“没有手机？直接取号”。",
                     "We could not find your details. Please ask a staff member, or choose "
                     "“No phone? Take a number”.")


def _reopened(conn: Conn, device_id: uuid.UUID, kept: dict[str, Any],
              at: dt.datetime) -> dict[str, Any]:
    if kept.get("unknown"):
        raise _unknown_resident()
    reply = {k: v for k, v in kept.items() if k != "resident"}
    return {**reply, "session": open_resident_session(conn, device_id, kept["resident"], at)}


@router.get("/kiosk/resident/licenses", response_model=list[LicenseOut])
def resident_licenses(request: Request, who: Kiosk,
                      session: ResidentSession) -> list[dict[str, Any]]:
    with pool(request).connection() as conn:
        resident_id = resident_for(conn, who, session, now(request))
        return store.licenses(conn, resident_id)


@router.get("/kiosk/resident/appointments", response_model=list[AppointmentOut])
def resident_appointments(request: Request, who: Kiosk, session: ResidentSession,
                          day: Annotated[dt.date | None, Query()] = None) -> (
    list[dict[str, Any]]
):
    at = now(request)
    with pool(request).connection() as conn:
        resident_id = resident_for(conn, who, session, at)
        return store.appointments_on(conn, resident_id, who.center_id,
                                     day or store.local_day(at))


@router.get("/kiosk/resident/prefill", response_model=PrefillOut)
def resident_prefill(request: Request, who: Kiosk, session: ResidentSession) -> dict[str, Any]:
    with pool(request).connection() as conn:
        person = store.resident(conn, resident_for(conn, who, session, now(request)))
        if person is None:  # removed from the records since the session opened
            raise HallError(409, *SESSION_EXPIRED)
        return {"values": store.masked_prefill(conn, person),
                "licenses": [lic["kind"] for lic in store.licenses(conn, person["resident_id"])]}


def _closed(category: str, when: dt.datetime | None) -> HallError:
    zh = (f"该业务现在不办理，{when:%m月%d日 %H:%M} 起可签到。" if when
          else "该业务近期不办理。")
    en = (f"This service is closed now; check in from {when:%d %b %H:%M}." if when
          else "This service is closed in the coming weeks.")
    return HallError(409, "closed", zh, en, category=category,
                     opens_at=when.isoformat() if when else None)


def _not_on_time(fit: AppointmentFit, start: dt.datetime, end: dt.datetime) -> HallError:
    slot = f"{start:%H:%M}–{end:%H:%M}"
    if fit is AppointmentFit.TOO_EARLY:
        return HallError(409, "too_early",
                         f"您预约的时段是 {slot}，预约号请在时段开始前 30 分钟内签到。",
                         f"Your appointment is at {slot}: check in from 30 minutes before it.",
                         fit=fit.value)
    return HallError(409, "too_late",
                     f"您预约的时段是 {slot}，已超过签到时间（时段结束后 15 分钟内）。",
                     f"Your appointment was at {slot}: check-in closed 15 minutes after it.",
                     fit=fit.value)


@router.post("/appointments/{appointment_id}/check-in", response_model=CheckInOut)
def check_in(request: Request, who: Kiosk, key: Key, session: ResidentSession,
             appointment_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]) -> (
    dict[str, Any]
):
    """预约签到: the appointment checked in and its priority ticket issued, in one
    transaction; a second check-in under another key gets the first one's ticket."""
    center = center_of(request, who)
    at = now(request)
    assert who.device_id is not None
    with pool(request).connection() as conn:
        claim = claim_key(conn, who, key, "check_in", {"appointment_id": appointment_id})
        if not claim.first:
            assert claim.response is not None
            return claim.response
        resident_id = resident_for(conn, who, session, at)
        appt = conn.execute(
            "SELECT appointment_id, category, starts_at, ends_at, checked_in_at, ticket_id "
            "FROM appointment WHERE appointment_id = %s AND resident_id = %s "
            "AND center_id = %s FOR UPDATE", (appointment_id, resident_id, center.id)).fetchone()
        if appt is None:
            raise HallError(404, "unknown_appointment", "没有查到这个预约。",
                            "No such appointment for this resident here.")
        if appt["ticket_id"] is not None:
            earlier = conn.execute("SELECT * FROM ticket WHERE id = %s",
                                   (appt["ticket_id"],)).fetchone()
            assert earlier is not None
            reply = {"ticket": tickets.ticket_reply(conn, center, earlier, at,
                                                    public_url=settings(request).public_url),
                     "earlier": True}
            idempotency.finish(conn, who.owner, key, reply)
            return reply
        start, end = appt["starts_at"], appt["ends_at"]
        fit = appointment_fit(start, end, at)
        if fit is not AppointmentFit.ON_TIME:
            raise _not_on_time(fit, start.astimezone(at.tzinfo), end.astimezone(at.tzinfo))
        try:
            category = center.config.category(appt["category"])
        except KeyError:
            raise HallError(422, "unknown_category", "没有这项业务。",
                            "No such service category.") from None
        if not hours.is_open(center, category.id, at):
            raise _closed(category.id, hours.next_opening(center, category.id, at))
        # An ordinary number the resident took before in this category gives way to the
        # appointment's priority one (one waiting ticket a person a category).
        held = tickets.waiting_ticket_of(conn, center.id, at.date(), category.id, resident_id)
        if held is not None:
            tickets.withdraw(conn, center.id, held["id"], "check_in")
        row = tickets.insert_ticket(conn, center, category=category,
                                    priority=PriorityReason.APPOINTMENT, resident_id=resident_id,
                                    appointment_id=appointment_id, device_id=who.device_id,
                                    now=at)
        conn.execute("UPDATE appointment SET checked_in_at = %s, ticket_id = %s "
                     "WHERE appointment_id = %s", (at, row["id"], appointment_id))
        conn.execute(
            "INSERT INTO hall_event (center_id, at, kind, ticket_id, device_id, data) VALUES "
            "(%s, %s, 'checked_in', %s, %s, jsonb_build_object('number', %s::text))",
            (center.id, at, row["id"], who.device_id, row["number"]))
        notify(conn, center.id, "checked_in", {"number": row["number"],
                                               "category": category.id, "ticket": row["id"]})
        reply = {"ticket": tickets.ticket_reply(conn, center, row, at,
                                                public_url=settings(request).public_url),
                 "earlier": False}
        idempotency.finish(conn, who.owner, key, reply)
        return reply
