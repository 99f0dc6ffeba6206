"""Who is asking: device credentials, staff accounts and sessions, and the roles' rights.

Device and session tokens are 256-bit random strings; the database keeps only their SHA-256
(a stolen backup holds no usable credential, and a fast hash is enough for random tokens).
Staff passwords are Argon2id (argon2-cffi), slow on purpose because people choose them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk.hall.db import Conn

STAFF_SESSION_HOURS = 12
RESIDENT_SESSION_MINUTES = 15
LAST_SEEN_EVERY = dt.timedelta(seconds=30)
_hasher = PasswordHasher()


class Role(StrEnum):
    KIOSK = "kiosk"
    COUNTER = "counter"
    BOARD = "board"
    CLERK = "clerk"
    SUPERVISOR = "supervisor"


DEVICE_ROLES = (Role.KIOSK, Role.COUNTER, Role.BOARD)
STAFF_ROLES = (Role.CLERK, Role.SUPERVISOR)


@dataclass(frozen=True)
class Principal:
    role: Role
    center_id: str
    name: str
    device_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    counter_no: int | None = None
    # A kiosk an administrator marked as having a resident ID card reader: the hall takes
    # its word for a card it read (no other device's: the hall cannot check a card read).
    reads_id_cards: bool = False

    @property
    def owner(self) -> str:
        """Whose idempotency keys these are: a key is unique per device or staff member."""
        return f"d:{self.device_id}" if self.device_id else f"s:{self.staff_id}"


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, encoded: str) -> bool:
    try:
        return _hasher.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the username is unknown, so that a wrong name takes as long
# as a wrong password and sign-in does not tell which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def principal_for(conn: Conn, token: str, now: dt.datetime) -> Principal | None:
    """The device or staff member a bearer token belongs to, or None (unknown, revoked,
    expired, disabled). `now` is the clock that set the session's expiry (sign_in), not
    the database's."""
    if token.startswith("dev_"):
        row = conn.execute(
            "SELECT id, center_id, kind, name, counter_no, reads_id_cards, last_seen_at "
            "FROM device "
            "WHERE token_hash = %s AND revoked_at IS NULL",
            (token_hash(token),),
        ).fetchone()
        if row is None:
            return None
        # "Last seen" is for the supervisor's device list, to the minute: written at most
        # every LAST_SEEN_EVERY, not on every request (a write and a commit per request
        # was a third of the hall's work under load).
        if row["last_seen_at"] is None or now - row["last_seen_at"] > LAST_SEEN_EVERY:
            conn.execute("UPDATE device SET last_seen_at = %s WHERE id = %s", (now, row["id"]))
        return Principal(role=Role(row["kind"]), center_id=row["center_id"], name=row["name"],
                         device_id=row["id"], counter_no=row["counter_no"],
                         reads_id_cards=row["reads_id_cards"])
    if token.startswith("stf_"):
        row = conn.execute(
            "SELECT s.id, s.center_id, s.role, s.username, x.counter_no FROM staff_session x "
            "JOIN staff s ON s.id = x.staff_id WHERE x.token_hash = %s AND x.expires_at > %s "
            "AND s.disabled_at IS NULL",
            (token_hash(token), now),
        ).fetchone()
        if row is None:
            return None
        return Principal(role=Role(row["role"]), center_id=row["center_id"],
                         name=row["username"], staff_id=row["id"], counter_no=row["counter_no"])
    return None


def sign_in(conn: Conn, username: str, password: str, counter_no: int | None,
            now: dt.datetime) -> tuple[str, Principal] | None:
    row = conn.execute(
        "SELECT id, center_id, role, username, password_hash FROM staff "
        "WHERE username = %s AND disabled_at IS NULL",
        (username,),
    ).fetchone()
    if row is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, row["password_hash"]):
        return None
    token = new_token("stf")
    conn.execute(
        "INSERT INTO staff_session (token_hash, staff_id, counter_no, created_at, expires_at) "
        "VALUES (%s, %s, %s, %s, %s)",
        (token_hash(token), row["id"], counter_no, now,
         now + dt.timedelta(hours=STAFF_SESSION_HOURS)),
    )
    return token, Principal(role=Role(row["role"]), center_id=row["center_id"],
                            name=row["username"], staff_id=row["id"], counter_no=counter_no)


def sign_out(conn: Conn, token: str) -> None:
    conn.execute("DELETE FROM staff_session WHERE token_hash = %s", (token_hash(token),))


def open_resident_session(conn: Conn, device_id: uuid.UUID, resident_id: str,
                          now: dt.datetime) -> str:
    token = new_token("res")
    # Expired handles are useless; removed here so the table holds only live sessions.
    conn.execute("DELETE FROM resident_session WHERE expires_at < %s", (now,))
    conn.execute(
        "INSERT INTO resident_session (token_hash, device_id, resident_id, created_at, "
        "expires_at) VALUES (%s, %s, %s, %s, %s)",
        (token_hash(token), device_id, resident_id, now,
         now + dt.timedelta(minutes=RESIDENT_SESSION_MINUTES)),
    )
    return token


def resident_of(conn: Conn, device_id: uuid.UUID | None, token: str, now: dt.datetime) -> (
    str | None
):
    """The resident behind a session handle, only for the kiosk that opened it."""
    if device_id is None:
        return None
    row = conn.execute(
        "SELECT resident_id FROM resident_session WHERE token_hash = %s AND device_id = %s "
        "AND expires_at > %s",
        (token_hash(token), device_id, now),
    ).fetchone()
    return None if row is None else str(row["resident_id"])
