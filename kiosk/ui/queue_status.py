"""What Home and the category screen say of a category's numbers: a hall's opening hours and
daily cap (放号量), worded here once for both screens.

A hall's figures (`GET /v1/queue`) say whether a category gives numbers now (`open`), when
it gives them next (`opens_at`: later today, tomorrow, or the working day after a holiday)
and, for a category with a daily cap, how many are left today (`remaining_today`). The
embedded backend has neither hours nor caps: its figures are always open with no count, and
read as they always have.

Figures are read when Home shows and, with a hall, every minute while it stays (app.py). A
category whose `opens_at` has passed since is taken as open: the numbers the hall promised
are being given, and the next reading says how many.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from kiosk.backend.interface import QueueFigures
from kiosk.common.clock import SHANGHAI

# Called with literal texts, as translate("queue_status", "..."), so pyside6-lupdate finds them.
translate = QCoreApplication.translate



@dataclass(frozen=True)
class CategoryStatus:
    """One category as the resident may use it now."""

    available: bool  # a number may be taken now
    note: str  # what the tile and Home add: "" | 今日剩余 N 号 | 明天 09:00 起取号 | 今日号已取完
    closed: bool = False  # outside opening hours (not merely out of numbers)
    opens_at: dt.datetime | None = None  # closed: when numbers are given next


OPEN = CategoryStatus(True, "")


def when_text(at: dt.datetime, now: dt.datetime) -> str:
    """A moment as a resident reads it: "09:00" today, "明天 09:00", else "2月24日 09:00"."""
    at = at.astimezone(SHANGHAI)
    days = (at.date() - now.astimezone(SHANGHAI).date()).days
    time = f"{at:%H:%M}"
    if days <= 0:
        return time
    if days == 1:
        return translate("queue_status", "明天 {time}").format(time=time)
    return translate("queue_status", "{month}{day}日 {time}").format(
        month=month_name(at.month), day=at.day, time=time)


def month_name(month: int) -> str:
    """"2月" / "Feb": from the translation, not the machine's locale."""
    names = (
        translate("queue_status", "1月"), translate("queue_status", "2月"),
        translate("queue_status", "3月"), translate("queue_status", "4月"),
        translate("queue_status", "5月"), translate("queue_status", "6月"),
        translate("queue_status", "7月"), translate("queue_status", "8月"),
        translate("queue_status", "9月"), translate("queue_status", "10月"),
        translate("queue_status", "11月"), translate("queue_status", "12月"),
    )
    return names[month - 1]


def category_status(fig: QueueFigures | None, now: dt.datetime) -> CategoryStatus:
    """Whether a number of this category may be taken now, and what to say about it."""
    if fig is None:
        return OPEN  # no figures yet (the backend has not answered): the backend decides
    if not fig.open:
        if fig.opens_at is None:
            return CategoryStatus(False, translate("queue_status", "近期不取号"), closed=True)
        if fig.opens_at <= now:
            return OPEN  # read before its opening, which has come since
        return CategoryStatus(
            False,
            translate("queue_status", "{when} 起取号").format(when=when_text(fig.opens_at, now)),
            closed=True, opens_at=fig.opens_at)
    if fig.remaining_today is None:
        return OPEN
    if fig.remaining_today <= 0:
        return CategoryStatus(False, translate("queue_status", "今日号已取完"))
    return CategoryStatus(
        True, translate("queue_status", "今日剩余 {n} 号").format(n=fig.remaining_today))


def nothing_open_notice(statuses: Iterable[CategoryStatus], now: dt.datetime, *,
                        brief: bool = False) -> str:
    """Home's notice when no category gives numbers now; "" while one does (or nothing is
    known yet). The other services work around the clock, and the notice says so, unless
    `brief` (elder mode: fewer words, and its Home shows 呼叫帮办 and 更多服务 anyway)."""
    found = list(statuses)
    if not found or any(s.available for s in found):
        return ""
    openings = [s.opens_at for s in found if s.opens_at is not None]
    if openings:
        closed = translate("queue_status", "现在不取号，{when} 起可取号。").format(
            when=when_text(min(openings), now))
    elif any(s.closed for s in found):
        closed = translate("queue_status", "近期不取号。")
    else:
        closed = translate("queue_status", "今日号已取完，请改日再来。")
    if brief:
        return closed
    others = translate("queue_status", "一件事、办件查询、好差评和帮办照常办理。")
    return translate("queue_status", "{closed}{others}").format(closed=closed, others=others)


def show_closed(tile: QWidget, closed: bool) -> None:
    """Draw a tile as closed (grey: the style sheet's `[closed="true"]`) or as usual. It stays
    enabled, so that a tap can be answered with the reason rather than with nothing."""
    if bool(tile.property("closed")) == closed:
        return
    tile.setProperty("closed", closed)
    style = tile.style()  # a dynamic property's rule applies once the style is renewed
    style.unpolish(tile)
    style.polish(tile)
    tile.update()
