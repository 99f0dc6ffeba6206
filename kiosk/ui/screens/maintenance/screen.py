"""The maintenance screen: a column of large section buttons beside the chosen section.

Technicians service terminals at night, standing, with a finger: the same large targets as
for residents, sections chosen from a column of big buttons rather than small tabs. Each
section is its own class (see `section.Section`); this screen hosts them, switches between
them and forgets the resident-related ones when the session ends.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen
from kiosk.ui.screens.maintenance.bundles import BundlesSection
from kiosk.ui.screens.maintenance.camera import CameraSection
from kiosk.ui.screens.maintenance.config import ConfigSection
from kiosk.ui.screens.maintenance.errors import ErrorsSection
from kiosk.ui.screens.maintenance.exit import ExitSection
from kiosk.ui.screens.maintenance.link import LinkSection
from kiosk.ui.screens.maintenance.parts import style_sheet
from kiosk.ui.screens.maintenance.printer import PrinterSection
from kiosk.ui.screens.maintenance.section import Section
from kiosk.ui.screens.maintenance.stats import StatsSection
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.wrap_button import WrapButton


class MaintenanceScreen(Screen):
    """Every section on one screen, chosen from a column of large buttons."""

    name = ScreenName.MAINTENANCE
    has_back = False  # Back would lead to the PIN screen; leaving goes Home

    sectionChosen = Signal(str)
    leaveChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.setStyleSheet(style_sheet(theme.colours))
        self.layout_.setContentsMargins(24, 16, 24, 16)
        self.layout_.setSpacing(16)
        self.printer_page = PrinterSection(theme)
        self.camera_page = CameraSection(theme)
        self.link_page = LinkSection(theme)
        self.errors_page = ErrorsSection(theme)
        self.config_page = ConfigSection(theme)
        self.stats_page = StatsSection(theme)
        self.bundles_page = BundlesSection(theme)
        self.exit_page = ExitSection(theme)
        # In the column's order, top to bottom.
        self.page: dict[str, Section] = {s.key: s for s in (
            self.printer_page, self.camera_page, self.link_page, self.errors_page,
            self.config_page, self.stats_page, self.bundles_page, self.exit_page)}
        self.section = next(iter(self.page))
        self.nav_buttons: dict[str, QPushButton] = {}
        nav = QVBoxLayout()
        nav.setSpacing(8)
        for key in self.page:
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
        for page in self.page.values():
            self.pages.addWidget(page)
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

        # The sections' widgets under the names the tests and docs/screenshots.py reach for.
        p, c, ln, cf, x = (self.printer_page, self.camera_page, self.link_page,
                           self.config_page, self.exit_page)
        self.printer_info, self.printer_message = p.info, p.message
        self.test_page_button, self.retry_button = p.test_page_button, p.retry_button
        self.cancel_held_button = p.cancel_held_button
        self.camera, self.camera_info = c.camera, c.info
        self.set_camera_state = c.set_state
        self.link_info, self.link_message = ln.info, ln.message
        self.check_link_button = ln.check_button
        self.errors_text = self.errors_page.text
        self.config_text, self.reload_button = cf.text, cf.reload_button
        self.reload_result = cf.reload_result
        self.restart_button, self.restart_confirm = cf.restart_button, cf.restart_confirm
        self.stats_body = self.stats_page.body
        self.bundles_summary = self.bundles_page.summary
        self.bundle_error_labels = self.bundles_page.error_labels
        self.exit_button, self.exit_confirm = x.exit_button, x.exit_confirm

        self.retranslate()
        self.show_section(self.section)

    # --- texts ----------------------------------------------------------------------------
    def retranslate(self) -> None:
        for key, page in self.page.items():
            self.nav_buttons[key].setText(page.title())
            page.retranslate()
        self.leave_button.setText(self.tr("结束维护"))

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
        for k, page in self.page.items():
            page.switched(k == key)

    # --- session end ----------------------------------------------------------------------
    def clear(self) -> None:
        """The camera picture and the last decoded code may concern a resident: forget them;
        the rest is about the terminal and is filled in again on entry."""
        for page in self.page.values():
            page.clear()
        self.show_section(next(iter(self.page)))
        self.retranslate()
