"""Calling residents to a counter: the next one under the fairness rule, a number the clerk
names, recalls, no-shows and their return, transfers to another category, and finishing.

Concurrency. A call first locks the priority-streak rows of the counter's categories (in
category order, so two counters sharing categories cannot deadlock): calls that could pick
from the same waiting lists take turns, each reading the streak the previous one left, so
"at most max_priority_streak priority calls in a row" holds exactly. The waiting tickets
are then read `FOR UPDATE SKIP LOCKED`: a ticket some other transaction holds (a kiosk
withdrawing it, a clerk returning or transferring it) is passed over instead of waited for,
and whatever is picked is locked until the call commits. The partial unique index
`ticket_one_called` keeps one called ticket per counter whatever the path.

A counter holds one called ticket at a time: calling another while one is called is
refused (CounterBusy) rather than finishing the first implicitly, which would record a
service that may never have happened and lose the chance to mark a no-show.

Every change writes a hall_event row (with the counter and the staff member, at the
injected clock's time) and notifies in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, LiteralString

import psycopg.errors
from psycopg.types.json import Jsonb

from kiosk.common.clock import SHANGHAI
from kiosk.domain.masking import mask_name
from kiosk.hall.auth import Principal
from kiosk.hall.db import Conn, notify
from kiosk.hall.rules import fairness
from kiosk.hall.rules.config import CenterRules as Center
from kiosk.hall.rules.config import CounterConfig
from kiosk.hall.store import tickets

WINDOW_PER_LIST = 50
"""Waiting tickets read per category and kind (priority / ordinary) for a call. The rule
only ever takes the head of each list (or an appointment that has come due, all of which
are read), so a few suffice; the margin covers heads that are skipped because another
transaction holds them."""


class CallRefused(Exception):
    """Base of the reasons a counter action is refused."""


class NoCounter(CallRefused):
    """The staff session names no counter (or one the rules no longer have)."""


class CounterBusy(CallRefused):
    def __init__(self, number: str) -> None:
        super().__init__(number)
        self.number = number


class UnknownTicket(CallRefused):
    """No such ticket (today, at this center)."""


class NotServed(CallRefused):
    def __init__(self, category: str) -> None:
        super().__init__(category)
        self.category = category


class WrongState(CallRefused):
    def __init__(self, number: str, state: str) -> None:
        super().__init__(number, state)
        self.number = number
        self.state = state


class NotCalledHere(CallRefused):
    def __init__(self, number: str, counter_no: int | None) -> None:
        super().__init__(number, counter_no)
        self.number = number
        self.counter_no = counter_no


class ReturnExpired(CallRefused):
    def __init__(self, number: str, minutes: int) -> None:
        super().__init__(number, minutes)
        self.number = number
        self.minutes = minutes


class AlreadyWaiting(CallRefused):
    """The resident holds another waiting ticket in that category already."""

    def __init__(self, number: str) -> None:
        super().__init__(number)
        self.number = number


class UnknownCategory(CallRefused):
    def __init__(self, category: str) -> None:
        super().__init__(category)
        self.category = category


class SameCategory(CallRefused):
    def __init__(self, category: str) -> None:
        super().__init__(category)
        self.category = category


def today(now: dt.datetime) -> dt.date:
    return now.astimezone(SHANGHAI).date()


def day_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Midnight to midnight of `now`'s Shanghai day, for timestamptz comparisons that must
    not depend on the database session's time zone."""
    start = dt.datetime.combine(today(now), dt.time(0), tzinfo=SHANGHAI)
    return start, start + dt.timedelta(days=1)


def _local(at: dt.datetime) -> str:
    """A time for a reply, in Shanghai time (the database answers in its session's zone)."""
    return at.astimezone(SHANGHAI).isoformat()


def counter_of(center: Center, who: Principal) -> CounterConfig:
    if who.counter_no is None:
        raise NoCounter()
    try:
        return center.config.counter(who.counter_no)
    except KeyError:
        raise NoCounter() from None


def _log(conn: Conn, center: Center, who: Principal, kind: str, ticket_id: str,
         now: dt.datetime, data: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO hall_event (center_id, at, kind, ticket_id, counter_no, staff_id, data) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (center.id, now, kind, ticket_id, who.counter_no, who.staff_id, Jsonb(data)))


