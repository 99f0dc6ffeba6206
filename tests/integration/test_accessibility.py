"""The MIIT 2021 适老化 figures on every screen of every flow: zh and en, normal and elder
mode (长辈模式), landscape and portrait panels.

  * every touch target >= 60 x 60 dp;
  * every text >= 18 dp, and >= 28 px on a 1080p panel in the normal mode, >= 42 px (x1.5)
    in elder mode;
  * text contrast >= 4.5:1 in the normal mode, >= 7:1 in elder mode.

dp are converted with the panel's DPI from the config (screen.dpi): dp = px x 160 / dpi.

Contrast is measured on what is painted, not on what the style sheet is believed to say:
the window is grabbed once per state and, inside each text widget's text area (a label's
contents, a button's contents inside its border and padding), the most frequent colour is
the background and the most frequent colour clearly apart from it (contrast >= 1.5:1, so not
an anti-aliased edge pixel) is the text's ink. This sees what a palette lookup cannot: the
style sheet's cascade and :checked/:disabled states, transparent labels over cards and bars,
the idle overlay's translucent layer, and text painted by hand (WrapButton's detail line).
Anti-aliasing can only make the measured ink lighter, never darker: the figure errs low.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QFontInfo, QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QWidget,
)

from kiosk.ui.widgets.camera_view import CameraView
from kiosk.ui.widgets.wrap_button import WrapButton
from tests.integration.test_layout import (
    check_screen,
    quiet,
    settle_layouts,
    visible_widgets,
    walk_every_screen,
)
from tests.integration.test_translations import button_overflow

MIN_TARGET_DP = 60
MIN_TEXT_DP = 18
MIN_TEXT_PX_1080P = 28
ELDER_SCALE = 1.5
MIN_CONTRAST = {False: 4.5, True: 7.0}
SHOTS = os.environ.get("KIOSK_A11Y_SHOTS")  # a folder: every checked state as a PNG


def dp(px: float, dpi: float) -> float:
    return px * 160 / dpi


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def grab(window: QWidget) -> np.ndarray:
    image = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * h)
    rgb = raw.reshape(h, image.bytesPerLine())[:, : w * 3].reshape(h, w, 3)
    return (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[
        ..., 2]


def unpack(code: int) -> tuple[int, int, int]:
    return (code >> 16) & 255, (code >> 8) & 255, code & 255


def painted_colours(codes: np.ndarray, rect: QRect, expected_ink: tuple | None = None,
                    ) -> tuple[tuple, tuple, int] | None:
    """(ink, background, ink pixels) inside `rect` of the grabbed window, or None if nothing
    but one colour is painted there.

    The background is the most frequent colour. The ink is the widget's own text colour
    (its palette after the style sheet's polish) if that colour is painted there, else the
    most frequent colour clearly apart from the background (contrast >= 1.5:1: not an
    anti-aliased edge). The palette alone is not trusted (a :checked rule paints another
    colour), and the most frequent colour alone is not enough under the idle overlay, where
    the screen's own text shows through the translucent layer around the overlay's text."""
    h, w = codes.shape
    x0, y0 = max(0, rect.left()), max(0, rect.top())
    x1, y1 = min(w, rect.right() + 1), min(h, rect.bottom() + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    values, counts = np.unique(codes[y0:y1, x0:x1], return_counts=True)
    order = np.argsort(counts)[::-1]
    background = unpack(int(values[order[0]]))
    if expected_ink is not None and expected_ink != background:
        code = (expected_ink[0] << 16) | (expected_ink[1] << 8) | expected_ink[2]
        hit = np.nonzero(values == code)[0]
        if hit.size and counts[hit[0]] >= 12:
            return expected_ink, background, int(counts[hit[0]])
    for i in order[1:]:
        colour = unpack(int(values[i]))
        if contrast(colour, background) >= 1.5:
            return colour, background, int(counts[i])
    return None


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def palette_ink(widget: QWidget) -> tuple[int, int, int]:
    colour = widget.palette().color(widget.foregroundRole())
    return colour.red(), colour.green(), colour.blue()


def text_area(widget: QWidget, window: QWidget) -> QRect:
    """Where the widget's text is drawn, in window coordinates."""
    if isinstance(widget, QPushButton):
        opt = QStyleOptionButton()
        widget.initStyleOption(opt)
        rect = widget.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, opt,
                                             widget)
    else:
        rect = widget.contentsRect()
    rect = rect.adjusted(2, 2, -2, -2)
    return QRect(widget.mapTo(window, rect.topLeft()), rect.size())


def font_px(widget: QWidget) -> list[int]:
    sizes = [QFontInfo(widget.font()).pixelSize()]
    if isinstance(widget, WrapButton) and widget.detail():
        sizes.append(QFontInfo(widget.detail_font()).pixelSize())
    return sizes


