"""What Home and the category screen say of a hall's opening hours and daily caps."""

from __future__ import annotations

import datetime as dt

from kiosk.backend.interface import QueueFigures
from kiosk.common.clock import SHANGHAI
from kiosk.ui.queue_status import category_status, nothing_open_notice, when_text

MONDAY_EVENING = dt.datetime(2026, 12, 7, 20, 0, tzinfo=SHANGHAI)


def figures(**kw: object) -> QueueFigures:
    base: dict[str, object] = {"category": "household", "waiting": 3, "priority_waiting": 0,
                               "minutes_per_ticket": 8.0}
    return QueueFigures(**{**base, **kw})  # type: ignore[arg-type]


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def test_the_embedded_backends_figures_read_as_before():
    status = category_status(figures(), MONDAY_EVENING)  # always open, no cap
    assert status.available and status.note == "" and not status.closed
    assert category_status(None, MONDAY_EVENING).available  # no figures yet


def test_a_daily_cap_shows_what_is_left_and_none_left_closes_the_category():
    assert category_status(figures(remaining_today=12), MONDAY_EVENING).note == "今日剩余 12 号"
    gone = category_status(figures(remaining_today=0), MONDAY_EVENING)
    assert not gone.available and gone.note == "今日号已取完" and not gone.closed


def test_closed_says_from_when_today_tomorrow_or_the_date():
    lunch = at(7, 12, 30)
    assert category_status(figures(open=False, opens_at=at(7, 13, 30)), lunch).note == (
        "13:30 起取号")
    night = category_status(figures(open=False, opens_at=at(8, 9)), MONDAY_EVENING)
    assert not night.available and night.closed and night.note == "明天 09:00 起取号"
    # The Saturday before the Spring Festival: the numbers come back on the Tuesday after.
    saturday = dt.datetime(2026, 2, 14, 20, 0, tzinfo=SHANGHAI)
    after = dt.datetime(2026, 2, 24, 9, 0, tzinfo=SHANGHAI)
    assert category_status(figures(open=False, opens_at=after), saturday).note == (
        "2月24日 09:00 起取号")
    assert when_text(after, saturday) == "2月24日 09:00"
    assert category_status(figures(open=False), MONDAY_EVENING).note == "近期不取号"


def test_figures_read_before_the_opening_do_not_keep_it_closed():
    read_at_night = figures(open=False, opens_at=at(8, 9))
    assert category_status(read_at_night, at(8, 9, 0)).available
    assert not category_status(read_at_night, at(8, 8, 59)).available


def test_homes_notice_only_when_no_category_gives_numbers():
    night = [category_status(figures(open=False, opens_at=at(8, 13, 30)), MONDAY_EVENING),
             category_status(figures(open=False, opens_at=at(8, 9)), MONDAY_EVENING)]
    notice = nothing_open_notice(night, MONDAY_EVENING)
    assert notice.startswith("现在不取号，明天 09:00 起可取号。")  # the earliest opening
    assert "一件事" in notice and "帮办" in notice  # the rest works at night
    assert nothing_open_notice(night, MONDAY_EVENING, brief=True) == (
        "现在不取号，明天 09:00 起可取号。")  # elder mode: fewer words
    one_open = [*night, category_status(figures(), MONDAY_EVENING)]
    assert nothing_open_notice(one_open, MONDAY_EVENING) == ""
    assert nothing_open_notice([], MONDAY_EVENING) == ""  # nothing known yet
    all_taken = [category_status(figures(remaining_today=0), MONDAY_EVENING)]
    assert nothing_open_notice(all_taken, MONDAY_EVENING).startswith("今日号已取完")
