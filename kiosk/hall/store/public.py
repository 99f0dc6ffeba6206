"""What a resident's phone may read and do, holding only a ticket's id or an application's
public id (the unguessable id in the QR code's address is the capability).

A view names the ticket, its place in the queue and the counter that calls it; of the
person only the surname, masked ("张*"): never a name, an ID number, a phone number, a
resident id or which kiosk printed the ticket. Someone who photographs another's ticket
learns where that person stands in the queue, nothing about who they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg.errors

from kiosk.backend.interface import ApplicationStatus
from kiosk.common.clock import SHANGHAI
from kiosk.domain.masking import mask_name
from kiosk.hall.db import Conn, notify
from kiosk.hall.rules.config import CenterRules, HallRules
from kiosk.hall.store import applications, calls, tickets

# After these a ticket's view changes no more (a rating aside, which its own page makes).
FINAL_STATES = frozenset({"finished", "withdrawn", "transferred"})


class NotFinished(Exception):
    """A ticket is rated once its service is finished, not before."""


class AlreadyRated(Exception):
    pass


def masked_surname(name: str | None) -> str | None:
    """张伟明 → 张*, 欧阳明华 → 欧阳*, John Smith → S*: the surname as the masking rules keep
    it, and one star whatever the length of the given name."""
    if not name or not name.strip():
        return None
    words = name.split()
    if name.isascii():
        return words[-1][0] + "*"
    kept = mask_name(name).split("*", 1)[0]
    return (kept or name.strip()[0]) + "*"


def _local(at: dt.datetime | None) -> str | None:
    return None if at is None else at.astimezone(SHANGHAI).isoformat()


@dataclass(frozen=True)
class TicketView:
    center_id: str
    category: str
    body: dict[str, Any]
    # The category's queue read for this view (none was given, or it did not hold the
    # ticket), for the caller to share with the other phones of the category.
    queue: tickets.Queue | None = None

    @property
    def final(self) -> bool:
        return self.body["state"] in FINAL_STATES


_TICKET = """
SELECT t.id, t.center_id, t.day, t.category, t.number, t.priority, t.state, t.counter_no,
       t.called_at, t.issued_at, t.transferred_to, r.name AS resident_name,
       EXISTS (SELECT 1 FROM rating g WHERE g.target_kind = 'ticket' AND g.target_id = t.id)
         AS rated
