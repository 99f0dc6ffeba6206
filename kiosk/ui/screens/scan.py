"""Scan: live camera preview, the instruction, and the way out for residents without a phone."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from kiosk.ui import messages
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.action_button import ActionButton
from kiosk.ui.widgets.camera_view import CameraView


class ScanScreen(Screen):
    """One scan screen per purpose: take a number, 办件查询, 预约签到."""

    name = ScreenName.SCAN
    noPhoneChosen = Signal()

    def __init__(self, theme: Theme, purpose: str = "ticket",
                 parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.purpose = purpose
        self.name = {"ticket": ScreenName.SCAN, "query": ScreenName.QUERY_SCAN,
                     "checkin": ScreenName.CHECKIN_SCAN}[purpose]
        self.instruction = self.label(name="title", center=True)
        self.hint = self.label(name="subtitle", center=True)
        self.camera = CameraView()
        self.message = self.label(name="error")
        self.message.hide()
        self.status = self.label(name="subtitle", center=True)
        self._status_text = ""  # what this screen is doing ("正在查询…")
        self._camera_out = False  # the camera is not delivering: said whenever nothing else is
        self.steps = self.label(name="subtitle")
        # Shown only where an ID card reader is configured and answering (set_card_reader).
        self.card_hint = self.label(name="notice")
        self.card_hint.hide()
        self._card_reader = False
        self.no_phone_button = ActionButton()  # wraps: a long English label in elder type
        self.no_phone_button.clicked.connect(self.noPhoneChosen)
        self.layout_.addWidget(self.instruction)
        self.layout_.addWidget(self.hint)
        if theme.portrait:
            self.layout_.addWidget(self.camera, 1)
            self.layout_.addWidget(self.message)
            self.layout_.addWidget(self.status)
            self.layout_.addWidget(self.card_hint)
            self.layout_.addWidget(self.no_phone_button)
        else:
            row = QHBoxLayout()
            self._row = row
            row.addWidget(self.camera, 3)
            side = QVBoxLayout()
            side.addWidget(self.steps)
            side.addWidget(self.message)
            side.addWidget(self.status)
            side.addStretch(1)
            side.addWidget(self.card_hint)
            side.addWidget(self.no_phone_button)
            row.addLayout(side, 2)
            self.layout_.addLayout(row, 1)
        self.apply_theme()
        self.retranslate()

    def apply_theme(self) -> None:
        elder = self.theme.elder
        self.camera.text_px = self.theme.px(34)
        if self.theme.portrait:
            # The larger type needs the room; the guide frame stays well above phone size.
            self.camera.setMinimumHeight(700 if elder else 900)
        else:
            # Elder mode: half the width for the (larger) words; the numbered steps beside
            # the camera say what the hint above it says, so the hint is left out.
            self._row.setStretch(0, 1 if elder else 3)
            self._row.setStretch(1, 1 if elder else 2)
            self.hint.setVisible(not elder)

    def retranslate(self) -> None:
        if self.purpose == "query":
            self.instruction.setText(self.tr("请扫描排队凭条或回执上的二维码，或出示随申码"))
            self.no_phone_button.setText(self.tr("没有回执和手机？呼叫帮办"))
        elif self.purpose == "checkin":
            self.instruction.setText(self.tr("预约签到：请出示随申码"))
            self.no_phone_button.setText(self.tr("没有手机？直接取普通号"))
        else:
            self.instruction.setText(self.tr("请出示随申码"))
            self.no_phone_button.setText(self.tr("没有手机？直接取号"))
        self.hint.setText(
            self.tr("打开“随申办”App，将随申码对准屏幕中间的方框，距离约 20 厘米")
        )
        self.steps.setText(
            self.tr("① 打开“随申办”App\n② 点击首页的“随申码”\n③ 将手机屏幕对准左侧方框")
        )
        self.card_hint.setText(self.tr("也可以刷身份证：\n请将身份证平放在读卡区"))
        self._refresh_status()

    def title_text(self) -> str:
        return {"query": self.tr("办件查询"), "checkin": self.tr("预约签到")}.get(
            self.purpose, self.tr("扫码取号"))

    def spoken_text(self) -> str:
        return sentences(self.instruction.text(), self.hint.text(),
                         self.card_hint.text() if self._card_reader else "")

    def set_card_reader(self, available: bool) -> None:
        """Whether an ID card reader is there to use: the hint says so only then."""
        self._card_reader = available
        self.card_hint.setVisible(available)

    def wants_codes(self) -> bool:
        return True

    def set_frame(self, image: QImage) -> None:
        if self.isVisible():
            self.camera.set_frame(image)

    def show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        if self.theme.elder:
            self.steps.hide()  # one message at a time: what went wrong says what to do
        self.announced.emit(text, False)  # a refused code: heard, not only shown

    def show_status(self, text: str) -> None:
        self._status_text = text
        self._refresh_status()

    def set_camera_out(self, out: bool) -> None:
        """The camera's state, kept across sessions (it is nobody's data): a resident who
        opens this screen while the camera is already out must read it at once."""
        self._camera_out = out
        self._refresh_status()

    def _refresh_status(self) -> None:
        self.status.setText(self._status_text
                            or (messages.camera_problem(self.no_phone_button.text())
                                if self._camera_out else ""))

    def entered(self) -> None:
        self.message.hide()
        self.steps.setVisible(not self.theme.portrait)

    def clear(self) -> None:
        self.message.clear()
        self.message.hide()
        self.steps.setVisible(not self.theme.portrait)
        self._status_text = ""
        self._refresh_status()
        self.camera.clear()