class Miit:
    """Checks one state of the window; keeps the worst figures (and where they were)."""

    def __init__(self, kiosk, elder: bool) -> None:
        self.kiosk = kiosk
        self.elder = elder
        self.dpi = kiosk.config.screen.dpi
        # 28 px is the 1080p figure; a panel of another height scales it.
        scale = kiosk.window.height() / 1080 if not kiosk.window.theme.portrait else (
            kiosk.window.width() / 1080)
        self.min_text_px = max(MIN_TEXT_PX_1080P * scale, MIN_TEXT_DP * self.dpi / 160)
        if elder:
            self.min_text_px *= ELDER_SCALE
        self.min_target_px = MIN_TARGET_DP * self.dpi / 160
        self.min_contrast = MIN_CONTRAST[elder]
        self.target = (1e9, "")
        self.text = (1e9, "")
        self.contrast = (1e9, "")
        self.states = 0
        self.widgets = 0
        self.layout: dict = {}

    def __call__(self, name: str) -> None:
        window = self.kiosk.window
        settle_layouts()
        if SHOTS:
            folder = Path(SHOTS)
            folder.mkdir(parents=True, exist_ok=True)
            mode = "elder" if self.elder else "normal"
            shot = (f"{window.language}-{mode}-{window.width()}x{window.height()}-"
                    f"{self.states:02d}-{name}.png")
            window.grab().save(str(folder / shot))
        check_screen(window, name, self.layout)  # and nothing squeezed or off the panel
        self.states += 1
        codes = grab(window)
        # Under the idle countdown only the overlay is what the resident can read.
        root = window.overlay if window.overlay.isVisible() else window
        problems = []
        for button in visible_widgets(root, QAbstractButton):
            side = min(button.width(), button.height())
            where = f"{name}: button {button.text()[:30]!r}"
            if side < self.target[0]:
                self.target = (side, where)
            if side < self.min_target_px:
                problems.append(f"{where} is {button.width()}x{button.height()} px "
                                f"({dp(side, self.dpi):.0f} dp)")
            overflow = button_overflow(button)  # its words inside its border, all of them
            if overflow:
                problems.append(f"{where}: {overflow}")
        texts: list[QWidget] = [lab for lab in visible_widgets(root, QLabel)
                                if lab.text().strip() and (lab.pixmap() is None
                                                           or lab.pixmap().isNull())]
        texts += [b for b in visible_widgets(root, QAbstractButton) if b.text().strip()]
        for widget in texts:
            self.widgets += 1
            where = f"{name}: {type(widget).__name__} {widget.text()[:30]!r}"
            for px in font_px(widget):
                if px < self.text[0]:
                    self.text = (px, where)
                if px < self.min_text_px:
                    problems.append(f"{where} at {px} px ({dp(px, self.dpi):.0f} dp)")
            found = painted_colours(codes, text_area(widget, window), palette_ink(widget))
            if found is None:
                problems.append(f"{where}: no text painted")
                continue
            ink, background, _ = found
            ratio = contrast(ink, background)
            pair = f"{hex_colour(ink)} on {hex_colour(background)}"
            if ratio < self.contrast[0]:
                self.contrast = (ratio, f"{where} {pair}")
            if ratio < self.min_contrast:
                problems.append(f"{where}: contrast {ratio:.2f}:1 ({pair})")
        for camera in visible_widgets(root, CameraView):
            if camera.text_px < self.min_text_px:
                problems.append(f"{name}: camera message at {camera.text_px} px")
        assert not problems, "\n".join(problems)

    def summary(self) -> str:
        return (f"smallest target {self.target[0]} px = {dp(self.target[0], self.dpi):.0f} dp "
                f"({self.target[1]}); smallest text {self.text[0]} px = "
                f"{dp(self.text[0], self.dpi):.0f} dp ({self.text[1]}); lowest contrast "
                f"{self.contrast[0]:.1f}:1 ({self.contrast[1]})")


COMBINATIONS = [(lang, elder, orientation) for orientation in ("landscape", "portrait")
                for lang in ("zh", "en") for elder in (False, True)]


@pytest.mark.parametrize(("language", "elder", "orientation"), COMBINATIONS,
                         ids=[f"{lang}-{'elder' if e else 'normal'}-{o}"
                              for lang, e, o in COMBINATIONS])
def test_miit_figures_on_every_screen(kiosk_factory, resident_at, language, elder,
                                      orientation):
    started = time.monotonic()
    kiosk = kiosk_factory(orientation=orientation)
    quiet(kiosk)
    person = resident_at(kiosk)
    miit = Miit(kiosk, elder)
    names: list[str] = []

    def visit(name: str) -> None:
        names.append(name)
        miit(name)

    walk_every_screen(kiosk, person, visit, language=language, elder=elder)
    expected = {"home", "scan", "category", "ticket", "rating", "help", "bundles", "wizard",
                "bundle_result", "query_scan", "query_result", "checkin_scan", "checkin_result"}
    if elder:
        expected.add("services")
    assert set(names) >= expected, set(names) ^ expected
    assert miit.target[0] >= miit.min_target_px
    assert miit.text[0] >= miit.min_text_px
    assert miit.contrast[0] >= miit.min_contrast
    mode = "elder" if elder else "normal"
    print(f"\n{language}-{mode}-{orientation}: {miit.states} states, {miit.widgets} texts, "
          f"{time.monotonic() - started:.1f} s; {miit.summary()}")


def test_contrast_measurement_sees_what_is_painted(qapp):
    """The measurement itself: a known pair of colours, a label over a card."""
    from PySide6.QtWidgets import QFrame, QVBoxLayout

    frame = QFrame()
    frame.setStyleSheet("QFrame { background: #ffffff; } QLabel { color: #767676; "
                        "font-size: 40px; }")
    layout = QVBoxLayout(frame)
    label = QLabel("对比度 Contrast")
    layout.addWidget(label)
    frame.resize(600, 120)
    frame.show()
    QApplication.processEvents()
    found = painted_colours(grab(frame), text_area(label, frame))
    assert found is not None
    ink, background, _ = found
    assert background == (255, 255, 255)
    assert ink == (0x76, 0x76, 0x76)
    assert 4.5 <= contrast(ink, background) < 4.6  # #767676 on white: 4.54:1
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    frame.close()
    assert QPoint(0, 0) == frame.mapTo(frame, QPoint(0, 0))
