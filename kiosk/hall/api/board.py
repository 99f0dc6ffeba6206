"""The hall's boards: who is called where, the last calls, how many wait and which
services take numbers. A board hangs in public view, so nothing here names or identifies
a resident (not even the ticket id, which opens a ticket's phone page)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from kiosk.common.clock import SHANGHAI
from kiosk.domain.text import Bilingual
from kiosk.hall.api.deps import Watcher, center_of, now, pool
from kiosk.hall.rules import hours
from kiosk.hall.rules.config import CenterRules
from kiosk.hall.store import calls

router = APIRouter(prefix="/v1", tags=["board"])

RECENT_CALLS = 10


class BoardCenter(BaseModel):
    id: str
    name: Bilingual


class BoardCall(BaseModel):
    number: str
    category: str
    counter: int
    counter_name: Bilingual
    called_at: dt.datetime


class BoardCurrentCall(BoardCall):
    recalls: int
    serving: bool  # still at the counter (not finished, no-show or transferred yet)


class BoardPeriod(BaseModel):
    start: dt.datetime
    end: dt.datetime


class BoardCategory(BaseModel):
    category: str
    title: Bilingual
    waiting: int
    priority_waiting: int
    open: bool
    closes_at: dt.datetime | None  # when open: the end of the current period
    opens_at: dt.datetime | None  # when closed: the next opening, None if none is near
    periods_today: list[BoardPeriod]


class BoardOut(BaseModel):
    center: BoardCenter
    at: dt.datetime
    current: list[BoardCurrentCall]  # the latest call of each counter today, by counter number
    recent: list[BoardCall]  # the last calls today, newest first
    categories: list[BoardCategory]
    # What the board says after each call's chime, in order, each twice
    # (GET /v1/board/announcement; rules file: announce_languages).
    announce_languages: list[Literal["zh", "en"]]


def _counter_name(center: CenterRules, number: int) -> dict[str, str]:
    try:
        return center.config.counter(number).name.model_dump()
    except KeyError:  # a counter since removed from the rules file
        return {"zh": f"{number}号窗口", "en": f"Counter {number}"}


@router.get("/board", response_model=BoardOut)
def board(request: Request, who: Watcher) -> dict[str, Any]:
    center = center_of(request, who)
    at = now(request)
    start, end = calls.day_bounds(at)
    with pool(request).connection() as conn:
        # Calls come from the log, not the tickets: a ticket called twice (it returned after
        # a no-show) was shown twice, and a returned ticket keeps no counter.
        latest = conn.execute(
            "SELECT DISTINCT ON (e.counter_no) e.counter_no, e.at, t.number, t.category, "
            "t.recalls, (t.state = 'called' AND t.counter_no = e.counter_no) AS serving "
            "FROM hall_event e JOIN ticket t ON t.id = e.ticket_id WHERE e.center_id = %s "
            "AND e.kind = 'called' AND e.at >= %s AND e.at < %s "
            "ORDER BY e.counter_no, e.at DESC, e.id DESC", (center.id, start, end)).fetchall()
        recent = conn.execute(
            "SELECT e.counter_no, e.at, t.number, t.category FROM hall_event e "
            "JOIN ticket t ON t.id = e.ticket_id WHERE e.center_id = %s AND e.kind = 'called' "
            "AND e.at >= %s AND e.at < %s ORDER BY e.at DESC, e.id DESC LIMIT %s",
            (center.id, start, end, RECENT_CALLS)).fetchall()
        counts = calls.waiting_counts(conn, center, calls.today(at))
    categories = []
    for cat in center.config.categories:
        closes = hours.closes_at(center, cat.id, at)
        categories.append({
            "category": cat.id,
            "title": cat.title.model_dump(),
            "waiting": counts.get(cat.id, (0, 0))[0],
            "priority_waiting": counts.get(cat.id, (0, 0))[1],
            "open": closes is not None,
            "closes_at": closes,
            "opens_at": None if closes is not None else hours.next_opening(center, cat.id, at),
            "periods_today": [{"start": s, "end": e} for s, e in
                              hours.open_periods(center, cat.id, calls.today(at))],
        })
    return {
        "center": {"id": center.id, "name": center.config.name.model_dump()},
        "at": at,
        "current": [{"number": r["number"], "category": r["category"],
                     "counter": r["counter_no"],
                     "counter_name": _counter_name(center, r["counter_no"]),
                     "called_at": r["at"].astimezone(SHANGHAI), "recalls": r["recalls"],
                     "serving": r["serving"]}
                    for r in latest],
        "recent": [{"number": r["number"], "category": r["category"], "counter": r["counter_no"],
                    "counter_name": _counter_name(center, r["counter_no"]),
                    "called_at": r["at"].astimezone(SHANGHAI)}
                   for r in recent],
        "categories": categories,
        "announce_languages": list(center.config.announce_languages),
    }
