"""一件事 applications in the embedded database: filing one, its progress, staff moving it on.

Application references (办件编号) are allocated like queue numbers, from a persisted
per-day counter under the write lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Mapping
from typing import Any

from kiosk.backend.embedded.base import EmbeddedStore, stored_time
from kiosk.backend.embedded.connection import immediate
from kiosk.backend.embedded.idempotency import canonical_json, remember_key, seen_key
from kiosk.backend.embedded.validate import BUNDLE_ID_RE, MAX_NOTE_LENGTH, check_key
from kiosk.backend.interface import (
    APPLICATION_TRANSITIONS,
    ApplicationReceipt,
    ApplicationStatus,
    ApplicationSummary,
    BackendError,
    NotFound,
    StatusEvent,
)
from kiosk.domain.payloads import Kind, sign

RECEIPT_LIFETIME = dt.timedelta(days=365)  # a progress QR code keeps working for a year


class Applications(EmbeddedStore):
    """Files applications, reads their timelines, and lets staff advance them."""

    def submit_application(
        self,
        resident_id: str,
        submission: Mapping[str, Any],
        processing_days: int,
        idempotency_key: str,
    ) -> ApplicationReceipt:
        """File a 一件事 application and allocate its reference (办件编号).

        Raises ValueError for a malformed request (a caller bug), IdempotencyConflict for a
        key reused with another submission.
        """
        check_key(idempotency_key)
        if not isinstance(resident_id, str) or not resident_id:
            raise ValueError("resident id is required")
        if not isinstance(submission, Mapping):
            raise ValueError("submission must be a JSON object")
        bundle_id = submission.get("bundle_id")
        if not isinstance(bundle_id, str) or not BUNDLE_ID_RE.fullmatch(bundle_id):
            raise ValueError(f"submission bundle_id must match {BUNDLE_ID_RE.pattern}")
        if (
            isinstance(processing_days, bool)
            or not isinstance(processing_days, int)
            or processing_days < 0
        ):
            raise ValueError("processing_days must be a whole number >= 0")
        submission_json = canonical_json(submission)
        # Only a digest goes into the idempotency table: the submission holds the typed
        # phone and bank account, which should live in one row, not be copied around.
        request = "sha256:" + hashlib.sha256(
            canonical_json([resident_id, processing_days, submission_json]).encode("utf-8")
        ).hexdigest()
        now = self._now().replace(microsecond=0)
        day = now.date()
        with self._errors():
            conn = self._conn()
            with immediate(conn):
                seen = seen_key(conn, idempotency_key, "submit_application", request)
                if seen is not None:
                    row = conn.execute(
                        "SELECT reference, bundle_id, submitted_at, progress_code,"
                        " processing_days FROM applications WHERE reference = ?",
                        (seen,),
                    ).fetchone()
                    if row is None:
                        raise BackendError("idempotency key refers to a missing application")
                    return self._receipt_from_row(row)

                n = conn.execute(
                    "INSERT INTO application_counters (day, last_number) VALUES (?, 1)"
                    " ON CONFLICT (day) DO UPDATE SET last_number = last_number + 1"
                    " RETURNING last_number",
                    (day.isoformat(),),
                ).fetchone()[0]
                reference = f"YW{day:%Y%m%d}{n:06d}"
                issued_s = int(now.timestamp())
                progress_code = sign(
                    self._key, self._key_id, Kind.RECEIPT, reference,
                    issued_at=issued_s, lifetime_s=int(RECEIPT_LIFETIME.total_seconds()),
                )
                conn.execute(
                    "INSERT INTO applications (reference, resident_id, bundle_id, day,"
                    " submitted_at, processing_days, submission, progress_code, status)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (reference, resident_id, bundle_id, day.isoformat(), now.isoformat(),
                     processing_days, submission_json, progress_code,
                     ApplicationStatus.SUBMITTED.value),
                )
                conn.execute(
                    "INSERT INTO application_events (reference, status, at, note)"
                    " VALUES (?, ?, ?, '')",
                    (reference, ApplicationStatus.SUBMITTED.value, now.isoformat()),
                )
                remember_key(conn, idempotency_key, "submit_application", request,
                             reference, now)
        return ApplicationReceipt(
            reference=reference,
            bundle_id=bundle_id,
            submitted_at=now,
            progress_code=progress_code,
            processing_days=processing_days,
        )

    @staticmethod
    def _receipt_from_row(row: sqlite3.Row) -> ApplicationReceipt:
        return ApplicationReceipt(
            reference=row["reference"],
            bundle_id=row["bundle_id"],
            submitted_at=stored_time(row["submitted_at"]),
            progress_code=row["progress_code"],
            processing_days=row["processing_days"],
        )

    @staticmethod
    def _summaries(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[ApplicationSummary]:
        if not rows:
            return []
        references = [r["reference"] for r in rows]
        timelines: dict[str, list[StatusEvent]] = {ref: [] for ref in references}
        placeholders = ",".join("?" * len(references))
        for e in conn.execute(
            "SELECT reference, status, at, note FROM application_events"
            f" WHERE reference IN ({placeholders}) ORDER BY seq",
            references,
        ):
            timelines[e["reference"]].append(
                StatusEvent(ApplicationStatus(e["status"]), stored_time(e["at"]), e["note"])
            )
        return [
            ApplicationSummary(
                reference=r["reference"],
                bundle_id=r["bundle_id"],
                submitted_at=stored_time(r["submitted_at"]),
                status=ApplicationStatus(r["status"]),
                timeline=tuple(timelines[r["reference"]]),
            )
            for r in rows
        ]

    # Never selects `submission` or `resident_id`: summaries are for screens and receipts.
    _SUMMARY_COLUMNS = "reference, bundle_id, submitted_at, status"

    def applications_of(self, resident_id: str) -> list[ApplicationSummary]:
        with self._errors():
            conn = self._conn()
            rows = conn.execute(
                f"SELECT {self._SUMMARY_COLUMNS} FROM applications WHERE resident_id = ?"
                " ORDER BY submitted_at DESC, seq DESC",
                (resident_id,),
            ).fetchall()
            return self._summaries(conn, rows)

    def application(self, reference: str) -> ApplicationSummary | None:
        with self._errors():
            conn = self._conn()
            rows = conn.execute(
                f"SELECT {self._SUMMARY_COLUMNS} FROM applications WHERE reference = ?",
                (reference,),
            ).fetchall()
            found = self._summaries(conn, rows)
        return found[0] if found else None

    def advance_application(
        self, reference: str, status: ApplicationStatus | str, note: str = ""
    ) -> ApplicationSummary:
        """Staff: move an application on and append the step to its timeline.

        Raises ValueError for an unknown status, a move APPLICATION_TRANSITIONS does not
        allow (nothing follows DONE) or NEEDS_MORE without a note saying what is missing;
        NotFound for an unknown reference.
        """
        target = ApplicationStatus(status)
        note = (note or "").strip()
        if target is ApplicationStatus.NEEDS_MORE and not note:
            raise ValueError("需补正 needs a note saying what is still missing")
        if len(note) > MAX_NOTE_LENGTH:
            raise ValueError(f"note longer than {MAX_NOTE_LENGTH} characters")
        now = self._now().replace(microsecond=0)
        with self._errors():
            conn = self._conn()
            with immediate(conn):
                row = conn.execute(
                    "SELECT status FROM applications WHERE reference = ?", (reference,)
                ).fetchone()
                if row is None:
                    raise NotFound(f"no application {reference!r}")
                current = ApplicationStatus(row["status"])
                if target not in APPLICATION_TRANSITIONS[current]:
                    if current is ApplicationStatus.DONE:
                        raise ValueError(f"{reference} is already 已办结 (done); it is final")
                    raise ValueError(
                        f"{reference} cannot go from {current.value} to {target.value}"
                    )
                conn.execute(
                    "INSERT INTO application_events (reference, status, at, note)"
                    " VALUES (?, ?, ?, ?)",
                    (reference, target.value, now.isoformat(), note),
                )
                conn.execute(
                    "UPDATE applications SET status = ? WHERE reference = ?",
                    (target.value, reference),
                )
        summary = self.application(reference)
        if summary is None:  # deleted between the commit and the read: not by this code
            raise BackendError(f"application {reference} vanished")
        return summary