FROM ticket t LEFT JOIN resident r ON r.resident_id = t.resident_id
WHERE t.id = %s
"""


def _center(rules: HallRules, center_id: str) -> CenterRules | None:
    try:
        return rules.center(center_id)
    except KeyError:  # a center taken out of the rules file: its tickets are gone with it
        return None


def ticket_place(conn: Conn, rules: HallRules, ticket_id: str) -> tuple[str, str] | None:
    """(center, category) of a ticket that has a view (ticket_view is not None), without
    reading its queue."""
    row = conn.execute("SELECT center_id, category FROM ticket WHERE id = %s",
                       (ticket_id,)).fetchone()
    if row is None or _center(rules, row["center_id"]) is None:
        return None
    return row["center_id"], row["category"]


def _holds(queue: tickets.Queue, row: dict[str, Any]) -> bool:
    return (row["id"] in queue and queue.day == row["day"]
            and (queue.center_id, queue.category) == (row["center_id"], row["category"]))


def ticket_view(conn: Conn, rules: HallRules, ticket_id: str, now: dt.datetime,
                queue: tickets.Queue | None = None) -> TicketView | None:
    """The ticket's view as of now; its place from `queue` (its category's, read by the
    caller as recent as it needs) when that holds the ticket, else from a queue read
    here, which the view then carries."""
    row = conn.execute(_TICKET, (ticket_id,)).fetchone()
    if row is None:
        return None
    center = _center(rules, row["center_id"])
    if center is None:
        return None
    state = row["state"]
    ahead = minutes = None
    read = None
    # The kiosk's own figures (store/tickets.py position), so phone and paper agree. A
    # number of an earlier day that was never called waits for nothing any more.
    if state == "waiting" and row["day"] == calls.today(now):
        if queue is None or not _holds(queue, row):
            queue = read = tickets.category_queue(conn, center, row["category"], row["day"],
                                                  now)
        ahead, minutes = queue.position(row["id"])
    counter_name = None
    if row["counter_no"] is not None:
        try:
            counter_name = center.config.counter(row["counter_no"]).name.model_dump()
        except KeyError:
            counter_name = None
    try:
        category_title = center.config.category(row["category"]).title.model_dump()
    except KeyError:
        category_title = {"zh": row["category"], "en": row["category"]}
    return_until = (calls.return_until(center, row["called_at"])
                    if state == "no_show" and row["called_at"] is not None else None)
    body = {
        "ticket_id": row["id"],
        "number": row["number"],
        "category": row["category"],
        "category_title": category_title,
        "state": state,
        "priority": row["priority"],
        "ahead": ahead,
        "estimated_wait_min": minutes,
        "counter": row["counter_no"],
        "counter_name": counter_name,
        "called_at": _local(row["called_at"]),
        "issued_at": _local(row["issued_at"]),
        "return_until": _local(return_until),
        "now_ticket_id": row["transferred_to"] if state == "transferred" else None,
        "masked_surname": masked_surname(row["resident_name"]),
        "center_name": center.config.name.model_dump(),
        "rating": {"allowed": state == "finished" and not row["rated"],
                   "given": bool(row["rated"])},
        "at": _local(now),
    }
    return TicketView(center_id=row["center_id"], category=row["category"], body=body,
                      queue=read)


def placed(body: dict[str, Any], queue: tickets.Queue, now: dt.datetime) -> dict[str, Any]:
    """A waiting ticket's view with its place in a later reading of its queue, which holds
    it: what ticket_view gives now while the ticket itself has not changed (each change
    of it is an event of its own, and a ticket no longer waiting is in no queue)."""
    ahead, minutes = queue.position(body["ticket_id"])
    return {**body, "ahead": ahead, "estimated_wait_min": minutes, "at": _local(now)}


def about_itself(event: dict[str, Any], ticket_id: str) -> bool:
    """Is this live event a change of the ticket itself (its call, recall, no-show, return,
    transfer, finish, withdrawal, rating) rather than of the queue it waits in? Its issue
    is neither: a phone opens on a ticket that exists, and may hear of its issue after."""
    return (event.get("kind") != "issued"
            and ticket_id in (event.get("ticket"), event.get("to_ticket")))


def rate_ticket(conn: Conn, ticket_id: str, level: int, reasons: list[str],
                now: dt.datetime) -> int | None:
    """Store the 好差评 of a finished ticket, against the counter that served it; the
    counter's number. Raises NotFinished or AlreadyRated; the ticket is known to exist."""
    row = conn.execute("SELECT center_id, state, counter_no FROM ticket WHERE id = %s",
                       (ticket_id,)).fetchone()
    assert row is not None
    if row["state"] != "finished":
        raise NotFinished(row["state"])
    try:
        with conn.transaction():  # a savepoint: the unique index rating_once says "rated"
            conn.execute(
                "INSERT INTO rating (center_id, at, level, reasons, target_kind, target_id, "
                "counter_no, device_id) VALUES (%s, %s, %s, %s, 'ticket', %s, %s, NULL)",
                (row["center_id"], now, level, reasons, ticket_id, row["counter_no"]))
    except psycopg.errors.UniqueViolation:
        raise AlreadyRated(ticket_id) from None
    conn.execute(
        "INSERT INTO hall_event (center_id, at, kind, ticket_id, counter_no, data) VALUES "
        "(%s, %s, 'rated', %s, %s, jsonb_build_object('level', %s::integer, "
        "'target_kind', 'ticket', 'channel', 'phone'))",
        (row["center_id"], now, ticket_id, row["counter_no"], level))
    notify(conn, row["center_id"], "rated", {"level": level, "counter": row["counter_no"],
                                             "ticket": ticket_id})
    counter: int | None = row["counter_no"]
    return counter


def application_view(conn: Conn, rules: HallRules, public_id: str, now: dt.datetime,
                     bundle_titles: dict[str, dict[str, str]]) -> dict[str, Any] | None:
    found = applications.by_public_id(conn, public_id)
    if found is None:
        return None
    where = conn.execute("SELECT center_id FROM application WHERE public_id = %s",
                         (public_id,)).fetchone()
    center = _center(rules, where["center_id"]) if where is not None else None

    def title(status: str) -> dict[str, str]:
        value = ApplicationStatus(status)
        return {"zh": value.label("zh"), "en": value.label("en")}

    return {
        "reference": found["reference"],
        "bundle_id": found["bundle_id"],
        "bundle_title": bundle_titles.get(found["bundle_id"]) or {
            "zh": "一件事办件", "en": "Application"},
        "center_name": center.config.name.model_dump() if center is not None else None,
        "submitted_at": _local(found["submitted_at"]),
        "processing_days": found["processing_days"],
        "status": found["status"],
        "status_title": title(found["status"]),
        "timeline": [{"status": e["status"], "status_title": title(e["status"]),
                      "at": _local(e["at"]), "note": e["note"]} for e in found["timeline"]],
        "at": _local(now),
    }
