"""The kiosk window: a top bar (Back, title, Home), the screens, and the idle countdown."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.screen_names import TECHNICIAN_SCREENS, ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.idle_overlay import IdleOverlay

#: The language button names the other language, in that language (never translated).
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}

_ACTIVITY_EVENTS = {
    QEvent.Type.MouseButtonPress,
    QEvent.Type.TouchBegin,
    QEvent.Type.KeyPress,
    QEvent.Type.Wheel,
}


class MainWindow(QMainWindow):
    """Owns navigation and the idle timer; knows nothing about services."""

    screenChanged = Signal(str)
    helpRequested = Signal(str)  # the screen the resident was on
    sessionEnded = Signal(str)  # reason: "home" | "idle"
    languageChosen = Signal(str)  # the resident tapped the language button: "zh" | "en"
    languageChanged = Signal(str)  # every screen has been re-translated
    elderChosen = Signal(bool)  # the resident tapped 长辈模式 / 标准模式 on Home
    elderChanged = Signal(bool)  # every screen has been re-styled for the mode
    promptChanged = Signal()  # the current screen's main instruction changed
    announced = Signal(str, bool)  # the current screen has something to say; queued?
    closed = Signal()  # the kiosk is shutting down

    def __init__(
        self,
        theme: Theme,
        *,
        idle_timeout_s: int,
        idle_countdown_s: int,
        kiosk_mode: bool,
    ) -> None:
        super().__init__()
        self.theme = theme
        self.kiosk_mode = kiosk_mode
        # Set by whoever ends the program (shutdown, the maintenance screen's quit): in
        # kiosk mode the window refuses every other close, a resident's Alt+F4 included.
        self.allow_close = False
        self.language = "zh"
        self.elder = False
        # A resident who chose a language on Home has started a session there: the idle
        # countdown runs on Home too, so the next resident finds Chinese again.
        self._session_on_home = False
        self.setStyleSheet(theme.style_sheet())
        if kiosk_mode:
            self.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
            self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.topbar = QFrame()
        self.topbar.setObjectName("topbar")
        self.topbar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        bar = QHBoxLayout(self.topbar)
        bar.setContentsMargins(24, 12, 24, 12)
        # A fixed height keeps the screen below from jumping when Back/Home hide on Home.
        self.topbar.setFixedHeight(theme.topbar_px)
        self.back_button = QPushButton()
        self.back_button.setObjectName("nav")
        self.back_button.clicked.connect(self.go_back)
        self.title = QLabel()
        self.title.setObjectName("topbarTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.home_button = QPushButton()
        self.home_button.setObjectName("nav")
        self.home_button.clicked.connect(lambda: self.go_home("home"))
        # 帮办 on every screen: a person is one tap away wherever the resident is stuck.
        self.help_button = QPushButton()
        self.help_button.setObjectName("navHelp")
        self.help_button.clicked.connect(lambda: self.helpRequested.emit(self.current().name))
        # 中文 / English, on Home only (where Home's own button would be): a resident
        # chooses before starting; the choice lasts until the session ends.
        self.language_button = QPushButton()
        self.language_button.setObjectName("nav")
        self.language_button.clicked.connect(
            lambda: self.languageChosen.emit("zh" if self.language == "en" else "en"))
        # 长辈模式 beside it, on Home only, for the session: larger type, fewer choices,
        # spoken prompts. Like the language button it names what a tap switches to.
        self.elder_button = QPushButton()
        self.elder_button.setObjectName("navHelp")
        self.elder_button.clicked.connect(lambda: self.elderChosen.emit(not self.elder))
        bar.addWidget(self.back_button)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.help_button)
        bar.addWidget(self.home_button)
        bar.addWidget(self.language_button)
        bar.addWidget(self.elder_button)
        self.stack = QStackedWidget()
        layout.addWidget(self.topbar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(root)
        self.screens: dict[str, Screen] = {}
        self._history: list[ScreenName] = []
        self.overlay = IdleOverlay(root)
        self.overlay.continued.connect(self.keep_alive)
        self._idle_timeout_ms = idle_timeout_s * 1000
        self._countdown_total = idle_countdown_s
        self._countdown_left = 0
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.timeout.connect(self._start_countdown)
        self.countdown_timer = QTimer(self)
        self.countdown_timer.setInterval(1000)
        self.countdown_timer.timeout.connect(self._tick)
        self.retranslate()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    # --- navigation -------------------------------------------------------------------
    def add_screen(self, screen: Screen) -> None:
        self.screens[screen.name] = screen
        self.stack.addWidget(screen)
        if screen.language != self.language:  # made while another language was chosen
            screen.language = self.language
            screen.retranslate()
        if screen.theme != self.theme:  # made while elder mode was on
            screen.set_theme(self.theme)
        # Only the screen the resident sees may speak.
        screen.promptChanged.connect(
            lambda s=screen: self.promptChanged.emit() if self._is_current(s) else None)
        screen.announced.connect(
            lambda text, queue, s=screen:
            self.announced.emit(text, queue) if self._is_current(s) else None)

    def _is_current(self, screen: Screen) -> bool:
        return bool(self.stack.count()) and self.stack.currentWidget() is screen

    def current(self) -> Screen:
        widget = self.stack.currentWidget()
        assert isinstance(widget, Screen)
        return widget

    def go(self, name: ScreenName, *, remember: bool = True) -> None:
        old = self.current() if self.stack.count() else None
        if old is not None and old.name == name:
            self._update_bar(old)
            return
        if old is not None:
            if remember and old.name != ScreenName.HOME:
                self._history.append(old.name)
            old.left()
        screen = self.screens[name]
        self.stack.setCurrentWidget(screen)
        self._update_bar(screen)
        screen.entered()
        if name == ScreenName.HOME and not self._session_on_home:
            self.idle_timer.stop()
        else:
            self.keep_alive()
        self.screenChanged.emit(name)

    def go_back(self) -> None:
        if self.stack.count() and self.current().handle_back():
            return  # the screen stepped back within itself (a wizard step)
        target = self._history.pop() if self._history else ScreenName.HOME
        if target == ScreenName.HOME:
            self.go_home("home")
        else:
            self.go(target, remember=False)

    def go_home(self, reason: str = "home") -> None:
        """End the session: every screen forgets the resident, then Home."""
        self._session_on_home = False
        self.countdown_timer.stop()
        self.idle_timer.stop()
        self.overlay.hide()
        self._history.clear()
        self.go(ScreenName.HOME, remember=False)
        for screen in self.screens.values():
            screen.clear()
        self.sessionEnded.emit(reason)

    def _update_bar(self, screen: Screen) -> None:
        is_home = screen.name == ScreenName.HOME
        self.back_button.setVisible(screen.has_back and not is_home)
        self.home_button.setVisible(not is_home)
        self.language_button.setVisible(is_home)
        self.elder_button.setVisible(is_home)
        self.help_button.setVisible(screen.name != ScreenName.HELP
                                    and screen.name not in TECHNICIAN_SCREENS)
        # On a portrait panel the bar's buttons can take its width (Home's four, or any
        # three in elder type); every screen has its own large heading, so the bar's title
        # text is what gives way. The label stays, empty: it holds the space between the
        # buttons, and the technicians' hidden gesture (taps on it) still works.
        crowded = self.theme.portrait and (is_home or self.theme.elder)
        self.title.setText("" if crowded
                           else screen.title_text() or self.tr("一网通办 · 24小时自助服务"))

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("一网通办 24小时自助服务"))
        self.back_button.setText(self.tr("‹ 返回"))
        self.home_button.setText(self.tr("首页"))
        self.help_button.setText(self.tr("呼叫帮办"))
        other = "zh" if self.language == "en" else "en"
        self.language_button.setText(LANGUAGE_NAMES[other])
        self.elder_button.setText(self.tr("标准模式") if self.elder else self.tr("长辈模式"))
        if self.stack.count():
            self._update_bar(self.current())
        if self.countdown_timer.isActive():
            self._show_count()

    # --- language ---------------------------------------------------------------------
    def set_language(self, language: str) -> None:
        """Re-translate every screen and the bar (the translator is already installed)."""
        self.language = language
        for screen in self.screens.values():
            screen.language = language
            screen.retranslate()
        self.retranslate()
        self.languageChanged.emit(language)

    # --- elder mode -------------------------------------------------------------------
    def set_elder(self, elder: bool) -> None:
        """长辈模式 on or off: one style sheet for the whole window (type x1.5, contrast),
        then every screen adjusts its sizes and choices; the current one re-renders now."""
        if elder == self.elder:
            return
        self.elder = elder
        self.theme = self.theme.with_elder(elder)
        self.setStyleSheet(self.theme.style_sheet())
        self.topbar.setFixedHeight(self.theme.topbar_px)
        for screen in self.screens.values():
            screen.set_theme(self.theme)
        self.retranslate()
        self.elderChanged.emit(elder)

    def set_countdown(self, seconds: int) -> None:
        self._countdown_total = seconds

    def set_session_on_home(self, active: bool) -> None:
        """Whether Home holds a session (a language was chosen there): if so, the idle
        countdown runs on Home as on every other screen, and ends the session."""
        self._session_on_home = active
        if active:
            self.keep_alive()
        elif self.stack.count() and self.current().name == ScreenName.HOME:
            self.countdown_timer.stop()
            self.overlay.hide()
            self.idle_timer.stop()

    def warm_up(self, interval_ms: int = 80) -> None:
        """Render every screen once, one per timer tick, soon after start: the first paint
        of a screen (polish, glyph caches) otherwise stalls the resident's first tap."""
        self._warm_pending = [s for s in self.screens.values() if s is not self.current()]
        # Owned by the window, so it dies with it (tests build and close many kiosks).
        self._warm_timer = QTimer(self)
        self._warm_timer.setInterval(interval_ms)
        self._warm_timer.timeout.connect(self._warm_step)
        self._warm_timer.start()

    def _warm_step(self) -> None:
        if not self._warm_pending:
            self._warm_timer.stop()
            return
        self._warm_pending.pop().grab()

    # --- idle -------------------------------------------------------------------------
    def keep_alive(self) -> None:
        """A touch: hide the countdown and start the idle period again."""
        self.countdown_timer.stop()
        self.overlay.hide()
        if self.stack.count() and (self.current().name != ScreenName.HOME or self._session_on_home):
            self.idle_timer.start(self._idle_timeout_ms)

    def set_idle_timeout(self, seconds: float) -> None:
        self._idle_timeout_ms = int(seconds * 1000)

    def countdown_active(self) -> bool:
        return self.countdown_timer.isActive()

    def _start_countdown(self) -> None:
        self._countdown_left = self._countdown_total
        self._show_count()
        self.countdown_timer.start()
        # Heard too (elder mode): a resident who looked away from the panel.
        self.announced.emit(sentences(self.overlay.question.text(), self.overlay.hint.text()),
                            False)

    def _tick(self) -> None:
        self._countdown_left -= 1
        if self._countdown_left <= 0:
            self.go_home("idle")
            return
        self._show_count()

    def _show_count(self) -> None:
        self.overlay.show_count(
            self._countdown_left,
            self.tr("您还在使用吗？"),
            self.tr("倒计时结束后将返回首页，并清除您的信息"),
            self.tr("继续使用"),
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY_EVENTS and self.idle_timer.isActive():
            self.idle_timer.start(self._idle_timeout_ms)
        return False

    # --- kiosk mode -------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.kiosk_mode:
            event.accept()  # Escape and friends do nothing on a public terminal
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.kiosk_mode and not self.allow_close:
            event.ignore()
            return
        super().closeEvent(event)
        # Shut down: no timer may end a session on a kiosk whose services are gone (a
        # closed window lives on until its deferred deletion, which some event loops never
        # run: tests, the demo).
        for timer in (self.idle_timer, self.countdown_timer, getattr(self, "_warm_timer", None)):
            if timer is not None:
                timer.stop()
        self.closed.emit()