def _lock_streaks(conn: Conn, center: Center, categories: list[str],
                  now: dt.datetime) -> dict[str, int]:
    ordered = sorted(set(categories))
    day = today(now)
    conn.execute(
        "INSERT INTO priority_streak (center_id, day, category) "
        "SELECT %s, %s, unnest(%s::text[]) ON CONFLICT DO NOTHING", (center.id, day, ordered))
    rows = conn.execute(
        "SELECT category, streak FROM priority_streak WHERE center_id = %s AND day = %s "
        "AND category = ANY(%s) ORDER BY category FOR UPDATE",
        (center.id, day, ordered)).fetchall()
    return {r["category"]: int(r["streak"]) for r in rows}


def _save_streak(conn: Conn, center: Center, streak: dict[str, int],
                 picked: fairness.Candidate, now: dt.datetime) -> None:
    after = fairness.next_streak(streak, picked)
    conn.execute("UPDATE priority_streak SET streak = %s WHERE center_id = %s AND day = %s "
                 "AND category = %s",
                 (after[picked.category], center.id, today(now), picked.category))


def _current_row(conn: Conn, center: Center, counter_no: int,
                 now: dt.datetime) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM ticket WHERE center_id = %s AND day = %s AND counter_no = %s "
        "AND state = 'called'", (center.id, today(now), counter_no)).fetchone()


def _refuse_if_busy(conn: Conn, center: Center, counter_no: int, now: dt.datetime) -> None:
    held = _current_row(conn, center, counter_no, now)
    if held is not None:
        raise CounterBusy(held["number"])


def _candidates(conn: Conn, center: Center, categories: list[str],
                now: dt.datetime) -> list[fairness.Candidate]:
    rows = conn.execute(
        "SELECT t.id, t.category, t.priority, t.queued_at, t.arrival, a.starts_at FROM ticket t "
        "LEFT JOIN appointment a ON a.appointment_id = t.appointment_id "
        "WHERE t.state = 'waiting' AND t.id IN ("
        "  SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY category, priority "
        "    ORDER BY queued_at, arrival) AS n FROM ticket WHERE center_id = %(center)s "
        "    AND day = %(day)s AND category = ANY(%(cats)s) AND state = 'waiting') w "
        "  WHERE n <= %(window)s "
        "  UNION SELECT t2.id FROM ticket t2 JOIN appointment a2 "
        "    ON a2.appointment_id = t2.appointment_id WHERE t2.center_id = %(center)s "
        "    AND t2.day = %(day)s AND t2.category = ANY(%(cats)s) AND t2.state = 'waiting' "
        "    AND a2.starts_at <= %(now)s) "
        "ORDER BY t.queued_at, t.arrival FOR UPDATE OF t SKIP LOCKED",
        {"center": center.id, "day": today(now), "cats": categories, "window": WINDOW_PER_LIST,
         "now": now},
    ).fetchall()
    return [fairness.Candidate(ticket_id=r["id"], category=r["category"], priority=r["priority"],
                               issued_at=r["queued_at"], appointment_start=r["starts_at"],
                               order=r["arrival"])
            for r in rows]


def _mark_called(conn: Conn, center: Center, who: Principal, ticket_id: str,
                 now: dt.datetime) -> dict[str, Any]:
    try:
        with conn.transaction():
            row = conn.execute(
                "UPDATE ticket SET state = 'called', called_at = %s, counter_no = %s, "
                "staff_id = %s, recalls = 0 WHERE id = %s AND state = 'waiting' RETURNING *",
                (now, who.counter_no, who.staff_id, ticket_id)).fetchone()
    except psycopg.errors.UniqueViolation:
        # ticket_one_called: another session at this counter called someone meanwhile.
        assert who.counter_no is not None
        held = _current_row(conn, center, who.counter_no, now)
        raise CounterBusy(held["number"] if held else "") from None
    assert row is not None  # locked by this transaction while waiting
    _log(conn, center, who, "called", row["id"], now,
         {"number": row["number"], "category": row["category"]})
    notify(conn, center.id, "called", {"number": row["number"], "counter": who.counter_no,
                                       "category": row["category"], "ticket": row["id"]})
    return row


