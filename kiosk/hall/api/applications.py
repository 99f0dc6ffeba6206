"""一件事 applications: a kiosk files one for the resident of its session, anyone holding
the progress code reads its progress, staff find it by its 办件编号 and move it on.

A kiosk shows the resident's name, ID number and phone only masked (GET
/v1/kiosk/resident/prefill) and may send those masked forms back: the hall puts its own
real values in their place before the application is stored. Answers carry no personal
data: a summary is the reference, the bundle, the dates and the status timeline.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kiosk.backend.interface import ApplicationStatus
from kiosk.domain.masking import mask_name
from kiosk.domain.text import Bilingual
from kiosk.hall.api.deps import (
    Clerk,
    HallError,
    Key,
    Kiosk,
    allow,
    claim_key,
    now,
    pool,
    settings,
)
from kiosk.hall.api.public import bundle_titles
from kiosk.hall.api.residents import ResidentSession, resident_for
from kiosk.hall.auth import Principal, Role
from kiosk.hall.db import Conn
from kiosk.hall.store import applications as store
from kiosk.hall.store import idempotency
from kiosk.hall.store import residents as people

router = APIRouter(prefix="/v1", tags=["applications"])

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Source = Annotated[str, StringConstraints(
    pattern=r"^(resident\.(name|id_number|phone)|license:[a-z][a-z0-9_]{0,39})$")]
Typed = Annotated[str, StringConstraints(max_length=200)]
PUBLIC_ID = r"^[A-Za-z0-9_-]{16,32}$"
REFERENCE = r"^YW[0-9]{14}$"

KioskOrClerk = Annotated[Principal, Depends(allow(Role.KIOSK, Role.CLERK, Role.SUPERVISOR))]


class Materials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exempt: list[Id] = Field(default_factory=list, max_length=100)
    to_bring: list[Id] = Field(default_factory=list, max_length=100)


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[Id, Id] = Field(default_factory=dict, max_length=100)
    fields: dict[Id, Typed] = Field(default_factory=dict, max_length=100)
    materials: Materials = Field(default_factory=Materials)
    # The prefilled values the form showed, by source, as shown (masked): stored as the
    # hall's real values.
    prefilled: dict[Source, Typed] = Field(default_factory=dict, max_length=40)


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Bundle ids end up in statistics as "bundle:<id>", a token of at most 64 characters.
    bundle_id: str = Field(pattern=r"^[a-z0-9_-]{1,48}$")
    processing_days: int = Field(ge=0, le=365)
    submission: Submission


class ReceiptOut(BaseModel):
    reference: str  # 办件编号, read out at a counter
    public_id: str  # for URLs and the progress code: unguessable
    bundle_id: str
    submitted_at: dt.datetime
    progress_code: str  # <public_url>/a/<public_id>: the application's phone page
    processing_days: int


class StatusEventOut(BaseModel):
    status: ApplicationStatus
    at: dt.datetime
    note: str


class SummaryOut(BaseModel):
    reference: str
    bundle_id: str
    submitted_at: dt.datetime
    processing_days: int
    status: ApplicationStatus
    timeline: list[StatusEventOut]  # oldest first; the last one is `status`


class ResidentSummaryOut(SummaryOut):
    public_id: str


class StaffSummaryOut(SummaryOut):
    masked_name: str  # for the clerk to check who is at the counter, nothing more
    bundle_title: Bilingual | None  # None: a bundle this hall's files do not name


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ApplicationStatus
    # For needs_more: what the resident still has to bring (最多跑一次).
    note: str = Field(default="", max_length=store.MAX_NOTE_LENGTH)


def _with_real_values(submission: Submission, real: dict[str, str]) -> dict[str, Any]:
    """The submission as stored: prefilled sources and any field holding a masked value
    the hall showed get the hall's real value."""
    shown = {people.mask_source(source, value): value for source, value in real.items()}
    fields = {fid: shown.get(value, value) if "*" in value else value
              for fid, value in submission.fields.items()}
    return {
        "answers": submission.answers,
        "fields": fields,
        "materials": submission.materials.model_dump(),
        "prefilled": {source: real[source] for source in submission.prefilled
                      if source in real},
    }


