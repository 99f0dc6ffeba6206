"""Who a counter calls next, and how many tickets will be called before a given one.

The rule (the hall design of issue 12, "Fairness"): among the counter's categories in its serving
order, the first with anything waiting is served. Within that category an appointment whose
start has come goes first (earliest start first); otherwise priority tickets (oldest first)
go before ordinary ones, unless the category's priority streak has reached
`max_priority_streak` while the oldest ordinary ticket has waited longer than
`ordinary_wait_limit_min`: then that ordinary ticket goes, so a steady stream of priority
residents cannot hold an ordinary one back for the rest of the day.

The streak counts consecutive priority calls at one center and category: a call of a
priority or an appointment ticket adds one, a call of an ordinary ticket sets it to 0.
An appointment ticket before its start waits among the others by its own flag and issue
time: a resident who came early may be served early, never later than without the
appointment.

"Oldest" is by issue time; a transferred ticket keeps its original issue time, and ties
break on the ticket id so that every server and every board computes the same order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket as the fairness rule sees it."""

    ticket_id: str
    category: str
    priority: bool
    issued_at: dt.datetime
    appointment_start: dt.datetime | None = None
    # The order of arrival among tickets queued at the same instant (the hall's insertion
    # order): a clock's resolution must not let a random ticket id decide who was first.
    order: int = 0

    @property
    def counts_as_priority(self) -> bool:
        """Whether calling this ticket lengthens the priority streak."""
        return self.priority or self.appointment_start is not None


@dataclass(frozen=True)
class FairnessParams:
    max_priority_streak: int = 3
    ordinary_wait_limit_min: float = 20

    def __post_init__(self) -> None:
        if self.max_priority_streak < 1:
            raise ValueError("max_priority_streak must be at least 1")
        if self.ordinary_wait_limit_min < 0:
            raise ValueError("ordinary_wait_limit_min must not be negative")


def _by_age(c: Candidate) -> tuple[dt.datetime, int, str]:
    return c.issued_at, c.order, c.ticket_id


def _by_appointment(c: Candidate) -> tuple[dt.datetime, dt.datetime, int, str]:
    assert c.appointment_start is not None
    return c.appointment_start, c.issued_at, c.order, c.ticket_id


def _pick(waiting: Sequence[Candidate], streak: int, now: dt.datetime,
          params: FairnessParams) -> Candidate:
    """The next ticket of one category's non-empty waiting list."""
    due = [c for c in waiting
           if c.appointment_start is not None and c.appointment_start <= now]
    if due:
        return min(due, key=_by_appointment)
    priority = [c for c in waiting if c.priority]
    ordinary = [c for c in waiting if not c.priority]
    if not priority:
        return min(ordinary, key=_by_age)
    if ordinary:
        oldest = min(ordinary, key=_by_age)
        if _ordinary_is_due(oldest, streak, now, params):
            return oldest
    return min(priority, key=_by_age)


def _ordinary_is_due(oldest: Candidate, streak: int, now: dt.datetime,
                     params: FairnessParams) -> bool:
    return (streak >= params.max_priority_streak
            and now - oldest.issued_at > dt.timedelta(minutes=params.ordinary_wait_limit_min))


def choose_next(candidates: Iterable[Candidate], counter_categories: Sequence[str],
                streak: Mapping[str, int], now: dt.datetime,
                params: FairnessParams) -> Candidate | None:
    """The ticket a counter serving `counter_categories` (in its serving order) calls now;
    None when none of its categories has a waiting ticket. `streak` holds the priority
    streak of each category (a missing one is 0); tickets of other categories are ignored."""
    by_category: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_category.setdefault(c.category, []).append(c)
    for category in counter_categories:
        waiting = by_category.get(category)
        if waiting:
            return _pick(waiting, streak.get(category, 0), now, params)
    return None


def next_streak(streak: Mapping[str, int], picked: Candidate) -> dict[str, int]:
    """The streaks after `picked` was called: its category's grows by one for a priority or
    appointment ticket and is 0 after an ordinary one; the others are unchanged."""
    after = dict(streak)
    after[picked.category] = (
        streak.get(picked.category, 0) + 1 if picked.counts_as_priority else 0)
    return after


def call_order(candidates: Iterable[Candidate], category: str, streak: Mapping[str, int],
               now: dt.datetime, params: FairnessParams, *,
               step: dt.timedelta = dt.timedelta(0)) -> list[Candidate]:
    """The order in which the waiting tickets of `category` will be called, simulating the
    rule call after call with the streak each call leaves. The simulated clock starts at
    `now` and advances by `step` per call (the expected service time per call, or 0 for the
    order if every call happened now), so appointments come due in the simulation too.

    The same order as calling choose_next over and over (tested), in O(n log n): a board
    derives every waiting ticket's position from one call at each change."""
    waiting = [c for c in candidates if c.category == category]
    # Indices into `waiting`, each list read front to back; a ticket already called through
    # another list is skipped when its turn comes.
    lists = {
        "appointment": sorted((i for i, c in enumerate(waiting)
                               if c.appointment_start is not None),
                              key=lambda i: _by_appointment(waiting[i])),
        "priority": sorted((i for i, c in enumerate(waiting) if c.priority),
                           key=lambda i: _by_age(waiting[i])),
        "ordinary": sorted((i for i, c in enumerate(waiting) if not c.priority),
                           key=lambda i: _by_age(waiting[i])),
    }
    heads = dict.fromkeys(lists, 0)
    called: set[int] = set()

    def head(name: str) -> int | None:
        items, at = lists[name], heads[name]
        while at < len(items) and items[at] in called:
            at += 1
        heads[name] = at
        return items[at] if at < len(items) else None

    order: list[Candidate] = []
    current = streak.get(category, 0)
    clock = now
    for _ in range(len(waiting)):
        appointment, first_priority, first_ordinary = (
            head("appointment"), head("priority"), head("ordinary"))
        start = None if appointment is None else waiting[appointment].appointment_start
        picked: int | None
        if start is not None and start <= clock:
            picked = appointment
        elif first_priority is None or (first_ordinary is not None and _ordinary_is_due(
                waiting[first_ordinary], current, clock, params)):
            picked = first_ordinary
        else:
            picked = first_priority
        assert picked is not None  # a ticket is left for each remaining turn
        called.add(picked)
        order.append(waiting[picked])
        current = current + 1 if waiting[picked].counts_as_priority else 0
        clock += step
    return order


def ahead_of(ticket_id: str, candidates: Iterable[Candidate], streak: Mapping[str, int],
             now: dt.datetime, params: FairnessParams, *,
             step: dt.timedelta = dt.timedelta(0)) -> int:
    """How many waiting tickets of its category will be called before `ticket_id`
    (call_order's simulation); KeyError when it is not among `candidates`. For the position
    of many tickets, call call_order once instead."""
    waiting = list(candidates)
    ticket = next((c for c in waiting if c.ticket_id == ticket_id), None)
    if ticket is None:
        raise KeyError(ticket_id)
    order = call_order(waiting, ticket.category, streak, now, params, step=step)
    return next(i for i, c in enumerate(order) if c is ticket)
