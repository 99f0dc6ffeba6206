"""The whole kiosk on emulated hardware, driven as a resident would drive it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from kiosk.app import Kiosk, build
from kiosk.backend.seed import hall_hours_clock
from kiosk.common.clock import shanghai_now
from tests.helpers.config import make_config
from tests.helpers.paths import SHIPPED_CONFIG
from tests.helpers.resident import Resident


@pytest.fixture
def kiosk_factory(qtbot, tmp_path) -> Iterator:
    built: list[Kiosk] = []

    def factory(data_dir: Path | None = None, printer: dict | None = None,
                config_file: Path = SHIPPED_CONFIG, clock=None, **screen: object) -> Kiosk:
        # By default the kiosk lives in the hall's day (today, from 10:00): the demo
        # appointments mean what their roles say only by day, and a suite run at night must
        # see the same outcomes as one run by day.
        k = build(make_config(data_dir or tmp_path / "data", printer, config_file, **screen),
                  config_file, kiosk_mode=False,
                  clock=clock if clock is not None else hall_hours_clock(shanghai_now))
        k.window.show()
        built.append(k)
        return k

    yield factory
    for k in built:
        k.shutdown()


@pytest.fixture
def kiosk(kiosk_factory) -> Kiosk:
    return kiosk_factory()


@pytest.fixture
def resident(kiosk, qtbot) -> Resident:
    return Resident(kiosk, qtbot)


@pytest.fixture
def resident_at(qtbot):
    return lambda k: Resident(k, qtbot)
