"""Home: one big choice (take a number by scanning), the no-phone path, queue figures."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.backend.interface import QueueFigures
from kiosk.domain.catalog import Catalog
from kiosk.ui.screens.base import Screen
from kiosk.ui.theme import Theme
from kiosk.ui.widgets import WrapButton


class HomeScreen(Screen):
    name = "home"
    has_back = False
    scanChosen = Signal()
    noPhoneChosen = Signal()
    serviceChosen = Signal(str)  # "bundles" | "query" | "checkin" | "rating"

    SERVICES = ("bundles", "query", "checkin", "rating")

    def __init__(self, theme: Theme, catalog: Catalog, center_name: str,
                 parent: QWidget | None = None, *, center_name_en: str = "") -> None:
        super().__init__(theme, parent)
        self.catalog = catalog
        self.center_names = {"zh": center_name, "en": center_name_en or center_name}
        self.welcome = self.label(name="title", center=True)
        self.center = self.label(center_name, "subtitle", center=True)
        self.scan_button = WrapButton()
        self.scan_button.setObjectName("tilePrimary")
        self.scan_button.setMinimumHeight(300 if theme.portrait else 280)
        self.scan_button.clicked.connect(self.scanChosen)
        self.no_phone_button = WrapButton()
        self.no_phone_button.setObjectName("tile")
        self.no_phone_button.setMinimumHeight(200 if theme.portrait else 280)
        self.no_phone_button.clicked.connect(self.noPhoneChosen)
        for tile in (self.scan_button, self.no_phone_button):
            tile.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # Portrait panels stack the two choices; the one most residents need is the larger.
        tiles = QVBoxLayout() if theme.portrait else QHBoxLayout()
        tiles.setSpacing(32)
        tiles.addWidget(self.scan_button, 3)
        tiles.addWidget(self.no_phone_button, 2)
        # The other services: smaller tiles, one row (two rows on portrait panels).
        self.service_buttons: dict[str, WrapButton] = {}
        services = QGridLayout()
        services.setSpacing(24)
        for column in range(2 if theme.portrait else len(self.SERVICES)):
            services.setColumnStretch(column, 1)
        for i, key in enumerate(self.SERVICES):
            button = WrapButton()
            button.setObjectName("tile")
            button.setMinimumHeight(150)
            button.clicked.connect(lambda _=False, k=key: self.serviceChosen.emit(k))
            self.service_buttons[key] = button
            if theme.portrait:
                services.addWidget(button, i // 2, i % 2)
            else:
                services.addWidget(button, 0, i)
        self.queue_title = self.label(name="subtitle")
        self.queue_grid = QGridLayout()
        self.queue_grid.setHorizontalSpacing(32)
        self.queue_labels: dict[str, QLabel] = {}
        columns = 2 if theme.portrait else 4
        for i, cat in enumerate(catalog.categories):
            lab = self.label(name="small")
            self.queue_labels[cat.id] = lab
            self.queue_grid.addWidget(lab, i // columns, i % columns)
        self.layout_.addWidget(self.welcome)
        self.layout_.addWidget(self.center)
        self.layout_.addLayout(tiles, 1)
        self.layout_.addLayout(services)
        self.layout_.addSpacing(8)
        self.layout_.addWidget(self.queue_title)
        self.layout_.addLayout(self.queue_grid)
        self.footer = self.label(name="small", center=True)
        self.layout_.addWidget(self.footer)
        self._figures: dict[str, QueueFigures] = {}
        self.retranslate()

    def retranslate(self) -> None:
        self.center.setText(self.center_names.get(self.language, self.center_names["zh"]))
        self.welcome.setText(self.tr("欢迎使用 24小时自助服务"))
        self.scan_button.setText(self.tr("扫码取号\n请出示随申码"))
        self.no_phone_button.setText(self.tr("没有手机\n直接取号"))
        texts = {
            "bundles": self.tr("一件事\n一次办成"),
            "query": self.tr("办件查询"),
            "checkin": self.tr("预约签到"),
            "rating": self.tr("好差评"),
        }
        for key, button in self.service_buttons.items():
            button.setText(texts[key])
        self.queue_title.setText(self.tr("当前排队人数"))
        self.footer.setText(self.tr("如需帮助，请联系工作人员或拨打 12345 热线"))
        self.set_queue_figures(self._figures)

    def set_queue_figures(self, figures: dict[str, QueueFigures]) -> None:
        self._figures = figures
        for cat in self.catalog.categories:
            fig = figures.get(cat.id)
            waiting = "—" if fig is None else str(fig.waiting)
            self.queue_labels[cat.id].setText(
                self.tr("{title}：{n} 人").format(title=cat.title.get(self.language), n=waiting)
            )
