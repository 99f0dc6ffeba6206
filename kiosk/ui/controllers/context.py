"""What every flow controller shares: the services and the resident's session."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.backend.interface import Backend
from kiosk.config.schema import SessionConfig, SpeechConfig
from kiosk.domain.catalog import Catalog
from kiosk.domain.payloads import Verifier
from kiosk.services import flows
from kiosk.services.delivery import DeliveryService
from kiosk.services.id_card import UNAVAILABLE, IdCardService
from kiosk.services.leases import OfflineService
from kiosk.services.printing import PrintService
from kiosk.services.scanning.lazy import LazyScanner
from kiosk.services.tasks import TaskQueue
from kiosk.ui.audio.sound import SCAN_OK, NullSound, SoundPlayer
from kiosk.ui.audio.speech import NullSpeech, SpeechEngine
from kiosk.ui.main_window import MainWindow

log = logging.getLogger(__name__)


# The defaults are the config's ([session] and [speech] when), declared there once.
_SESSION = SessionConfig()
_SPEECH = SpeechConfig()


@dataclass(frozen=True)
class ModeSettings:
    """Timeouts of the normal and the elder mode (长辈模式), and when prompts are spoken."""

    idle_timeout_s: int = _SESSION.idle_timeout_s
    idle_countdown_s: int = _SESSION.idle_countdown_s
    ticket_screen_s: int = _SESSION.ticket_screen_s
    elder_idle_timeout_s: int = _SESSION.elder_idle_timeout_s
    elder_idle_countdown_s: int = _SESSION.elder_idle_countdown_s
    elder_ticket_screen_s: int = _SESSION.elder_ticket_screen_s
    speak_when: str = _SPEECH.when  # "elder" | "always" | "never"

    def idle(self, elder: bool) -> tuple[int, int]:
        """(seconds before the countdown, countdown seconds)."""
        if elder:
            return (self.elder_idle_timeout_s - self.elder_idle_countdown_s,
                    self.elder_idle_countdown_s)
        return self.idle_timeout_s - self.idle_countdown_s, self.idle_countdown_s

    def ticket_s(self, elder: bool) -> int:
        return self.elder_ticket_screen_s if elder else self.ticket_screen_s


@dataclass
class Session:
    """Everything known about the resident at the kiosk; replaced wholesale at session end."""

    context: flows.ResidentContext | None = None
    language: str = "zh"
    flow: str = ""  # the flow being worked through, for statistics ("take_number", ...)
    flow_started: float = 0.0
    step: str = ""
    rating_target: tuple[str, str] | None = None  # ("ticket"|"application", id)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class KioskContext:
    """The services a flow controller may use. Built once by the composition root."""

    window: MainWindow
    scanner: LazyScanner  # the camera's codes and frames; made on first use
    backend: Backend
    backend_queue: TaskQueue
    printing: PrintService
    verifier: Verifier
    catalog: Catalog
    center_name: str
    kiosk_id: str
    hotline: str
    ticket_screen_s: int
    clock: Callable[[], dt.datetime]
    delivery: DeliveryService
    render_queue: TaskQueue
    stats_queue: TaskQueue
    session: Session = field(default_factory=Session)
    center_name_en: str = ""  # English tickets and screens; center_name if empty
    anonymous_tickets_per_minute: int = 6  # [queue] in the config, declared there
    modes: ModeSettings = field(default_factory=ModeSettings)
    # A kiosk of a hall: numbers held for an outage (kiosk.delivery.leases); None otherwise.
    offline: OfflineService | None = None
    # The resident ID card reader, a second way to be identified; None where there is none.
    id_card: IdCardService | None = None
    # A kiosk of a hall (backend.kind = "http"): its tickets and receipts carry the hall's
    # public links (kiosk.domain.hall_links), which 办件查询 asks the hall about. With the
    # embedded backend such a link names nothing this kiosk can look up.
    of_hall: bool = False
    # Replaceable (tests put fakes here); read at each use, never kept by a controller.
    speech: SpeechEngine = field(default_factory=NullSpeech)
    sound: SoundPlayer = field(default_factory=NullSound)

    def new_key(self) -> str:
        return uuid.uuid4().hex

    def card_reader_usable(self) -> bool:
        """Whether residents may be told to place their ID card on the reader now."""
        return self.id_card is not None and self.id_card.state != UNAVAILABLE

    def scan_accepted(self) -> None:
        """A scanned code was accepted and the resident found: the cue, in both modes."""
        self.sound.play(SCAN_OK)

    def close_voice(self) -> None:
        self.speech.close()
        self.sound.close()

    def center_name_for(self, language: str) -> str:
        """The center's name as a ticket or screen in `language` shows it."""
        if language == "en" and self.center_name_en:
            return self.center_name_en
        return self.center_name

    # --- statistics: no personal data, only flow names, steps and durations ---------------
    def start_flow(self, flow: str) -> None:
        if self.session.flow and self.session.flow != flow:
            self.end_flow("flow_abandoned")
        self.session.flow = flow
        self.session.flow_started = time.monotonic()
        self.session.step = ""
        self.record("flow_started", flow=flow)

    def set_step(self, step: str) -> None:
        self.session.step = step

    def end_flow(self, kind: str = "flow_finished") -> None:
        flow = self.session.flow
        if not flow:
            return
        duration = time.monotonic() - self.session.flow_started
        self.record(kind, flow=flow, step=self.session.step, duration_s=duration)
        self.session.flow = ""

    def record(self, kind: str, *, flow: str, step: str = "",
               duration_s: float | None = None) -> None:
        record = getattr(self.backend, "record_event", None)
        if record is None:
            return
        kiosk_id = self.kiosk_id
        # Its own queue: statistics must never delay a resident's ticket behind them.
        self.stats_queue.submit(
            lambda: record(kind, flow=flow, step=step, duration_s=duration_s, kiosk_id=kiosk_id),
            None,
            lambda exc: log.warning("statistics event not recorded: %s", type(exc).__name__),
        )

    def reset_session(self, reason: str) -> None:
        if self.session.flow:
            self.end_flow("flow_abandoned")
        log.info("session ended (%s)", reason)
        self.session = Session()
