"""The whole kiosk on emulated hardware, driven as a resident would drive it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import zxingcpp
from PIL import Image

from kiosk.app import Kiosk, build, shanghai_now
from kiosk.backend.seed import hall_hours_clock
from kiosk.config.loader import load_config
from kiosk.config.schema import EmulatedCameraConfig, KioskConfig
from kiosk.devtools.codes import code_text
from kiosk.devtools.escpos_render import render_png, render_text
from kiosk.domain import payloads

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "kiosk.toml"


def make_config(data_dir: Path, printer: dict | None = None, config_file: Path = SHIPPED,
                **screen: object) -> KioskConfig:
    base = load_config(config_file)
    return base.model_copy(
        update={
            "camera": EmulatedCameraConfig(source="blank"),
            "printer": base.printer.model_copy(update=printer or {}),
            "paths": base.paths.model_copy(update={"data_dir": str(data_dir)}),
            "screen": base.screen.model_copy(update={"fullscreen": False, **screen}),
        }
    )


@dataclass
class Printed:
    data: bytes
    text: str
    qr_texts: list[str]


def read_printout(data: bytes, paper_dots: int = 576, columns: int = 48) -> Printed:
    """What the resident holds: the bytes rendered to text, and the QR decoded from the image."""
    text = render_text(data, columns=columns).text
    image: Image.Image = render_png(data, paper_dots=paper_dots)
    qr_texts = [r.text for r in zxingcpp.read_barcodes(image.convert("L"))]
    return Printed(data, text, qr_texts)


class Resident:
    """A person at the kiosk: taps buttons and holds a phone to the emulated camera."""

    def __init__(self, kiosk: Kiosk, qtbot) -> None:
        self.kiosk = kiosk
        self.qtbot = qtbot
        self.c = kiosk.controller
        key_file = kiosk.paths.config_dir / kiosk.config.qr.demo_signing_key
        self.key = payloads.load_private_key(key_file.read_bytes())

    @property
    def screen(self) -> str:
        return self.kiosk.window.current().name

    def wait_screen(self, name: str, timeout: int = 5000) -> None:
        self.qtbot.waitUntil(lambda: self.screen == name, timeout=timeout)

    def tap(self, button) -> None:
        from PySide6.QtCore import Qt

        assert button.isVisible() and button.isEnabled(), button.text()
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def code(self, resident_id: str, variant: str = "valid") -> str:
        # Signed at the kiosk's own time, so tests that move the kiosk's clock stay valid.
        now = self.kiosk.controller.ctx.clock().timestamp()
        return code_text(self.key, "demo", resident_id, variant, now=now)

    def show_phone(self, text: str) -> None:
        self.kiosk.camera.show_text(text)

    def put_phone_away(self) -> None:
        self.kiosk.camera.blank()

    def jobs(self) -> list[bytes]:
        return list(self.kiosk.printer_transport.jobs)

    def wait_printout(self, count_before: int, timeout: int = 5000) -> Printed:
        self.qtbot.waitUntil(lambda: len(self.jobs()) > count_before, timeout=timeout)
        return read_printout(self.jobs()[-1])

    def scan_in(self, resident_id: str) -> None:
        self.tap(self.c.home.scan_button)
        self.wait_screen("scan")
        self.show_phone(self.code(resident_id))
        self.wait_screen("category", timeout=8000)
        self.put_phone_away()


@pytest.fixture
def kiosk_factory(qtbot, tmp_path) -> Iterator:
    built: list[Kiosk] = []

    def factory(data_dir: Path | None = None, printer: dict | None = None,
                config_file: Path = SHIPPED, clock=None, **screen: object) -> Kiosk:
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
