"""Staff operations on the hall's credentials: devices (kiosk, counter, board) and staff
accounts. The CLI (`kiosk hall …`) calls these; tests use them to set a hall up."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import psycopg.errors

from kiosk.hall.auth import Role, hash_password, new_token, token_hash
from kiosk.hall.db import Conn


class AdminError(ValueError):
    """A mistake in an operator's command, said in words they can act on."""


@dataclass(frozen=True)
class DeviceListing:
    name: str
    kind: str
    center_id: str
    counter_no: int | None
    created_at: str
    last_seen_at: str | None
    revoked: bool
    reads_id_cards: bool = False


ID_CARD_READER_ON_KIOSKS_ONLY = (
    "only a kiosk has a resident ID card reader (--id-card-reader): the hall takes the word "
    "of a kiosk it trusts for a card read, of no counter or board")


def add_device(conn: Conn, center_id: str, kind: Role, name: str,
               counter_no: int | None = None, *, reads_id_cards: bool = False) -> str:
    """Register a device; returns its token, shown once and never stored in clear.
    `reads_id_cards`: a kiosk with a resident ID card reader, whose card reads the hall
    believes (it cannot verify them itself)."""
    if kind not in (Role.KIOSK, Role.COUNTER, Role.BOARD):
        raise AdminError(f"a device is a kiosk, a counter or a board, not {kind.value}")
    if (kind is Role.COUNTER) != (counter_no is not None):
        raise AdminError("a counter device needs --counter N (its window number); "
                         "other devices take none")
    if reads_id_cards and kind is not Role.KIOSK:
        raise AdminError(ID_CARD_READER_ON_KIOSKS_ONLY)
    token = new_token("dev")
    try:
        with conn.transaction():
            conn.execute(
                "INSERT INTO device (center_id, kind, name, counter_no, token_hash, "
                "reads_id_cards) VALUES (%s, %s, %s, %s, %s, %s)",
                (center_id, kind.value, name, counter_no, token_hash(token), reads_id_cards))
    except psycopg.errors.UniqueViolation:
        raise AdminError(f"a device named {name!r} exists already: pick another name, or "
                         f"revoke it first (kiosk hall revoke-device {name})") from None
    return token


def revoke_device(conn: Conn, name: str) -> None:
    row = conn.execute("UPDATE device SET revoked_at = now() WHERE name = %s "
                       "AND revoked_at IS NULL RETURNING id", (name,)).fetchone()
    if row is None:
        raise AdminError(f"no active device named {name!r} (kiosk hall list-devices)")
    conn.execute("DELETE FROM resident_session WHERE device_id = %s", (row["id"],))


def set_id_card_reader(conn: Conn, name: str, reads_id_cards: bool) -> None:
    """Mark a live kiosk as having (or no longer having) an ID card reader the hall trusts.
    Takes effect at the kiosk's next request: the flag is read with its credential."""
    row = conn.execute("SELECT kind FROM device WHERE name = %s AND revoked_at IS NULL",
                       (name,)).fetchone()
    if row is None:
        raise AdminError(f"no active device named {name!r} (kiosk hall list-devices)")
    if reads_id_cards and row["kind"] != Role.KIOSK.value:
        raise AdminError(f"{name} is a {row['kind']}: {ID_CARD_READER_ON_KIOSKS_ONLY}")
    conn.execute("UPDATE device SET reads_id_cards = %s WHERE name = %s "
                 "AND revoked_at IS NULL", (reads_id_cards, name))


def list_devices(conn: Conn) -> list[DeviceListing]:
    return [DeviceListing(name=r["name"], kind=r["kind"], center_id=r["center_id"],
                          counter_no=r["counter_no"], created_at=r["created_at"].isoformat(),
                          last_seen_at=r["last_seen_at"].isoformat() if r["last_seen_at"]
                          else None, revoked=r["revoked_at"] is not None,
                          reads_id_cards=r["reads_id_cards"])
            for r in conn.execute("SELECT * FROM device ORDER BY center_id, kind, name")]


def add_staff(conn: Conn, center_id: str, username: str, role: Role,
              password: str | None = None) -> str:
    """Create a staff account; returns the password (generated when none is given)."""
    if role not in (Role.CLERK, Role.SUPERVISOR):
        raise AdminError(f"a staff role is clerk or supervisor, not {role.value}")
    if password is None:
        password = secrets.token_urlsafe(12)
    if len(password) < 10:
        raise AdminError("a staff password has at least 10 characters")
    try:
        with conn.transaction():
            conn.execute("INSERT INTO staff (center_id, username, role, password_hash) "
                         "VALUES (%s, %s, %s, %s)",
                         (center_id, username, role.value, hash_password(password)))
    except psycopg.errors.UniqueViolation:
        raise AdminError(f"a staff account {username!r} exists already") from None
    return password


def disable_staff(conn: Conn, username: str) -> None:
    row = conn.execute("UPDATE staff SET disabled_at = now() WHERE username = %s "
                       "AND disabled_at IS NULL RETURNING id", (username,)).fetchone()
    if row is None:
        raise AdminError(f"no active staff account {username!r}")
    conn.execute("DELETE FROM staff_session WHERE staff_id = %s", (row["id"],))


def count(conn: Conn, what: str) -> int:
    table = {"staff": "staff", "devices": "device"}[what]
    row = conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()
    return 0 if row is None else int(row["n"])
