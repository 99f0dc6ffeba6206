"""打印机: the printer's settings and live status, a test page, and the held tickets."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QWidget

from kiosk.ui.screens.maintenance.parts import InfoGrid, show_message
from kiosk.ui.screens.maintenance.section import Section
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.label import label


class PrinterSection(Section):
    """What the printer is set up as, what it reports now, and tickets held by a fault."""

    key = "printer"

    testPageChosen = Signal()
    retryHeldChosen = Signal()
    cancelHeldChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.info = InfoGrid(
            ("connection", "paper", "columns", "charset", "native_qr", "cutter", "status",
             "held")
        )
        self.message = label(name="notice")
        self.message.hide()
        self.test_page_button = QPushButton()
        self.test_page_button.setObjectName("primary")
        self.test_page_button.clicked.connect(self.testPageChosen)
        self.retry_button = QPushButton()
        self.retry_button.clicked.connect(self.retryHeldChosen)
        self.cancel_held_button = QPushButton()
        self.cancel_held_button.clicked.connect(self.cancelHeldChosen)
        self.layout_.addWidget(self.info)
        self.layout_.addWidget(self.message)
        self.layout_.addStretch(1)
        self.add_buttons(self.test_page_button, self.retry_button, self.cancel_held_button)
        self.set_held(0)

    def title(self) -> str:
        return self.tr("打印机")

    def retranslate(self) -> None:
        super().retranslate()
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
            self.info.set_key(key, text)
        self.test_page_button.setText(self.tr("打印测试页"))
        self.retry_button.setText(self.tr("补打暂停的凭条"))
        self.cancel_held_button.setText(self.tr("取消暂停的凭条"))

    def clear(self) -> None:
        self.message.hide()

    def set_info(self, connection: str, paper_mm: int, paper_dots: int, columns: int,
                 charset: str, native_qr: bool, cutter: bool) -> None:
        info = self.info
        info.set("connection", connection)
        info.set("paper", self.tr("{mm} 毫米（{dots} 点）").format(mm=paper_mm, dots=paper_dots))
        info.set("columns", self.tr("{ascii} 个英文字符 / {cjk} 个汉字").format(
            ascii=columns, cjk=columns // 2))
        info.set("charset", charset)
        info.set("native_qr", self.tr("是") if native_qr else self.tr("否（以图像打印）"))
        info.set("cutter", self.tr("有") if cutter else self.tr("无（手撕）"))

    def set_status(self, state: str, detail: str) -> None:
        names = {
            "ok": self.tr("正常"),
            "paper_near_end": self.tr("纸将用完"),
            "paper_out": self.tr("缺纸"),
            "cover_open": self.tr("纸仓盖打开"),
            "offline": self.tr("离线"),
            "unknown": self.tr("无应答（状态未知）"),
            "unreadable": self.tr(
                "状态未知：此打印机不回报状态，缺纸、开盖时本机无法得知，请定期查看纸卷"),
            "error": self.tr("故障"),
            "unreachable": self.tr("无法连接"),
        }
        text = names.get(state, state)
        self.info.set("status", self.tr("{state}（{detail}）").format(
            state=text, detail=detail) if detail else text)

    def set_held(self, count: int) -> None:
        self.info.set("held", self.tr("{n} 张").format(n=count))
        self.retry_button.setEnabled(count > 0)
        self.cancel_held_button.setEnabled(count > 0)

    def show_message(self, text: str, kind: str = "notice") -> None:
        show_message(self.message, text, kind)
