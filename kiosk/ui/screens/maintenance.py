"""The technicians' screens: the maintenance PIN, then one screen with every section.

Technicians service terminals at night, standing, with a finger: the same large targets as
for residents, sections chosen from a column of big buttons rather than small tabs. Text a
technician reads in bulk (the log, the config) is monospace and smaller; everything else
keeps the residents' sizes. Like every screen, these only show what they are given and emit
what was chosen; `kiosk.ui.controllers.maintenance` talks to the services.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QScroller,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.log_buffer import LogLine
from kiosk.ui.screens.base import Screen
from kiosk.ui.theme import Theme
from kiosk.ui.widgets import CameraView, WrapButton
from kiosk.ui.widgets.keypad import Keypad, apply_key

PIN_MAX_LEN = 12  # kiosk.domain.pin accepts 6-12 digits
MASK = "●"
ERRORS_SHOWN = 50
NAV_PX = 70  # content height: with padding and border a section button is 84 px (floor: 80)

SECTIONS = ("printer", "camera", "link", "errors", "config", "stats", "bundles", "exit")

_STYLE = f"""
QPushButton#maintNav {{
  min-height: {NAV_PX}px; max-height: {NAV_PX}px; font-size: 30px; padding: 4px 16px;
}}
QPlainTextEdit#mono {{
  font-family: "Noto Sans Mono CJK SC", monospace; font-size: 22px;
  background: #ffffff; border: 2px solid #c7d2e3; border-radius: 8px;
}}
QScrollArea {{ background: transparent; border: none; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
QScrollBar:vertical {{ width: 36px; }}
"""


def breakable(text: str) -> str:
    """`text` with zero-width spaces after separators, so a long path or key can wrap.

    A word-wrapped QLabel breaks only at spaces; an unbroken path would widen the label past
    the panel's edge instead.
    """
    for sep in ("/", "\\", "_", ".", ":", ",", "=", "-"):
        text = text.replace(sep, sep + "\u200b")
    return text


def _label(text: str = "", name: str = "", wrap: bool = True) -> QLabel:
    lab = QLabel(text)
    if name:
        lab.setObjectName(name)
    lab.setWordWrap(wrap)
    return lab


def _scrolling(widget: QWidget) -> None:
    """Drag to scroll, as on a phone: a scroll bar is a small target for a finger."""
    QScroller.grabGesture(widget, QScroller.ScrollerGestureType.LeftMouseButtonGesture)


def _mono() -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setObjectName("mono")
    edit.setReadOnly(True)
    edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
    edit.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    edit.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
    _scrolling(edit.viewport())
    return edit


class InfoGrid(QWidget):
    """Rows of `key  value` labels, the value word-wrapped."""

    def __init__(self, keys: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(10)
        grid.setColumnStretch(1, 1)
        self.keys: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        for row, key in enumerate(keys):
            k = _label(name="small", wrap=False)
            v = _label()
            v.setTextFormat(Qt.TextFormat.PlainText)
            grid.addWidget(k, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(v, row, 1)
            self.keys[key] = k
            self.values[key] = v

    def set_key(self, key: str, text: str) -> None:
        self.keys[key].setText(text)

    def set(self, key: str, text: str) -> None:
        self.values[key].setText(breakable(text))

    def value(self, key: str) -> str:
        return self.values[key].text().replace("\u200b", "")


class ConfirmRow(QFrame):
    """An inline "are you sure?": a modal dialog would be small, and could hide behind the
    full-screen window."""

    confirmed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.question = _label(name="notice")
        row = QHBoxLayout()
        self.yes = QPushButton()
        self.yes.setObjectName("primary")
        self.no = QPushButton()
        row.addWidget(self.no)
        row.addWidget(self.yes)
        layout.addWidget(self.question)
        layout.addLayout(row)
        self.yes.clicked.connect(self._yes)
        self.no.clicked.connect(self.hide)
        self.hide()

    def ask(self, question: str, yes: str, no: str) -> None:
        self.question.setText(question)
        self.yes.setText(yes)
        self.no.setText(no)
        self.show()

    def _yes(self) -> None:
        self.hide()
        self.confirmed.emit()


# ------------------------------------------------------------------------------ the PIN


class PinScreen(Screen):
    """The maintenance PIN: a masked entry, digits only, and why it was refused."""

    name = "maintenance_pin"
    submitted = Signal(str)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self._pin = ""
        self._busy = False
        self._enabled = True
        self.heading = self.label(name="title")
        self.prompt = self.label(name="subtitle")
        self.entry = QLabel()
        self.entry.setObjectName("entry")
        self.entry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = self.label(name="error")
        self.message.hide()
        self.keypad = Keypad()
        # Digits only: a PIN never has an X, and a visible key that does nothing confuses.
        self.keypad.keys["X"].hide()
        self.keypad.keyPressed.connect(self._key)
        self.confirm_button = QPushButton()
        self.confirm_button.setObjectName("primary")
        self.confirm_button.clicked.connect(self._submit)
        text = QVBoxLayout()
        text.setSpacing(24)
        for w in (self.heading, self.prompt, self.entry, self.message):
            text.addWidget(w)
        text.addStretch(1)
        if theme.portrait:
            self.layout_.addLayout(text)
            self.layout_.addWidget(self.keypad)
            self.layout_.addWidget(self.confirm_button)
        else:
            row = QHBoxLayout()
            row.setSpacing(48)
            text.addWidget(self.confirm_button)
            row.addLayout(text, 1)
            # At its natural height: stretched over the page, the rows drift apart.
            row.addWidget(self.keypad, 1, Qt.AlignmentFlag.AlignVCenter)
            self.layout_.addLayout(row, 1)
        self.clear()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("请输入维护密码"))
        self.prompt.setText(self.tr("6–12 位数字，仅限技术人员使用"))
        self.confirm_button.setText(self.tr("确认"))
        self.keypad.retranslate()

    def title_text(self) -> str:
        return self.tr("终端维护")

    # --- entry ----------------------------------------------------------------------------
    def _key(self, key: str) -> None:
        if self._busy or not self._enabled:
            return
        self._pin = apply_key(self._pin, key, PIN_MAX_LEN)
        self.entry.setText(MASK * len(self._pin))
        self._update_confirm()

    def _submit(self) -> None:
        if self._busy or not self._pin:
            return
        pin, self._pin = self._pin, ""  # not kept on screen while it is being checked
        self.entry.clear()
        self.submitted.emit(pin)

    def _update_confirm(self) -> None:
        self.confirm_button.setEnabled(self._enabled and not self._busy and bool(self._pin))

    # --- what the controller says ---------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        if busy:
            self._show(self.tr("正在核对……"), "notice")
        self._update_confirm()

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        for key in self.keypad.keys.values():
            key.setEnabled(enabled)
        self.keypad.clear_key.setEnabled(enabled)
        if not enabled:
            self._pin = ""
            self.entry.clear()
        self._update_confirm()

    def show_wrong(self, remaining: int) -> None:
        self._show(self.tr("密码不正确。再输错 {n} 次将锁定维护功能。").format(n=remaining),
                   "error")

    def show_locked(self, until: dt.datetime) -> None:
        self.set_enabled(False)
        self._show(self.tr("密码输错次数过多，维护功能已锁定，请在 {time} 后再试。").format(
            time=until.strftime("%H:%M")), "error")

    def show_disabled(self) -> None:
        self.set_enabled(False)
        self._show(self.tr(
            "本终端未设置维护密码，维护功能无法使用。请在终端上运行 kiosk hash-pin"
            "（它把密码的哈希写入配置文件的 [maintenance] 部分），然后重启终端。"
        ), "notice")

    def show_problem(self, text: str) -> None:
        self._show(text, "error")

    def hide_message(self) -> None:
        self.message.clear()
        self.message.hide()

    def _show(self, text: str, kind: str) -> None:
        _show(self.message, text, kind)

    @property
    def entered_length(self) -> int:
        return len(self._pin)

    def clear(self) -> None:
        self._pin = ""
        self._busy = False
        self.entry.clear()
        self.hide_message()
        self.set_enabled(True)
        self.retranslate()


# ----------------------------------------------------------------------- the sections


@dataclass(frozen=True)
class DecodedCode:
    """What the camera page may show of a decoded code: never its reference (a resident's
    id or an application number is personal)."""

    kind: str  # "R", "T", "A", "C", or "" if not one of our codes
    key_id: str
    trusted: bool
    problem: str  # "" or a PayloadProblem value (not_ours, malformed, ...)
    at: dt.datetime


class MaintenanceScreen(Screen):
    """Every section on one screen, chosen from a column of large buttons."""

    name = "maintenance"
    has_back = False  # Back would lead to the PIN screen; leaving goes Home

    sectionChosen = Signal(str)
    testPageChosen = Signal()
    retryHeldChosen = Signal()
    cancelHeldChosen = Signal()
    checkLinkChosen = Signal()
    reloadChosen = Signal()
    restartChosen = Signal()  # confirmed
    statsChosen = Signal()
    exitKioskChosen = Signal()  # confirmed
    leaveChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.setStyleSheet(_STYLE)
        self.layout_.setContentsMargins(24, 16, 24, 16)
        self.layout_.setSpacing(16)
        self.section = SECTIONS[0]
        self.nav_buttons: dict[str, QPushButton] = {}
        nav = QVBoxLayout()
        nav.setSpacing(8)
        for key in SECTIONS:
            b = QPushButton()
            b.setObjectName("maintNav")
            b.setCheckable(True)
            b.clicked.connect(lambda _=False, k=key: self._choose(k))
            self.nav_buttons[key] = b
            nav.addWidget(b)
        nav.addStretch(1)
        self.leave_button = WrapButton()  # a long name wraps in the narrow column
        self.leave_button.setObjectName("primary")
        self.leave_button.clicked.connect(self.leaveChosen)
        nav.addWidget(self.leave_button)
        self.pages = QStackedWidget()
        self.page: dict[str, QWidget] = {}
        self._build_printer()
        self._build_camera()
        self._build_link()
        self._build_errors()
        self._build_config()
        self._build_stats()
        self._build_bundles()
        self._build_exit()
        for key in SECTIONS:
            self.pages.addWidget(self.page[key])
        row = QHBoxLayout()
        row.setSpacing(32)
        nav_width = 300 if theme.portrait else 340
        holder = QWidget()
        holder.setLayout(nav)
        holder.setFixedWidth(nav_width)
        nav.setContentsMargins(0, 0, 0, 0)
        row.addWidget(holder)
        row.addWidget(self.pages, 1)
        self.layout_.addLayout(row, 1)
        self.retranslate()
        self.show_section(SECTIONS[0])

    def _new_page(self, key: str) -> QVBoxLayout:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(16)
        self.page[key] = page
        return layout

    def _buttons(self, layout: QVBoxLayout, *buttons: QPushButton) -> None:
        box: QBoxLayout = QVBoxLayout() if self.theme.portrait else QHBoxLayout()
        box.setSpacing(16)
        for b in buttons:
            box.addWidget(b)
        layout.addLayout(box)

    # --- pages ----------------------------------------------------------------------------
    def _build_printer(self) -> None:
        layout = self._new_page("printer")
        self.printer_heading = _label(name="title")
        self.printer_info = InfoGrid(
            ("connection", "paper", "columns", "charset", "native_qr", "cutter", "status",
             "held")
        )
        self.printer_message = _label(name="notice")
        self.printer_message.hide()
        self.test_page_button = QPushButton()
        self.test_page_button.setObjectName("primary")
        self.test_page_button.clicked.connect(self.testPageChosen)
        self.retry_button = QPushButton()
        self.retry_button.clicked.connect(self.retryHeldChosen)
        self.cancel_held_button = QPushButton()
        self.cancel_held_button.clicked.connect(self.cancelHeldChosen)
        layout.addWidget(self.printer_heading)
        layout.addWidget(self.printer_info)
        layout.addWidget(self.printer_message)
        layout.addStretch(1)
        self._buttons(layout, self.test_page_button, self.retry_button,
                      self.cancel_held_button)
        self.set_held(0)

    def _build_camera(self) -> None:
        layout = self._new_page("camera")
        self.camera_heading = _label(name="title")
        self.camera = CameraView()
        self.camera_info = InfoGrid(
            ("state", "fps", "decode", "dropped", "device", "exposure", "decoder", "last")
        )
        self.camera_error = _label(name="error")
        self.camera_error.hide()
        layout.addWidget(self.camera_heading)
        if self.theme.portrait:
            self.camera.setMinimumHeight(560)
            layout.addWidget(self.camera, 1)
            layout.addWidget(self.camera_info)
        else:
            row = QHBoxLayout()
            row.setSpacing(24)
            row.addWidget(self.camera, 3)
            side = QVBoxLayout()
            side.addWidget(self.camera_info)
            side.addStretch(1)
            row.addLayout(side, 2)
            layout.addLayout(row, 1)
        layout.addWidget(self.camera_error)
        for key in self.camera_info.values:
            self.camera_info.set(key, "—")

    def _build_link(self) -> None:
        layout = self._new_page("link")
        self.link_heading = _label(name="title")
        self.link_info = InfoGrid(("mode", "check", "outbox", "oldest"))
        self.link_message = _label(name="notice")
        self.link_message.hide()
        self.check_link_button = QPushButton()
        self.check_link_button.setObjectName("primary")
        self.check_link_button.clicked.connect(self.checkLinkChosen)
        layout.addWidget(self.link_heading)
        layout.addWidget(self.link_info)
        layout.addWidget(self.link_message)
        layout.addStretch(1)
        self._buttons(layout, self.check_link_button)
        for key in self.link_info.values:
            self.link_info.set(key, "—")

    def _build_errors(self) -> None:
        layout = self._new_page("errors")
        self.errors_heading = _label(name="title")
        self.errors_hint = _label(name="small")
        self.errors_text = _mono()
        layout.addWidget(self.errors_heading)
        layout.addWidget(self.errors_hint)
        layout.addWidget(self.errors_text, 1)

    def _build_config(self) -> None:
        layout = self._new_page("config")
        self.config_heading = _label(name="title")
        self.config_path = _label(name="small")
        self.config_text = _mono()
        self.reload_result = _label(name="notice")
        self.reload_result.hide()
        self.reload_button = QPushButton()
        self.reload_button.setObjectName("primary")
        self.reload_button.clicked.connect(self.reloadChosen)
        self.restart_button = QPushButton()
        self.restart_button.clicked.connect(self._ask_restart)
        self.restart_confirm = ConfirmRow()
        self.restart_confirm.confirmed.connect(self.restartChosen)
        layout.addWidget(self.config_heading)
        layout.addWidget(self.config_path)
        layout.addWidget(self.config_text, 1)
        layout.addWidget(self.reload_result)
        self._buttons(layout, self.reload_button, self.restart_button)
        layout.addWidget(self.restart_confirm)

    def _build_stats(self) -> None:
        layout = self._new_page("stats")
        self.stats_heading = _label(name="title")
        self.stats_body = _label()
        self.stats_body.setTextFormat(Qt.TextFormat.RichText)
        self.stats_body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.stats_body)
        _scrolling(scroll.viewport())
        self.stats_button = QPushButton()
        self.stats_button.clicked.connect(self.statsChosen)
        layout.addWidget(self.stats_heading)
        layout.addWidget(scroll, 1)
        self._buttons(layout, self.stats_button)

    def _build_bundles(self) -> None:
        layout = self._new_page("bundles")
        self.bundles_heading = _label(name="title")
        self.bundles_summary = _label(name="ok")
        holder = QWidget()
        self.bundle_errors = QVBoxLayout(holder)
        self.bundle_errors.setContentsMargins(0, 0, 0, 0)
        self.bundle_errors.setSpacing(12)
        self.bundle_errors.addStretch(1)
        self.bundle_error_labels: list[QLabel] = []
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(holder)
        _scrolling(scroll.viewport())
        layout.addWidget(self.bundles_heading)
        layout.addWidget(self.bundles_summary)
        layout.addWidget(scroll, 1)

    def _build_exit(self) -> None:
        layout = self._new_page("exit")
        self.exit_heading = _label(name="title")
        self.exit_hint = _label(name="notice")
        self.exit_button = QPushButton()
        self.exit_button.clicked.connect(self._ask_exit)
        self.exit_confirm = ConfirmRow()
        self.exit_confirm.confirmed.connect(self.exitKioskChosen)
        layout.addWidget(self.exit_heading)
        layout.addWidget(self.exit_hint)
        layout.addStretch(1)
        self._buttons(layout, self.exit_button)
        layout.addWidget(self.exit_confirm)

    # --- texts ----------------------------------------------------------------------------
    def retranslate(self) -> None:
        names = self.section_names()
        for key, b in self.nav_buttons.items():
            b.setText(names[key])
        self.leave_button.setText(self.tr("结束维护"))
        self.printer_heading.setText(names["printer"])
        for key, text in (
            ("connection", self.tr("型号 / 连接")),
            ("paper", self.tr("纸宽")),
            ("columns", self.tr("每行字符")),
            ("charset", self.tr("中文字库")),
            ("native_qr", self.tr("打印机自绘二维码")),
            ("cutter", self.tr("切刀")),
            ("status", self.tr("实时状态")),
            ("held", self.tr("暂停的凭条")),
        ):
            self.printer_info.set_key(key, text)
        self.test_page_button.setText(self.tr("打印测试页"))
        self.retry_button.setText(self.tr("补打暂停的凭条"))
        self.cancel_held_button.setText(self.tr("取消暂停的凭条"))
        self.camera_heading.setText(names["camera"])
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
            self.camera_info.set_key(key, text)
        self.link_heading.setText(names["link"])
        for key, text in (
            ("mode", self.tr("连接状态")),
            ("check", self.tr("上次检查")),
            ("outbox", self.tr("待发送")),
            ("oldest", self.tr("最早一条")),
        ):
            self.link_info.set_key(key, text)
        self.check_link_button.setText(self.tr("检查连接"))
        self.errors_heading.setText(names["errors"])
        self.errors_hint.setText(self.tr(
            "最近 {n} 条警告和错误，最新的在最上面（只记录时间、模块和消息）。"
        ).format(n=ERRORS_SHOWN))
        self.config_heading.setText(names["config"])
        self.reload_button.setText(self.tr("重新加载检查"))
        self.restart_button.setText(self.tr("重启终端"))
        self.stats_heading.setText(names["stats"])
        self.stats_button.setText(self.tr("刷新统计"))
        self.bundles_heading.setText(names["bundles"])
        self.exit_heading.setText(names["exit"])
        self.exit_hint.setText(self.tr(
            "退出后自助程序关闭，终端回到系统界面，居民无法再使用，"
            "而且不会自动重新启动（退出码 10）。维护完成后，请在控制台执行 "
            "systemctl start kiosk，或重启终端，恢复服务。"
        ))
        self.exit_button.setText(self.tr("退出自助模式"))

    def section_names(self) -> dict[str, str]:
        return {
            "printer": self.tr("打印机"),
            "camera": self.tr("摄像头"),
            "link": self.tr("后台连接"),
            "errors": self.tr("最近错误"),
            "config": self.tr("配置"),
            "stats": self.tr("今日统计"),
            "bundles": self.tr("一件事文件"),
            "exit": self.tr("退出自助模式"),
        }

    def title_text(self) -> str:
        return self.tr("终端维护")

    def wants_codes(self) -> bool:
        # The camera page shows what the camera decodes; no flow acts on codes here.
        return True

    # --- navigation -----------------------------------------------------------------------
    def _choose(self, key: str) -> None:
        self.show_section(key)
        self.sectionChosen.emit(key)

    def show_section(self, key: str) -> None:
        self.section = key
        for k, b in self.nav_buttons.items():
            b.setChecked(k == key)
        self.pages.setCurrentWidget(self.page[key])
        self.restart_confirm.hide()
        self.exit_confirm.hide()
        if key != "camera":
            self.camera.clear()  # a stale picture of whoever stood there is not kept

    def _ask_restart(self) -> None:
        self.restart_confirm.ask(
            self.tr("自助程序将关闭，并在几秒后按配置文件中的配置重新启动。确定重启吗？"),
            self.tr("确定重启"), self.tr("取消"))

    def _ask_exit(self) -> None:
        self.exit_confirm.ask(self.tr("确定要退出自助模式吗？"), self.tr("确定退出"),
                              self.tr("取消"))

    # --- printer --------------------------------------------------------------------------
    def set_printer_info(self, connection: str, paper_mm: int, paper_dots: int, columns: int,
                         charset: str, native_qr: bool, cutter: bool) -> None:
        info = self.printer_info
        info.set("connection", connection)
        info.set("paper", self.tr("{mm} 毫米（{dots} 点）").format(mm=paper_mm, dots=paper_dots))
        info.set("columns", self.tr("{ascii} 个英文字符 / {cjk} 个汉字").format(
            ascii=columns, cjk=columns // 2))
        info.set("charset", charset)
        info.set("native_qr", self.tr("是") if native_qr else self.tr("否（以图像打印）"))
        info.set("cutter", self.tr("有") if cutter else self.tr("无（手撕）"))

    def set_printer_status(self, state: str, detail: str) -> None:
        names = {
            "ok": self.tr("正常"),
            "paper_near_end": self.tr("纸将用完"),
            "paper_out": self.tr("缺纸"),
            "cover_open": self.tr("纸仓盖打开"),
            "offline": self.tr("离线"),
            "unknown": self.tr("无应答（状态未知）"),
            "error": self.tr("故障"),
            "unreachable": self.tr("无法连接"),
        }
        text = names.get(state, state)
        self.printer_info.set("status", self.tr("{state}（{detail}）").format(
            state=text, detail=detail) if detail else text)

    def set_held(self, count: int) -> None:
        self.printer_info.set("held", self.tr("{n} 张").format(n=count))
        self.retry_button.setEnabled(count > 0)
        self.cancel_held_button.setEnabled(count > 0)

    def show_printer_message(self, text: str, kind: str = "notice") -> None:
        _show(self.printer_message, text, kind)

    # --- camera ---------------------------------------------------------------------------
    def set_frame(self, image: QImage) -> None:
        if self.section == "camera" and self.isVisible():
            self.camera.set_frame(image)

    def set_camera_state(self, state: str) -> None:
        names = {
            "starting": self.tr("正在启动"),
            "running": self.tr("正常"),
            "unavailable": self.tr("不可用"),
            "stale": self.tr("画面停止"),
            "restarting": self.tr("识别进程重启中"),
        }
        self.camera_info.set("state", names.get(state, state))

    def set_camera_stats(self, stats: Mapping[str, object]) -> None:
        info = self.camera_info
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
            self.set_camera_state(state)
        error = stats.get("error")
        if error:
            _show(self.camera_error, breakable(str(error)), "error")
        else:
            self.camera_error.hide()

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
        self.camera_info.set("last", text)

    # --- backend link ---------------------------------------------------------------------
    def set_link_mode(self, mode: str) -> None:
        names = {
            "up": self.tr("正常"),
            "slow": self.tr("缓慢"),
            "down": self.tr("断开（拒绝连接）"),
            "hang": self.tr("无响应（超时）"),
            "server_error": self.tr("后台报错（5xx）"),
            "lost_reply": self.tr("应答丢失"),
        }
        self.link_info.set("mode", self.tr("{state}（{detail}）").format(
            state=names.get(mode, mode), detail=mode))

    def show_link_checking(self) -> None:
        self.check_link_button.setEnabled(False)
        self.link_info.set("check", self.tr("正在检查……"))

    def show_link_result(self, elapsed_s: float, problem: str) -> None:
        self.check_link_button.setEnabled(True)
        ms = round(elapsed_s * 1000)
        if problem:
            self.link_info.set("check", self.tr("失败，用时 {ms} 毫秒").format(ms=ms))
            _show(self.link_message, problem, "error")
        else:
            self.link_info.set("check", self.tr("正常，用时 {ms} 毫秒").format(ms=ms))
            self.link_message.hide()

    def set_outbox(self, count: int, oldest_age_s: float | None) -> None:
        self.link_info.set("outbox", self.tr("{n} 条").format(n=count))
        if oldest_age_s is None:
            self.link_info.set("oldest", "—")
        else:
            self.link_info.set("oldest", self.tr("{age} 前存入").format(
                age=self.format_age(oldest_age_s)))

    def format_age(self, seconds: float) -> str:
        seconds = max(0, int(seconds))
        if seconds < 60:
            return self.tr("{n} 秒").format(n=seconds)
        if seconds < 3600:
            return self.tr("{n} 分钟").format(n=seconds // 60)
        if seconds < 86400:
            return self.tr("{h} 小时 {m} 分钟").format(h=seconds // 3600, m=seconds % 3600 // 60)
        return self.tr("{n} 天").format(n=seconds // 86400)

    # --- recent errors --------------------------------------------------------------------
    def set_errors(self, lines: Sequence[LogLine]) -> None:
        shown = list(lines)[-ERRORS_SHOWN:]
        if not shown:
            self.errors_text.setPlainText(self.tr("（没有警告或错误）"))
            return
        text = "\n".join(
            f"{dt.datetime.fromtimestamp(line.created):%m-%d %H:%M:%S} {line.level} "
            f"{line.logger}: {line.message}"
            for line in reversed(shown)
        )
        self.errors_text.setPlainText(text)

    # --- config ---------------------------------------------------------------------------
    def set_config(self, path: str, text: str) -> None:
        self.config_path.setText(breakable(self.tr("配置文件：{path}").format(path=path)))
        self.config_text.setPlainText(text)

    def show_reload_checking(self) -> None:
        self.reload_button.setEnabled(False)
        _show(self.reload_result, self.tr("正在检查配置文件……"), "notice")

    def show_reload_result(self, problems: str) -> None:
        """`problems` is "" when the file is valid, else every problem, one per line."""
        self.reload_button.setEnabled(True)
        if problems:
            _show(self.reload_result, breakable(problems), "error")
        else:
            _show(self.reload_result, self.tr(
                "OK：配置文件有效。修改后的配置要重启终端才会生效。"), "ok")

    # --- statistics -----------------------------------------------------------------------
    def set_stats(self, day: str, rows: Sequence[Mapping[str, object]],
                  names: Mapping[str, str]) -> None:
        """`rows` as `kiosk.backend.stats.export_stats` gives them; `names` turns category
        and bundle ids into titles."""
        self.stats_heading.setText(self.tr("今日统计（{day}）").format(day=day))
        self.stats_body.setText(self.stats_html(rows, names))

    def stats_html(self, rows: Sequence[Mapping[str, object]],
                   names: Mapping[str, str]) -> str:
        sections = {
            "tickets": self.tr("取号"),
            "applications": self.tr("一件事申请"),
            "bundles": self.tr("一件事办理"),
            "flows": self.tr("其他服务"),
            "ratings": self.tr("好差评"),
            "rating_reasons": self.tr("评价原因"),
            "help_calls": self.tr("呼叫帮办"),
            "faults": self.tr("故障"),
            "flow_median_s": self.tr("办理用时（中位数）"),
        }
        words = {
            "ordinary": self.tr("普通"),
            "submitted": self.tr("已提交"),
            "started": self.tr("开始"),
            "finished": self.tr("完成"),
            "abandoned": self.tr("中途放弃"),
            "total": self.tr("合计"),
            "count": self.tr("评价次数"),
            "mean": self.tr("平均分"),
            "take_number": self.tr("取号"),
            "query": self.tr("办件查询"),
            "check_in": self.tr("预约签到"),
            "rate": self.tr("好差评"),
            "help": self.tr("呼叫帮办"),
            "printer": self.tr("打印机"),
            "screen": self.tr("页面"),
            # Screens, where a flow was abandoned or help was called.
            "home": self.tr("首页"),
            "services": self.tr("更多服务页"),
            "scan": self.tr("扫码页"),
            "category": self.tr("选择业务页"),
            "ticket": self.tr("取号凭条页"),
            "bundles": self.tr("一件事列表"),
            "wizard": self.tr("一件事办理步骤"),
            "bundle_result": self.tr("一件事回执页"),
            "query_scan": self.tr("办件查询扫码页"),
            "query_result": self.tr("办件查询结果页"),
            "checkin_scan": self.tr("预约签到扫码页"),
            "checkin_result": self.tr("预约签到结果页"),
            "rating": self.tr("评价页"),
            "unknown": self.tr("未知"),
        }

        def word(text: str) -> str:
            if text.startswith("priority:"):
                return self.tr("优先（{why}）").format(why=text.removeprefix("priority:"))
            if text.startswith("abandoned_at:"):
                step = text.removeprefix("abandoned_at:")
                return self.tr("放弃于 {step}").format(step=words.get(step, step))
            return names.get(text) or words.get(text) or text

        grouped: dict[str, list[tuple[str, str]]] = {key: [] for key in sections}
        for row in rows:
            section, key, sub, value = (str(row["section"]), str(row["key"]),
                                        str(row["subkey"]), row["value"])
            if section not in grouped:
                continue
            # Zero counts are noise on a quiet night; totals and means always show.
            if value == 0 and key not in ("total", "count"):
                continue
            what = word(key) + (f" · {word(sub)}" if sub else "")
            seconds = section == "flow_median_s"
            shown = self.tr("{n} 秒").format(n=value) if seconds else str(value)
            grouped[section].append((what, shown))
        parts: list[str] = []
        nothing = html.escape(self.tr("无"))  # not inside the f-string: lupdate skips those
        for section, title in sections.items():
            parts.append(f'<p style="font-weight:bold; color:#06285e; margin-top:12px">'
                         f"{html.escape(title)}</p>")
            items = grouped[section]
            if not items:
                parts.append(f'<p style="margin-left:24px">{nothing}</p>')
                continue
            parts.append('<table cellspacing="0" cellpadding="4" style="margin-left:24px">')
            for what, shown in items:
                parts.append(f"<tr><td>{html.escape(what)}</td>"
                             f'<td align="right" style="padding-left:48px">'
                             f"{html.escape(shown)}</td></tr>")
            parts.append("</table>")
        return "".join(parts)

    def show_stats_problem(self, text: str) -> None:
        self.stats_body.setText(breakable(text))

    # --- bundles --------------------------------------------------------------------------
    def set_bundles(self, valid: int, problems: Sequence[str]) -> None:
        for lab in self.bundle_error_labels:
            self.bundle_errors.removeWidget(lab)
            lab.deleteLater()
        self.bundle_error_labels = []
        if not problems:
            _show(self.bundles_summary, self.tr("全部 {n} 个有效").format(n=valid), "ok")
            return
        _show(self.bundles_summary, self.tr(
            "{bad} 个文件有问题，未被加载；其余 {n} 个有效。").format(bad=len(problems), n=valid),
            "error")
        for i, text in enumerate(problems):
            lab = _label(breakable(text), name="notice")
            lab.setTextFormat(Qt.TextFormat.PlainText)
            lab.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            self.bundle_errors.insertWidget(i, lab)
            self.bundle_error_labels.append(lab)

    # --- session end ----------------------------------------------------------------------
    def clear(self) -> None:
        """The camera picture and the last decoded code may concern a resident: forget them;
        the rest is about the terminal and is filled in again on entry."""
        self.camera.clear()
        self.camera_info.set("last", "—")
        self.printer_message.hide()
        self.link_message.hide()
        self.reload_result.hide()
        self.restart_confirm.hide()
        self.exit_confirm.hide()
        self.show_section(SECTIONS[0])
        self.retranslate()


def _show(label: QLabel, text: str, kind: str) -> None:
    """Show `text` in `label` styled as `kind` ("ok", "notice", "error")."""
    if label.objectName() != kind:
        label.setObjectName(kind)
        # The style sheet is matched by object name. Setting a (differing) style sheet of
        # its own re-polishes the label fully; style().polish() alone keeps the old padding.
        label.setStyleSheet(f"/* {kind} */")
    label.setText(text)
    label.show()
