"""摄像头: the live picture, the scanner's figures, and what the last decoded code was.

What a code is, never whose: the page shows a code's kind and signing key, not its reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from kiosk.ui.screens.maintenance.parts import InfoGrid, breakable, show_message
from kiosk.ui.screens.maintenance.section import Section
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.camera_view import CameraView
from kiosk.ui.widgets.label import label


@dataclass(frozen=True)
class DecodedCode:
    """What the camera page may show of a decoded code: never its reference (a resident's
    id or an application number is personal)."""

    kind: str  # "R", "T", "A", "C", or "" if not one of our codes
    key_id: str
    trusted: bool
    problem: str  # "" or a PayloadProblem value (not_ours, malformed, ...)
    at: dt.datetime


class CameraSection(Section):
    """The camera's picture beside its state, frame rate, decode time and last code."""

    key = "camera"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.camera = CameraView()
        self.info = InfoGrid(
            ("state", "fps", "decode", "dropped", "device", "exposure", "decoder", "last")
        )
        self.error = label(name="error")
        self.error.hide()
        if theme.portrait:
            self.camera.setMinimumHeight(560)
            self.layout_.addWidget(self.camera, 1)
            self.layout_.addWidget(self.info)
        else:
            row = QHBoxLayout()
            row.setSpacing(24)
            row.addWidget(self.camera, 3)
            side = QVBoxLayout()
            side.addWidget(self.info)
            side.addStretch(1)
            row.addLayout(side, 2)
            self.layout_.addLayout(row, 1)
        self.layout_.addWidget(self.error)
        for key in self.info.values:
            self.info.set(key, "—")

    def title(self) -> str:
        return self.tr("摄像头")

    def retranslate(self) -> None:
        super().retranslate()
        for key, text in (
            ("state", self.tr("状态")),
            ("fps", self.tr("帧率")),
            ("decode", self.tr("识别耗时")),
            ("dropped", self.tr("丢弃帧数")),
            ("device", self.tr("设备")),
            ("exposure", self.tr("曝光")),
            ("decoder", self.tr("识别器")),
            ("last", self.tr("最近识别")),
        ):
            self.info.set_key(key, text)

    def switched(self, visible: bool) -> None:
        if not visible:
            self.camera.clear()  # a stale picture of whoever stood there is not kept

    def clear(self) -> None:
        # The picture and the last decoded code may concern a resident.
        self.camera.clear()
        self.info.set("last", "—")

    def set_frame(self, image: QImage) -> None:
        # Visible only while this is the shown section of the shown screen.
        if self.isVisible():
            self.camera.set_frame(image)

    def set_state(self, state: str) -> None:
        names = {
            "starting": self.tr("正在启动"),
            "running": self.tr("正常"),
            "unavailable": self.tr("不可用"),
            "stale": self.tr("画面停止"),
            "restarting": self.tr("识别进程重启中"),
        }
        self.info.set("state", names.get(state, state))

    def set_stats(self, stats: Mapping[str, object]) -> None:
        info = self.info
        info.set("fps", f"{stats.get('fps', 0)}")
        info.set("decode", self.tr("{ms} 毫秒（中位数）").format(
            ms=stats.get("decode_ms_median", 0)))
        info.set("dropped", str(stats.get("frames_dropped", 0)))
        info.set("device", str(stats.get("camera") or "—"))
        exposure = stats.get("exposure")
        info.set("exposure", "—" if exposure in (None, "") else str(exposure))
        info.set("decoder", str(stats.get("decoder") or "—"))
        state = stats.get("state")
        if isinstance(state, str):
            self.set_state(state)
        error = stats.get("error")
        if error:
            show_message(self.error, breakable(str(error)), "error")
        else:
            self.error.hide()

    def show_decoded(self, code: DecodedCode) -> None:
        kinds = {
            "R": self.tr("随申码（个人码）"),
            "T": self.tr("排队凭条码"),
            "A": self.tr("预约码"),
            "C": self.tr("办件回执码"),
        }
        problems = {
            "not_ours": self.tr("不是本系统的码"),
            "malformed": self.tr("本系统的码，但已损坏"),
            "unsupported_version": self.tr("本系统的码，但版本不支持"),
            "wrong_kind": self.tr("本系统的码，但类型未知"),
        }
        when = code.at.strftime("%H:%M:%S")
        if code.kind:
            trust = self.tr("已信任") if code.trusted else self.tr("未知密钥")
            text = self.tr("{when} {kind}，密钥 {key}（{trust}）").format(
                when=when, kind=kinds.get(code.kind, code.kind), key=code.key_id, trust=trust)
        else:
            text = f"{when} {problems.get(code.problem, code.problem)}"
        self.info.set("last", text)