def call_next(conn: Conn, center: Center, who: Principal,
              now: dt.datetime) -> dict[str, Any] | None:
    """Call the ticket the fairness rule picks for this counter; None when none of its
    categories has anyone waiting."""
    counter = counter_of(center, who)
    _refuse_if_busy(conn, center, counter.number, now)
    # Nobody waiting (a quiet hour, or every other counter faster): answered without taking
    # the streak locks that calls of these categories share.
    if conn.execute(
        "SELECT 1 FROM ticket WHERE center_id = %s AND day = %s AND category = ANY(%s) "
        "AND state = 'waiting' LIMIT 1",
        (center.id, today(now), list(counter.categories))).fetchone() is None:
        return None
    streak = _lock_streaks(conn, center, counter.categories, now)
    picked = fairness.choose_next(_candidates(conn, center, counter.categories, now),
                                  counter.categories, streak, now, center.fairness)
    if picked is None:
        return None
    row = _mark_called(conn, center, who, picked.ticket_id, now)
    _save_streak(conn, center, streak, picked, now)
    return counter_view(conn, center, row, now)


def _by_number(conn: Conn, center: Center, number: str, now: dt.datetime) -> dict[str, Any]:
    row = conn.execute(
        "SELECT t.*, a.starts_at AS appointment_start FROM ticket t LEFT JOIN appointment a "
        "ON a.appointment_id = t.appointment_id WHERE t.center_id = %s AND t.day = %s "
        "AND t.number = %s FOR UPDATE OF t", (center.id, today(now), number)).fetchone()
    if row is None:
        raise UnknownTicket(number)
    return row


def call_number(conn: Conn, center: Center, who: Principal, number: str,
                now: dt.datetime) -> dict[str, Any]:
    """Call a waiting ticket by its number (a resident standing at the counter, a ticket
    the clerk must take out of turn). It counts as a call for the priority streak."""
    counter = counter_of(center, who)
    streak = _lock_streaks(conn, center, counter.categories, now)
    _refuse_if_busy(conn, center, counter.number, now)
    row = _by_number(conn, center, number, now)
    if row["state"] != "waiting":
        raise WrongState(row["number"], row["state"])
    if row["category"] not in counter.categories:
        raise NotServed(row["category"])
    called = _mark_called(conn, center, who, row["id"], now)
    _save_streak(conn, center, streak, fairness.Candidate(
        ticket_id=row["id"], category=row["category"], priority=row["priority"],
        issued_at=row["queued_at"], appointment_start=row["appointment_start"],
        order=row["arrival"]), now)
    return counter_view(conn, center, called, now)


def _called_here(conn: Conn, center: Center, who: Principal, ticket_id: str) -> dict[str, Any]:
    """The ticket, locked, if it is the one called at this counter."""
    counter_of(center, who)
    row = conn.execute("SELECT * FROM ticket WHERE id = %s AND center_id = %s FOR UPDATE",
                       (ticket_id, center.id)).fetchone()
    if row is None:
        raise UnknownTicket(ticket_id)
    if row["state"] != "called":
        raise WrongState(row["number"], row["state"])
    if row["counter_no"] != who.counter_no:
        raise NotCalledHere(row["number"], row["counter_no"])
    return row


def _changed(conn: Conn, sql: LiteralString, params: tuple[Any, ...]) -> dict[str, Any]:
    """The row an UPDATE of a ticket this transaction holds locked returns."""
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row


def recall(conn: Conn, center: Center, who: Principal, ticket_id: str,
           now: dt.datetime) -> dict[str, Any]:
    """Call the same ticket again (the board shows and says it once more)."""
    row = _changed(conn, "UPDATE ticket SET recalls = recalls + 1 WHERE id = %s RETURNING *",
                   (_called_here(conn, center, who, ticket_id)["id"],))
    _log(conn, center, who, "recalled", row["id"], now,
         {"number": row["number"], "category": row["category"], "recalls": row["recalls"]})
    notify(conn, center.id, "recalled", {"number": row["number"], "counter": who.counter_no,
                                         "category": row["category"], "ticket": row["id"],
                                         "recalls": row["recalls"]})
    return counter_view(conn, center, row, now)


def return_until(center: Center, called_at: dt.datetime) -> dt.datetime:
    return called_at + dt.timedelta(minutes=center.config.fairness.no_show_return_min)


def _outcome(row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"ticket_id": row["id"], "number": row["number"], "category": row["category"],
            "state": row["state"], **extra}


