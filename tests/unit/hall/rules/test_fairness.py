"""Who a counter calls next: appointments at their time, priority before ordinary within a
streak, an ordinary ticket that waited too long, the counter's category order; and the
simulated order a board shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.common.clock import SHANGHAI
from kiosk.hall.rules.fairness import (
    Candidate,
    FairnessParams,
    ahead_of,
    call_order,
    choose_next,
    next_streak,
)

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
PARAMS = FairnessParams(max_priority_streak=3, ordinary_wait_limit_min=20)


def ticket(ticket_id: str, minutes_ago: float, *, priority: bool = False,
           category: str = "A", appointment_in: float | None = None) -> Candidate:
    """A waiting ticket issued `minutes_ago` before NOW; an appointment starting
    `appointment_in` minutes after NOW (negative: already started)."""
    start = None if appointment_in is None else NOW + dt.timedelta(minutes=appointment_in)
    return Candidate(ticket_id, category, priority, NOW - dt.timedelta(minutes=minutes_ago),
                     start)


def ids(candidates: Sequence[Candidate]) -> list[str]:
    return [c.ticket_id for c in candidates]


def pick(candidates: Sequence[Candidate], streak: int = 0, categories: Sequence[str] = ("A",),
         now: dt.datetime = NOW) -> str | None:
    chosen = choose_next(candidates, categories, {"A": streak}, now, PARAMS)
    return None if chosen is None else chosen.ticket_id


def test_priority_first_oldest_first():
    waiting = [ticket("o1", 30), ticket("p2", 5, priority=True), ticket("p1", 8, priority=True)]
    assert pick(waiting) == "p1"
    assert pick([ticket("o2", 3), ticket("o1", 4)]) == "o1"


def test_a_long_streak_lets_a_long_waiting_ordinary_ticket_go():
    waiting = [ticket("o1", 21), ticket("p1", 30, priority=True)]
    assert pick(waiting, streak=2) == "p1"  # streak not reached
    assert pick(waiting, streak=3) == "o1"
    assert pick(waiting, streak=5) == "o1"
    # Waited exactly the limit, not longer: priority still goes.
    assert pick([ticket("o1", 20), ticket("p1", 30, priority=True)], streak=3) == "p1"


def test_an_appointment_goes_first_at_its_time():
    waiting = [ticket("p1", 30, priority=True), ticket("o1", 40),
               ticket("a1", 1, appointment_in=0)]
    assert pick(waiting) == "a1"
    # Even past the streak with an ordinary ticket waiting long.
    assert pick(waiting, streak=9) == "a1"
    # Before its time it waits by its issue time, as the ordinary ticket it is.
    early = [ticket("o1", 40), ticket("a1", 50, appointment_in=1), ticket("o2", 30)]
    assert pick(early) == "a1"
    assert pick([ticket("o1", 40), ticket("a1", 1, appointment_in=1)]) == "o1"


def test_the_earliest_appointment_first():
    waiting = [ticket("a2", 30, appointment_in=-5), ticket("a1", 1, appointment_in=-10)]
    assert pick(waiting) == "a1"


def test_the_counters_category_order():
    waiting = [ticket("b1", 60, category="B"), ticket("a1", 1, category="A"),
               ticket("c1", 90, category="C")]
    assert pick(waiting, categories=["A", "B"]) == "a1"
    assert pick(waiting, categories=["B", "A"]) == "b1"
    assert pick([w for w in waiting if w.category != "A"], categories=["A", "B"]) == "b1"
    assert pick(waiting, categories=["D"]) is None
    assert pick([], categories=["A"]) is None


def test_the_streak_of_each_category():
    waiting = [ticket("b1", 25, category="B"), ticket("bp", 30, category="B", priority=True)]
    chosen = choose_next(waiting, ["B"], {"A": 5, "B": 3}, NOW, PARAMS)
    assert chosen is not None and chosen.ticket_id == "b1"
    chosen = choose_next(waiting, ["B"], {"A": 5}, NOW, PARAMS)
    assert chosen is not None and chosen.ticket_id == "bp"


def test_next_streak():
    streak = {"A": 2, "B": 1}
    assert next_streak(streak, ticket("p", 1, priority=True)) == {"A": 3, "B": 1}
    assert next_streak(streak, ticket("a", 1, appointment_in=0)) == {"A": 3, "B": 1}
    assert next_streak(streak, ticket("o", 1)) == {"A": 0, "B": 1}
    assert next_streak({}, ticket("p", 1, priority=True, category="C")) == {"C": 1}
    assert streak == {"A": 2, "B": 1}  # not changed in place


def test_call_order_simulates_the_streak():
    params = FairnessParams(max_priority_streak=2, ordinary_wait_limit_min=10)
    waiting = [ticket("o1", 40), ticket("o2", 35), ticket("o3", 5),
               *(ticket(f"p{n}", 30 - n, priority=True) for n in range(1, 6)),
               ticket("x", 50, category="B")]
    order = ids(call_order(waiting, "A", {"A": 0}, NOW, params))
    # Two priority calls, then the ordinary ticket that waited past the limit, and so on;
    # o3 has not waited 10 minutes, so the priority tickets go on before it.
    assert order == ["p1", "p2", "o1", "p3", "p4", "o2", "p5", "o3"]
    assert ids(call_order(waiting, "A", {"A": 2}, NOW, params))[:2] == ["o1", "p1"]
    assert ahead_of("o2", waiting, {"A": 0}, NOW, params) == 5
    assert ahead_of("p1", waiting, {"A": 0}, NOW, params) == 0
    assert ahead_of("x", waiting, {}, NOW, params) == 0
    with pytest.raises(KeyError):
        ahead_of("nobody", waiting, {}, NOW, params)


def test_call_order_with_time_passing():
    waiting = [ticket("o1", 10), ticket("o2", 9), ticket("o3", 8),
               ticket("a1", 1, appointment_in=10)]
    assert ids(call_order(waiting, "A", {}, NOW, PARAMS)) == ["o1", "o2", "o3", "a1"]
    # Five minutes a call: the appointment comes due for the third call.
    five = dt.timedelta(minutes=5)
    assert ids(call_order(waiting, "A", {}, NOW, PARAMS, step=five)) == [
        "o1", "o2", "a1", "o3"]
    assert ahead_of("o3", waiting, {}, NOW, PARAMS, step=five) == 3


def test_params_are_checked():
    with pytest.raises(ValueError):
        FairnessParams(max_priority_streak=0)
    with pytest.raises(ValueError):
        FairnessParams(ordinary_wait_limit_min=-1)
    assert FairnessParams() == PARAMS


# Properties over random queues -------------------------------------------------------------

candidates = st.lists(
    st.builds(
        ticket,
        ticket_id=st.text("abc", min_size=1, max_size=3),
        minutes_ago=st.integers(0, 60),
        priority=st.booleans(),
        category=st.sampled_from("AB"),
        appointment_in=st.none() | st.integers(-30, 30),
    ),
    max_size=12,
)
params_strategy = st.builds(FairnessParams, max_priority_streak=st.integers(1, 4),
                            ordinary_wait_limit_min=st.integers(0, 40))
PROPERTY = settings(max_examples=300, deadline=None, database=None)


@PROPERTY
@given(candidates, st.lists(st.sampled_from("ABC"), max_size=3, unique=True),
       st.dictionaries(st.sampled_from("AB"), st.integers(0, 6)), params_strategy)
def test_choose_next_picks_a_candidate_of_the_counter(waiting, categories, streak, params):
    chosen = choose_next(waiting, categories, streak, NOW, params)
    served = [c for c in waiting if c.category in categories]
    if not served:
        assert chosen is None
    else:
        assert chosen is not None
        assert any(chosen is c for c in waiting)
        # From the counter's first category with anyone waiting.
        first = next(cat for cat in categories if any(c.category == cat for c in waiting))
        assert chosen.category == first


def naive_order(waiting: list[Candidate], category: str, streak: dict[str, int],
                params: FairnessParams, step: dt.timedelta) -> list[Candidate]:
    """choose_next called over and over, each call removing the chosen ticket."""
    left, order, now = list(waiting), [], NOW
    while (chosen := choose_next(left, [category], streak, now, params)) is not None:
        order.append(chosen)
        left.remove(chosen)
        streak = next_streak(streak, chosen)
        now += step
    return order


@PROPERTY
@given(candidates, st.sampled_from("AB"), st.integers(0, 6), params_strategy,
       st.integers(0, 10))
def test_call_order_is_a_permutation_and_repeated_choose_next(waiting, category, streak,
                                                              params, step_minutes):
    step = dt.timedelta(minutes=step_minutes)
    order = call_order(waiting, category, {category: streak}, NOW, params, step=step)
    mine = [c for c in waiting if c.category == category]
    assert sorted(map(id, order)) == sorted(map(id, mine))
    assert ids(order) == ids(naive_order(waiting, category, {category: streak}, params, step))
