"""The waiting estimate and the numbers left under a daily cap."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hall.rules.waits import (
    MIN_SAMPLES,
    estimated_wait_min,
    remaining_today,
    service_minutes,
)


def test_nobody_ahead_is_no_wait():
    assert estimated_wait_min(0, [], 8, 3) == 0
    assert estimated_wait_min(0, [30, 30, 30], 8, 0) == 0


def test_the_default_until_enough_is_measured():
    assert MIN_SAMPLES == 3
    assert estimated_wait_min(2, [], 8, 1) == 16
    assert estimated_wait_min(2, [1, 1], 8, 1) == 16
    assert estimated_wait_min(2, [1, 2, 3], 8, 1) == 4
    assert service_minutes([4, 5, 6, 9], 8) == 6


def test_shared_by_the_open_counters_and_rounded_up():
    assert estimated_wait_min(4, [], 8, 2) == 16
    assert estimated_wait_min(1, [], 7, 3) == 3  # 2.33 minutes
    # No counter open yet: the first that opens serves them alone.
    assert estimated_wait_min(3, [], 5, 0) == 15


def test_never_zero_with_someone_ahead():
    assert estimated_wait_min(1, [0, 0, 0], 8, 1) == 1
    assert estimated_wait_min(1, [0.1, 0.1, 0.1], 8, 10) == 1


def test_floating_point_noise_does_not_add_a_minute():
    # 5 × mean(4.5, 4.6, 4.7) is 23.000000000000004 in floating point.
    assert 5 * service_minutes([4.5, 4.6, 4.7], 8) > 23
    assert estimated_wait_min(5, [4.5, 4.6, 4.7], 8, 1) == 23


def test_unusable_measurements_are_left_out():
    assert service_minutes([math.nan, -3, math.inf, 6, 6], 8) == 8  # two usable: default
    assert service_minutes([math.nan, 3, 6, 9], 8) == 6


def test_remaining_today():
    assert remaining_today(0, 500) is None
    assert remaining_today(120, 100) == 20
    assert remaining_today(120, 120) == 0
    assert remaining_today(120, 130) == 0


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(0, 200), st.lists(st.floats(0, 120), max_size=8), st.floats(0.5, 60),
       st.integers(0, 12))
def test_grows_with_the_tickets_ahead(ahead, samples, default, counters):
    wait = estimated_wait_min(ahead, samples, default, counters)
    assert (wait == 0) == (ahead == 0)
    assert estimated_wait_min(ahead + 1, samples, default, counters) >= wait