def no_show(conn: Conn, center: Center, who: Principal, ticket_id: str,
            now: dt.datetime) -> dict[str, Any]:
    """The called resident did not come: the counter is free again; the ticket may still
    return to the queue for no_show_return_min minutes after its call."""
    row = _changed(conn, "UPDATE ticket SET state = 'no_show' WHERE id = %s RETURNING *",
                   (_called_here(conn, center, who, ticket_id)["id"],))
    _log(conn, center, who, "no_show", row["id"], now,
         {"number": row["number"], "category": row["category"]})
    notify(conn, center.id, "no_show", {"number": row["number"], "counter": who.counter_no,
                                        "category": row["category"], "ticket": row["id"]})
    return _outcome(row, return_until=_local(return_until(center, row["called_at"])))


def return_to_queue(conn: Conn, center: Center, who: Principal, number: str,
                    now: dt.datetime) -> dict[str, Any]:
    """A no-show resident came back in time: the ticket waits again at its original queue
    position (queued_at unchanged), so it is called as soon as the rule reaches it. They
    were there when their turn came up to the limit the hall set, and sending them to the
    back would punish a resident for the length of the queue rather than for being late."""
    counter_of(center, who)
    row = _by_number(conn, center, number, now)
    if row["state"] != "no_show":
        raise WrongState(row["number"], row["state"])
    if now > return_until(center, row["called_at"]):
        raise ReturnExpired(row["number"], center.config.fairness.no_show_return_min)
    try:
        with conn.transaction():
            back = conn.execute(
                "UPDATE ticket SET state = 'waiting', called_at = NULL, counter_no = NULL, "
                "staff_id = NULL, recalls = 0 WHERE id = %s RETURNING *",
                (row["id"],)).fetchone()
    except psycopg.errors.UniqueViolation:
        held = tickets.waiting_ticket_of(conn, center.id, row["day"], row["category"],
                                         row["resident_id"])
        raise AlreadyWaiting(held["number"] if held else "") from None
    assert back is not None
    _log(conn, center, who, "returned", back["id"], now,
         {"number": back["number"], "category": back["category"],
          "called_at": _local(row["called_at"])})
    notify(conn, center.id, "returned", {"number": back["number"], "category": back["category"],
                                         "ticket": back["id"]})
    ahead, minutes = tickets.position(conn, center, back["id"], back["category"], back["day"],
                                      now)
    return _outcome(back, ahead=ahead, estimated_wait_min=minutes)


def transfer(conn: Conn, center: Center, who: Principal, ticket_id: str, category_id: str,
             now: dt.datetime, *, public_url: str) -> dict[str, Any]:
    """The called resident needs another category: this ticket ends as 'transferred' and a
    new waiting ticket of the target category, numbered in its series, takes the resident
    and their priority. It keeps its place in the queue (queued_at and issued_at of the
    original): the resident has waited once already, and being sent on is not their doing.
    No daily cap is taken (the resident was admitted already) and the target's hours are not
    checked (they are in the hall already)."""
    row = _called_here(conn, center, who, ticket_id)
    try:
        target = center.config.category(category_id)
    except KeyError:
        raise UnknownCategory(category_id) from None
    if target.id == row["category"]:
        raise SameCategory(target.id)
    series = center.config.series(target.id, row["priority"])
    day = today(now)
    seq = tickets.allocate(conn, center.id, day, series)
    try:
        with conn.transaction():
            new = conn.execute(
                "INSERT INTO ticket (id, center_id, day, category, series, seq, number, "
                "priority, priority_reason, resident_id, issued_at, queued_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
                (tickets.new_ticket_id(), center.id, day, target.id, series, seq,
                 f"{series}{seq:03d}", row["priority"], row["priority_reason"],
                 row["resident_id"], row["issued_at"], row["queued_at"])).fetchone()
    except psycopg.errors.UniqueViolation:
        held = tickets.waiting_ticket_of(conn, center.id, day, target.id, row["resident_id"])
        raise AlreadyWaiting(held["number"] if held else "") from None
    assert new is not None
    old = conn.execute(
        "UPDATE ticket SET state = 'transferred', transferred_to = %s, finished_at = %s "
        "WHERE id = %s RETURNING *", (new["id"], now, row["id"])).fetchone()
    assert old is not None
    _log(conn, center, who, "transferred", old["id"], now,
         {"number": old["number"], "category": old["category"], "to_ticket": new["id"],
          "to_number": new["number"], "to_category": new["category"]})
    notify(conn, center.id, "transferred", {
        "number": old["number"], "counter": who.counter_no, "category": old["category"],
        "ticket": old["id"], "to_number": new["number"], "to_category": new["category"],
        "to_ticket": new["id"]})
    return _outcome(old, new_ticket=tickets.ticket_reply(conn, center, new, now,
                                                         public_url=public_url))


