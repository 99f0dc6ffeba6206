"""The maintenance screen's controller: hidden gesture, PIN, and every technician action.

Residents must not find the screen, so there is no button: five taps within four seconds on
the top bar's title while Home shows open the PIN screen. The PIN is checked by `PinGuard`
(salted Argon2id, lockout kept on disk) on its own worker thread, because the hash is meant to
be slow (docs/PERFORMANCE.md) and the GUI must not stutter. Every technician action is
logged at INFO as one `maintenance: ...` line without personal data, so an audit can tell
who-did-what-when from the terminal's log and the staff rota.

It is handed a `MaintenanceDeps` (defined here), not the whole kiosk: the composition root
(`kiosk.app`) builds one and installs the controller with `MaintenanceController.install`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtGui import QImage

from kiosk.backend.interface import RATING_LEVELS, RATING_REASONS
from kiosk.backend.stats import StatsError, export_stats
from kiosk.common.clock import SHANGHAI, Clock
from kiosk.common.exitcodes import EXIT_LEFT_KIOSK_MODE, EXIT_RESTART
from kiosk.config.loader import SECRET_KEYS, ConfigFileError
from kiosk.config.schema import KioskConfig
from kiosk.domain import payloads
from kiosk.domain.pin import STATE_FILE_NAME, PinGuard, PinResult, PinStatus
from kiosk.domain.wizard import field_step, question_step
from kiosk.hardware.printer.errors import PrinterError, PrinterStatus
from kiosk.services import journal_log
from kiosk.services.tasks import TaskQueue
from kiosk.ui.log_buffer import LogBuffer, LogLine, install_log_buffer
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.maintenance import DecodedCode, MaintenanceScreen, PinScreen

if TYPE_CHECKING:
    from kiosk.backend.interface import Backend
    from kiosk.delivery.faults import FaultyLink
    from kiosk.delivery.outbox import Outbox
    from kiosk.domain.bundles import BundleSet
    from kiosk.domain.catalog import Catalog
    from kiosk.services.printing import PrintService
    from kiosk.services.scanning.lazy import LazyScanner
    from kiosk.ui.main_window import MainWindow

log = logging.getLogger(__name__)

GESTURE_TAPS = 5
GESTURE_WINDOW_S = 4.0
REFRESH_MS = 1000
PIN_STATE_FILE = STATE_FILE_NAME
OBJECT_NAME = "maintenanceController"


def config_text(config: KioskConfig) -> str:
    """The effective config as TOML-like text, with secrets hidden.

    The PIN hash is only said to be set or not (a hash is an offline-guessable secret);
    public keys are not secret but are shortened so that a line fits the panel and a
    technician can still compare them by their ends.
    """
    data = config.model_dump(mode="json")
    lines: list[str] = []

    def value(key: str, v: Any, path: str) -> str:
        if key in SECRET_KEYS:
            return QCoreApplication.translate("Maintenance", "（已设置）") if v else (
                QCoreApplication.translate("Maintenance", "（未设置）"))
        if path == "qr.public_keys" and isinstance(v, str) and len(v) > 14:
            return json.dumps(f"{v[:6]}…{v[-6:]}", ensure_ascii=False)
        return json.dumps(v, ensure_ascii=False)

    def table(path: str, section: dict[str, Any]) -> None:
        lines.append(f"[{path}]")
        nested = []
        for key, v in section.items():
            if isinstance(v, dict):
                nested.append((key, v))
            else:
                lines.append(f"{key} = {value(key, v, path)}")
        lines.append("")
        for key, v in nested:
            table(f"{path}.{key}", v)

    for name, section in data.items():
        table(name, section)
    return "\n".join(lines).rstrip() + "\n"


def describe_code(text: str, trusted_keys: set[str], at: dt.datetime) -> DecodedCode:
    """What may be shown of a scanned text: its kind and key id, never the reference.

    `payloads.parse`, not the verifier: verifying would use up a resident code's nonce,
    and the signature is not the question on this page (can the camera read codes?).
    """
    try:
        payload, _body, _sig = payloads.parse(text)
    except payloads.PayloadRefused as refused:
        return DecodedCode("", "", False, refused.problem.value, at)
    return DecodedCode(payload.kind.value, payload.key_id, payload.key_id in trusted_keys, "",
                       at)


@dataclass(frozen=True)
class MaintenanceDeps:
    """Everything the maintenance controller uses of the kiosk, and nothing more."""

    window: MainWindow
    config: KioskConfig
    config_file: Path  # the file a reload checks and the config page names
    data_dir: Path  # where the PIN lockout is kept across restarts
    scanner: LazyScanner
    printing: PrintService
    link: FaultyLink
    outbox: Outbox
    backend: Backend
    catalog: Catalog
    bundles: BundleSet
    now: Clock  # the kiosk's clock: "today" of the statistics
    closed: Callable[[], bool]  # whether the kiosk has shut its services down


class MaintenanceController(QObject):
    """Owns the PIN and maintenance screens; one per kiosk window."""

    def __init__(
        self,
        deps: MaintenanceDeps,
        *,
        log_buffer: LogBuffer | None = None,
        clock: Callable[[], float] = time.monotonic,
        quit_app: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(deps.window)
        self.setObjectName(OBJECT_NAME)
        self.deps = deps
        self.window = deps.window
        self.log_buffer = log_buffer if log_buffer is not None else install_log_buffer()
        self.clock = clock
        # Replaceable in tests, where ending the application would end the test run.
        self.quit_app: Callable[[int], None] = quit_app or QCoreApplication.exit
        cfg = deps.config.maintenance
        self.guard = PinGuard(deps.data_dir / PIN_STATE_FILE, cfg.pin_hash,
                              lock_after=cfg.lock_after, lock_minutes=cfg.lock_minutes)
        # Own queues: a PIN check or a backend probe that hangs must not wait behind, or
        # hold up, a resident's ticket on the backend queue.
        self.pin_queue = TaskQueue("pin", self)
        self.work_queue = TaskQueue("maintenance", self)
        self._taps: deque[float] = deque(maxlen=GESTURE_TAPS)
        self._checking_pin = False
        self._test_job: int | None = None
        self._reprinting: set[int] = set()  # held jobs a technician asked to reprint
        self._status_pending = False
        self._outbox_pending = False
        self._errors_seq = -1
        # 最近错误 also shows the warnings of earlier runs when the log goes to the journal:
        # a crash or a watchdog restart, the likeliest reason a technician is here, empties
        # the memory the rest comes from. Read off the GUI thread, once per visit to the page.
        # Replaceable in tests (another journal's files).
        self.read_history: Callable[[], Sequence[journal_log.JournalLine]] | None = (
            functools.partial(journal_log.read_warnings, exclude_pid=os.getpid())
            if journal_log.installed_handler() is not None else None)
        self._history: list[LogLine] = []
        self._history_stale = True
        self._history_pending = False
        self._history_said = False
        self._open = False

        # The screens are made on first use: adding them to the styled window is felt at
        # start-up (docs/PERFORMANCE.md), and most nights nobody opens them.
        self._pin_screen: PinScreen | None = None
        self._screen: MaintenanceScreen | None = None

        self._title = self.window.title
        self._title.installEventFilter(self)
        self.window.screenChanged.connect(self._screen_changed)

        scanner = deps.scanner
        scanner.frameReady.connect(self._frame)
        scanner.stats.connect(self._camera_stats)
        scanner.cameraStateChanged.connect(self._camera_state)
        scanner.codeScanned.connect(self._code)
        printing = deps.printing
        printing.jobFinished.connect(self._job_finished)
        printing.jobFailed.connect(self._job_failed)

        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(REFRESH_MS)
        self.refresh_timer.timeout.connect(self._refresh)
        queues = (self.pin_queue, self.work_queue)
        # A lambda, not a method of self: self is destroyed along with the window.
        self.window.destroyed.connect(lambda *_: _shutdown(queues))

    @property
    def pin_screen(self) -> PinScreen:
        if self._pin_screen is None:
            self._pin_screen = PinScreen(self.window.theme)
            self.window.add_screen(self._pin_screen)
            self._pin_screen.submitted.connect(self._check_pin)
        return self._pin_screen

    @property
    def screen(self) -> MaintenanceScreen:
        if self._screen is None:
            s = self._screen = MaintenanceScreen(self.window.theme)
            self.window.add_screen(s)
            s.sectionChosen.connect(self._section_chosen)
            s.printer_page.testPageChosen.connect(self.print_test_page)
            s.printer_page.retryHeldChosen.connect(self.retry_held)
            s.printer_page.cancelHeldChosen.connect(self.cancel_held)
            s.link_page.checkLinkChosen.connect(self.check_link)
            s.config_page.reloadChosen.connect(self.reload_config)
            s.config_page.restartChosen.connect(self.restart)
            s.stats_page.statsChosen.connect(self.show_stats)
            s.exit_page.exitKioskChosen.connect(self.leave_kiosk_mode)
            s.leaveChosen.connect(lambda: self.window.go_home("maintenance"))
        return self._screen

    # --- the hidden gesture -------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._title and event.type() == QEvent.Type.MouseButtonPress:
            self._title_tapped()
        return False  # the title label does nothing with the tap either way

    def _title_tapped(self) -> None:
        if self.window.current().name != ScreenName.HOME:
            self._taps.clear()
            return
        now = self.clock()
        self._taps.append(now)
        if len(self._taps) == GESTURE_TAPS and now - self._taps[0] <= GESTURE_WINDOW_S:
            self._taps.clear()
            self.open_pin()

    def open_pin(self) -> None:
        log.info("maintenance: hidden gesture, PIN screen shown")
        self.pin_screen.clear()
        self.window.go(ScreenName.MAINTENANCE_PIN)
        guard = self.guard
        # The lock state comes from a file; read it off the GUI thread like the check itself.
        self.pin_queue.submit(lambda: (guard.enabled, guard.locked_until()),
                              self._pin_state_read, self._pin_error)

    def _pin_state_read(self, state: tuple[bool, float | None]) -> None:
        enabled, until = state
        if self.window.current().name != ScreenName.MAINTENANCE_PIN:
            return
        if not enabled:
            self.pin_screen.show_disabled()
        elif until is not None:
            self.pin_screen.show_locked(dt.datetime.fromtimestamp(until, SHANGHAI))

    # --- the PIN ------------------------------------------------------------------------
    def _check_pin(self, pin: str) -> None:
        if self._checking_pin:
            return
        self._checking_pin = True
        self.pin_screen.set_busy(True)
        guard = self.guard
        self.pin_queue.submit(lambda: guard.try_pin(pin), self._pin_checked, self._pin_error)

    def _pin_checked(self, result: PinResult) -> None:
        self._checking_pin = False
        self.pin_screen.set_busy(False)
        on_pin_screen = self.window.current().name == ScreenName.MAINTENANCE_PIN
        if result.status is PinStatus.OK:
            if not on_pin_screen:
                # The screen timed out to Home during the check: nobody is there to let in.
                log.info("maintenance: PIN accepted after the PIN screen had closed; ignored")
                return
            log.info("maintenance: PIN accepted, maintenance screen opened")
            self.open_maintenance()
            return
        if result.status is PinStatus.WRONG:
            log.info("maintenance: wrong PIN, %d attempt(s) left", result.remaining)
            self.pin_screen.show_wrong(result.remaining)
        elif result.status is PinStatus.LOCKED:
            log.info("maintenance: PIN entry locked")
            until = result.until if result.until is not None else time.time()
            self.pin_screen.show_locked(dt.datetime.fromtimestamp(until, SHANGHAI))
        else:
            log.info("maintenance: PIN entered but no PIN is configured")
            self.pin_screen.show_disabled()

    def _pin_error(self, exc: BaseException) -> None:
        self._checking_pin = False
        self.pin_screen.set_busy(False)
        log.error("maintenance: PIN check failed: %s", type(exc).__name__)
        self.pin_screen.show_problem(self.tr("暂时无法核对密码（{err}），请稍后再试。").format(
            err=type(exc).__name__))

    # --- the maintenance screen ---------------------------------------------------------
    def open_maintenance(self) -> None:
        d = self.deps
        s = self.screen
        s.clear()
        profile = d.printing.printer.profile
        s.printer_page.set_info(
            connection=d.printing.printer.describe(),
            paper_mm=d.config.printer.paper_width_mm,
            paper_dots=profile.paper_dots,
            columns=profile.columns,
            charset=profile.font_charset,
            native_qr=profile.native_qr,
            cutter=profile.cutter,
        )
        s.printer_page.set_held(len(d.printing.held))
        s.camera_page.set_state(d.scanner.state)
        s.link_page.set_mode(d.link.mode)
        s.config_page.set_config(str(d.config_file), config_text(d.config))
        s.bundles_page.set_bundles(len(d.bundles.bundles),
                                   [e.message() for e in d.bundles.errors])
        self._errors_seq = -1
        # Not remembered: Back from the maintenance screen must not lead to the PIN screen.
        self.window.go(ScreenName.MAINTENANCE, remember=False)

    def _screen_changed(self, name: str) -> None:
        if name == ScreenName.MAINTENANCE:
            if not self._open:
                self._open = True
                self._history_stale = True
                self.refresh_timer.start()
                self._refresh()
            return
        if self._open:
            self._open = False
            self.refresh_timer.stop()
            self.screen.camera_page.camera.clear()
            log.info("maintenance: maintenance screen closed (now %s)", name)

    def _section_chosen(self, section: str) -> None:
        log.info("maintenance: section %s shown", section)
        self._errors_seq = -1
        if section == "errors":
            self._history_stale = True
        if section == "stats":
            self.show_stats()
        self._refresh()

    def _refresh(self) -> None:
        """Figures of the visible section; each read is skipped while the last one runs."""
        if not self._open or self.deps.closed():
            # Kiosk.shutdown has closed the services' queues; the window goes next.
            self.refresh_timer.stop()
            return
        s = self.screen
        if s.section == "printer":
            s.printer_page.set_held(len(self.deps.printing.held))
            self._read_printer_status()
        elif s.section == "link":
            s.link_page.set_mode(self.deps.link.mode)
            self._read_outbox()
        elif s.section == "errors":
            self._read_history()
            if self.log_buffer.seq != self._errors_seq:
                self._errors_seq = self.log_buffer.seq
                lines = [*self._history, *self.log_buffer.lines()]
                s.errors_page.set_errors(sorted(lines, key=lambda line: line.created))

    def _read_history(self) -> None:
        read = self.read_history
        if read is None or not self._history_stale or self._history_pending:
            return
        self._history_pending = True
        self.work_queue.submit(read, self._history_read, self._history_unreadable)

    def _history_read(self, lines: Sequence[journal_log.JournalLine]) -> None:
        self._history_pending = self._history_stale = False
        self._history = [LogLine(ln.created, ln.level, ln.logger, ln.message) for ln in lines]
        self._errors_seq = -1  # shown at the next refresh, or now if the page is up
        if self._open and self.screen.section == "errors":
            self._refresh()

    def _history_unreadable(self, exc: BaseException) -> None:
        self._history_pending = self._history_stale = False
        if not self._history_said:  # said once, not at every visit to the page
            self._history_said = True
            log.warning("maintenance: earlier warnings not readable from the journal: %s", exc)

    def _read_printer_status(self) -> None:
        printing = self.deps.printing
        # On the printer's own queue: one thread owns its I/O. Skipped while jobs run, so
        # a status poll never delays a resident's ticket.
        if self._status_pending or printing.queue.pending():
            return
        self._status_pending = True
        printer = printing.printer
        printing.queue.submit(printer.status, self._printer_status, self._printer_unreachable)

    def _printer_status(self, status: PrinterStatus) -> None:
        self._status_pending = False
        # A printer that cannot be asked (a device file, `realtime_status = false`) is not
        # "silent": its paper is unknown, and the page must not suggest it is fine or broken.
        state = status.state.value if status.readable else "unreadable"
        self.screen.printer_page.set_status(state, status.detail)

    def _printer_unreachable(self, exc: BaseException) -> None:
        self._status_pending = False
        detail = exc.hint if isinstance(exc, PrinterError) else type(exc).__name__
        self.screen.printer_page.set_status("unreachable", detail)

    def _read_outbox(self) -> None:
        if self._outbox_pending:
            return
        self._outbox_pending = True
        outbox = self.deps.outbox
        self.work_queue.submit(outbox.pending, self._outbox_read, self._outbox_failed)

    def _outbox_read(self, pending: tuple[int, float | None]) -> None:
        self._outbox_pending = False
        count, oldest = pending
        self.screen.link_page.set_outbox(count, None if oldest is None else time.time() - oldest)

    def _outbox_failed(self, exc: BaseException) -> None:
        self._outbox_pending = False
        log.warning("maintenance: outbox not readable: %s", type(exc).__name__)

    # --- printer actions ----------------------------------------------------------------
    def print_test_page(self) -> None:
        d = self.deps
        printer = d.printing.printer
        model = f"{d.config.printer.kind}, profile {d.config.printer.profile}"
        self._test_job = d.printing.print_document(printer.test_page(model))
        log.info("maintenance: test page requested (print job %d)", self._test_job)
        self.screen.printer_page.show_message(self.tr("测试页已发送到打印机……"))

    def _job_finished(self, job: int, _report: object) -> None:
        if job == self._test_job:
            self._test_job = None
            self.screen.printer_page.show_message(self.tr("测试页已打印，请核对纸上的各项设置。"),
                                             "ok")
        if job in self._reprinting:
            self._reprinting.discard(job)
            if not self._reprinting:
                # "Reprint requested" must not stay up once it has happened.
                self.screen.printer_page.show_message(self.tr("暂停的凭条已全部补打。"), "ok")
        if self._open:
            self.screen.printer_page.set_held(len(self.deps.printing.held))

    def _job_failed(self, job: int, code: str, hint: str) -> None:
        if job == self._test_job:
            self._test_job = None
            self.screen.printer_page.show_message(
                self.tr("测试页未能打印（{code}）：{hint}").format(code=code, hint=hint),
                "error")
        if self._open:
            self.screen.printer_page.set_held(len(self.deps.printing.held))

    def retry_held(self) -> None:
        printing = self.deps.printing
        log.info("maintenance: retry of %d held print job(s) requested", len(printing.held))
        self._reprinting = {h.job for h in printing.held}
        # Reads the status and reprints the held jobs under their original job ids (so
        # their screens hear of it), once, if the printer is ready.
        printing.retry_held()
        self.screen.printer_page.show_message(
            self.tr("已请求补打：打印机就绪后立即打印暂停的凭条。"))

    def cancel_held(self) -> None:
        n = self.deps.printing.cancel_held()
        self._reprinting = set()
        log.info("maintenance: cancelled %d held print job(s)", n)
        self.screen.printer_page.set_held(0)
        self.screen.printer_page.show_message(
            self.tr("已取消 {n} 张暂停的凭条。").format(n=n), "ok")

    # --- camera -------------------------------------------------------------------------
    def _frame(self, image: QImage) -> None:
        if self._open:
            self.screen.camera_page.set_frame(image)

    def _camera_stats(self, stats: dict[str, object]) -> None:
        if self._open:
            self.screen.camera_page.set_stats(stats)

    def _camera_state(self, state: str) -> None:
        if self._open:
            self.screen.camera_page.set_state(state)

    def _code(self, text: str) -> None:
        if not self._open:
            return
        d = self.deps
        trusted = set(d.config.qr.public_keys) | set(d.backend.trusted_keys())
        code = describe_code(text, trusted, dt.datetime.now(SHANGHAI))
        log.debug("maintenance: camera decoded a code of kind %r", code.kind or code.problem)
        self.screen.camera_page.show_decoded(code)

    # --- backend ------------------------------------------------------------------------
    def check_link(self) -> None:
        link = self.deps.link
        log.info("maintenance: backend connection check (link mode %s)", link.mode)
        self.screen.link_page.show_checking()

        def probe() -> tuple[float, str]:
            started = time.monotonic()
            try:
                link.queue_figures()
            except Exception as exc:
                return time.monotonic() - started, f"{type(exc).__name__}: {exc}"
            return time.monotonic() - started, ""

        self.work_queue.submit(probe, self._link_checked, self._link_error)

    def _link_checked(self, result: tuple[float, str]) -> None:
        elapsed, problem = result
        if problem:
            log.info("maintenance: backend check failed after %.0f ms: %s", elapsed * 1000,
                     problem)
        else:
            log.info("maintenance: backend check ok in %.0f ms", elapsed * 1000)
        self.screen.link_page.show_result(elapsed, problem)
        self.screen.link_page.set_mode(self.deps.link.mode)

    def _link_error(self, exc: BaseException) -> None:
        self._link_checked((0.0, type(exc).__name__))

    # --- config -------------------------------------------------------------------------
    def reload_config(self) -> None:
        path = self.deps.config_file
        log.info("maintenance: config file check requested (%s)", path)
        self.screen.config_page.show_checking()

        def check() -> str:
            from kiosk.config.checked import load_checked_config

            try:
                load_checked_config(path)
            except ConfigFileError as exc:
                return exc.message()
            return ""

        self.work_queue.submit(check, self._config_checked, self._config_error)

    def _config_checked(self, problems: str) -> None:
        if problems:
            log.info("maintenance: config file check found problems")
        else:
            log.info("maintenance: config file check OK")
        self.screen.config_page.show_result(problems)

    def _config_error(self, exc: BaseException) -> None:
        log.warning("maintenance: config file check failed: %s", type(exc).__name__)
        self.screen.config_page.show_result(f"{type(exc).__name__}: {exc}")

    def restart(self) -> None:
        log.info("maintenance: restart requested (exit code %d)", EXIT_RESTART)
        self.window.allow_close = True
        self.quit_app(EXIT_RESTART)

    # --- statistics ---------------------------------------------------------------------
    def show_stats(self) -> None:
        d = self.deps
        today = d.now().date()
        backend = d.backend
        log.info("maintenance: today's statistics shown")
        lang = self.window.language
        names: dict[str, str] = {c.id: c.title.get(lang) for c in d.catalog.categories}
        names.update({b.id: b.title.get(lang) for b in d.bundles.bundles})
        names.update({str(level): text.get(lang) for level, text in RATING_LEVELS.items()})
        names.update({tag: text.get(lang) for tag, text in RATING_REASONS.items()})
        # Where residents gave up a bundle: its questions and fields by their own words.
        for b in d.bundles.bundles:
            names.update({f"{b.id}/{question_step(q.id).stat_key}": q.text.get(lang)
                          for q in b.questions})
            names.update({f"{b.id}/{field_step(f.id).stat_key}": f.label.get(lang)
                          for f in b.fields})
        self.work_queue.submit(
            lambda: export_stats(backend, today, today),
            lambda rows: self.screen.stats_page.set_stats(today.isoformat(), rows, names),
            self._stats_error,
        )

    def _stats_error(self, exc: BaseException) -> None:
        detail = str(exc) if isinstance(exc, StatsError) else type(exc).__name__
        log.warning("maintenance: statistics not readable: %s", detail)
        self.screen.stats_page.show_problem(detail)

    # --- leaving ------------------------------------------------------------------------
    def leave_kiosk_mode(self) -> None:
        log.info("maintenance: kiosk mode left by a technician; the application closes")
        self.window.allow_close = True
        self.window.close()
        self.quit_app(EXIT_LEFT_KIOSK_MODE)

    @classmethod
    def install(cls, deps: MaintenanceDeps, **kwargs: Any) -> MaintenanceController:
        """Add the maintenance screens to `deps.window`; the same controller if called
        again."""
        existing = deps.window.findChild(cls, OBJECT_NAME)
        if isinstance(existing, cls):
            return existing
        return cls(deps, **kwargs)


def _shutdown(queues: tuple[TaskQueue, ...]) -> None:
    for queue in queues:
        with contextlib.suppress(RuntimeError):  # already deleted with the window
            queue.shutdown(wait=False)
