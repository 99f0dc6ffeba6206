"""Each exit status has one name (tests/packaging/test_systemd_unit.py checks the unit agrees)."""

from __future__ import annotations

from kiosk.common import exitcodes


def test_every_value_has_one_name() -> None:
    codes = {name: value for name, value in vars(exitcodes).items() if name.startswith("EXIT_")}
    assert len(codes) >= 7
    assert len(set(codes.values())) == len(codes), codes
