"""The contract's shared vocabulary: which 好差评 reasons suit which level (the kiosk's screen
and the hall's phone form both offer these)."""

from __future__ import annotations

from kiosk.backend.interface import (
    NEGATIVE_REASONS,
    POSITIVE_REASONS,
    RATING_LEVELS,
    RATING_REASONS,
    reasons_for_level,
)


def test_reasons_follow_the_level():
    assert reasons_for_level(5) == reasons_for_level(4) == list(POSITIVE_REASONS)
    assert reasons_for_level(2) == reasons_for_level(1) == list(NEGATIVE_REASONS)
    assert reasons_for_level(3) == list(RATING_REASONS)
    assert "fast" not in reasons_for_level(2) and "too_slow" not in reasons_for_level(4)


def test_every_reason_is_offered_at_some_level_and_sorted_once():
    offered = {r for level in RATING_LEVELS for r in reasons_for_level(level)}
    assert offered == set(RATING_REASONS)
    assert not set(POSITIVE_REASONS) & set(NEGATIVE_REASONS)