def finish(conn: Conn, center: Center, who: Principal, ticket_id: str,
           now: dt.datetime) -> dict[str, Any]:
    """The service is done; finished_at - called_at is the measured service time the wait
    estimates use."""
    row = _changed(
        conn, "UPDATE ticket SET state = 'finished', finished_at = %s WHERE id = %s RETURNING *",
        (now, _called_here(conn, center, who, ticket_id)["id"]))
    service_s = (row["finished_at"] - row["called_at"]).total_seconds()
    _log(conn, center, who, "finished", row["id"], now,
         {"number": row["number"], "category": row["category"], "service_s": service_s})
    notify(conn, center.id, "finished", {"number": row["number"], "counter": who.counter_no,
                                         "category": row["category"], "ticket": row["id"]})
    return _outcome(row, service_min=round(service_s / 60, 1))


def counter_view(conn: Conn, center: Center, row: dict[str, Any],
                 now: dt.datetime) -> dict[str, Any]:
    """What the counter's screen shows of a called ticket: the ticket, the resident's name
    masked, their appointment and today's 一件事 application references; nothing else of
    theirs (no ID number, phone or submission)."""
    resident = None
    references: list[str] = []
    if row["resident_id"] is not None:
        person = conn.execute("SELECT name FROM resident WHERE resident_id = %s",
                              (row["resident_id"],)).fetchone()
        resident = mask_name(person["name"]) if person else None
        start, end = day_bounds(now)
        references = [r["reference"] for r in conn.execute(
            "SELECT reference FROM application WHERE resident_id = %s AND center_id = %s "
            "AND submitted_at >= %s AND submitted_at < %s ORDER BY submitted_at",
            (row["resident_id"], center.id, start, end))]
    appointment = None
    if row["appointment_id"] is not None:
        appt = conn.execute("SELECT appointment_id, starts_at, ends_at FROM appointment "
                            "WHERE appointment_id = %s", (row["appointment_id"],)).fetchone()
        if appt is not None:
            appointment = {"appointment_id": appt["appointment_id"],
                           "starts_at": _local(appt["starts_at"]),
                           "ends_at": _local(appt["ends_at"])}
    title = center.config.category(row["category"]).title
    return {
        "ticket_id": row["id"],
        "number": row["number"],
        "category": row["category"],
        "category_title": title.model_dump(),
        "priority": row["priority"],
        "priority_reason": row["priority_reason"],
        "state": row["state"],
        "counter": row["counter_no"],
        "called_at": _local(row["called_at"]) if row["called_at"] else None,
        "recalls": row["recalls"],
        "issued_at": _local(row["issued_at"]),
        "resident_name": resident,
        "appointment": appointment,
        "application_references": references,
    }


def waiting_counts(conn: Conn, center: Center, day: dt.date) -> dict[str, tuple[int, int]]:
    """(waiting, of which priority) per category with anyone waiting."""
    return {r["category"]: (int(r["n"]), int(r["p"])) for r in conn.execute(
        "SELECT category, count(*) AS n, count(*) FILTER (WHERE priority) AS p FROM ticket "
        "WHERE center_id = %s AND day = %s AND state = 'waiting' GROUP BY category",
        (center.id, day))}


def counter_state(conn: Conn, center: Center, who: Principal,
                  now: dt.datetime) -> dict[str, Any]:
    counter = counter_of(center, who)
    current = _current_row(conn, center, counter.number, now)
    counts = waiting_counts(conn, center, today(now))
    return {
        "counter": counter.number,
        "counter_name": counter.name.model_dump(),
        "current": counter_view(conn, center, current, now) if current else None,
        "waiting": [{"category": c,
                     "title": center.config.category(c).title.model_dump(),
                     "waiting": counts.get(c, (0, 0))[0],
                     "priority_waiting": counts.get(c, (0, 0))[1]}
                    for c in counter.categories],
    }