@router.post("/applications", response_model=ReceiptOut)
def submit(request: Request, body: ApplicationIn, who: Kiosk, key: Key,
           session: ResidentSession) -> dict[str, Any]:
    at = now(request)
    assert who.device_id is not None
    with pool(request).connection() as conn:
        # Only a digest of the body is kept with the key: typed values live in one row.
        claim = claim_key(conn, who, key, "application", body.model_dump())
        if not claim.first:
            assert claim.response is not None
            return claim.response
        person = people.resident(conn, resident_for(conn, who, session, at))
        if person is None:
            raise HallError(409, "resident_session", "身份核验已过期，请重新扫码。",
                            "The resident's identification expired: scan the code again.")
        stored = {"bundle_id": body.bundle_id,
                  **_with_real_values(body.submission, people.real_prefill(conn, person))}
        receipt = store.submit(conn, center_id=who.center_id,
                               resident_id=person["resident_id"], device_id=who.device_id,
                               bundle_id=body.bundle_id, processing_days=body.processing_days,
                               submission=stored, now=at,
                               public_url=settings(request).public_url)
        idempotency.finish(conn, who.owner, key, receipt)
        return receipt


def _unknown() -> HallError:
    return HallError(404, "unknown_application", "没有查到这个办件。",
                     "No application with this reference.")


@router.get("/kiosk/resident/applications", response_model=list[ResidentSummaryOut])
def resident_applications(request: Request, who: Kiosk,
                          session: ResidentSession) -> list[dict[str, Any]]:
    with pool(request).connection() as conn:
        return store.of_resident(conn, resident_for(conn, who, session, now(request)))


@router.get("/applications/{public_id}", response_model=SummaryOut)
def progress(request: Request, who: KioskOrClerk,
             public_id: Annotated[str, Path(pattern=PUBLIC_ID)]) -> dict[str, Any]:
    """By the id in the progress code: a capability, so any center's kiosk may ask."""
    with pool(request).connection() as conn:
        found = store.by_public_id(conn, public_id)
    if found is None:
        raise _unknown()
    return found


def _staff_view(conn: Conn, center_id: str, reference: str) -> dict[str, Any]:
    found = store.by_reference(conn, center_id, reference)
    resident_id = store.resident_of(conn, center_id, reference)
    if found is None or resident_id is None:
        raise _unknown()
    person = people.resident(conn, resident_id)
    return {**found, "masked_name": mask_name(person["name"]) if person else "",
            "bundle_title": bundle_titles().get(found["bundle_id"])}


@router.get("/staff/applications/{reference}", response_model=StaffSummaryOut)
def staff_application(request: Request, who: Clerk,
                      reference: Annotated[str, Path(pattern=REFERENCE)]) -> dict[str, Any]:
    with pool(request).connection() as conn:
        return _staff_view(conn, who.center_id, reference)


@router.post("/staff/applications/{reference}/status", response_model=StaffSummaryOut)
def advance(request: Request, body: StatusIn, who: Clerk, key: Key,
            reference: Annotated[str, Path(pattern=REFERENCE)]) -> dict[str, Any]:
    with pool(request).connection() as conn:
        claim = claim_key(conn, who, key, "application_status",
                          {"reference": reference, **body.model_dump(mode="json")})
        if not claim.first:
            assert claim.response is not None
            return claim.response
        try:
            store.advance(conn, center_id=who.center_id, reference=reference,
                          target=body.status, note=body.note, staff_id=who.staff_id,
                          counter_no=who.counter_no, now=now(request))
        except store.UnknownApplication:
            raise _unknown() from None
        except store.NoteRequired:
            raise HallError(422, "note_required", "“需补正”须写明还缺哪些材料。",
                            "“More needed” must say what is still missing.") from None
        except store.TransitionRefused as exc:
            current = exc.current.label("zh")
            raise HallError(409, "transition",
                            f"该办件现为“{current}”，不能改为“{exc.target.label('zh')}”。",
                            f"This application is “{exc.current.label('en')}”: it cannot "
                            f"become “{exc.target.label('en')}”.",
                            current=exc.current.value, requested=exc.target.value) from None
        reply: dict[str, Any] = jsonable_encoder(_staff_view(conn, who.center_id, reference))
        idempotency.finish(conn, who.owner, key, reply)
        return reply
