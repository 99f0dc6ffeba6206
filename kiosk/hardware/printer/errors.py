"""Printer states and the errors the printing layer raises.

Every failure below the printer facade becomes one of these types, so the services and the UI
never see pyusb, pyserial, socket or python-escpos exceptions. Each error carries a `hint` for
the technician (what to check on the kiosk) and, when known, the status that caused it.
Details are English and hold no personal data: they go to logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class PrinterState(Enum):
    """What the printer reported, reduced to what the kiosk acts on.

    `NO_ANSWER` is an alias of `UNKNOWN`: a printer that stays silent is in an unknown state,
    never "OK" (python-escpos's `paper_status()` reports silence as paper OK).
    """

    OK = "ok"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    UNKNOWN = "unknown"
    NO_ANSWER = "unknown"  # an alias: same member as UNKNOWN
    ERROR = "error"


# States in which sending a job would only fill the printer's buffer; that buffer would then
# print when the paper is loaded, long after the resident left.
BLOCKING_STATES = frozenset({PrinterState.PAPER_OUT, PrinterState.COVER_OPEN,
                             PrinterState.OFFLINE, PrinterState.ERROR})


@dataclass(frozen=True)
class PrinterStatus:
    """One status reading: the overall state, the individual flags, and a line for logs."""

    state: PrinterState
    offline: bool = False
    cover_open: bool = False
    paper_near_end: bool = False
    paper_out: bool = False
    error: bool = False
    detail: str = ""
    raw: bytes = b""  # the reply bytes (DLE EOT 1, 2, 4), for diagnostics
    # False only for a connection that has no way to ask (a write-only device file): its
    # UNKNOWN says nothing about the printer. Everywhere else UNKNOWN means the printer
    # stayed silent, which a working printer never does.
    readable: bool = True

    @property
    def can_print(self) -> bool:
        """True unless the printer said it cannot print; UNKNOWN is allowed (no answer)."""
        return self.state not in BLOCKING_STATES

    @property
    def known(self) -> bool:
        return self.state is not PrinterState.UNKNOWN

    @property
    def silent(self) -> bool:
        """The printer was asked and did not answer: powered off, cable loose, or hung."""
        return self.state is PrinterState.UNKNOWN and self.readable

    @property
    def ready(self) -> bool:
        """A job may go ahead: the printer said so, or the connection cannot ask at all."""
        return self.state in (PrinterState.OK, PrinterState.PAPER_NEAR_END) or (
            self.state is PrinterState.UNKNOWN and not self.readable)

    @classmethod
    def unknown(cls, detail: str) -> PrinterStatus:
        return cls(PrinterState.UNKNOWN, detail=detail)

    @classmethod
    def unreadable(cls, detail: str) -> PrinterStatus:
        return cls(PrinterState.UNKNOWN, detail=detail, readable=False)

    @classmethod
    def ok(cls, detail: str = "ready") -> PrinterStatus:
        return cls(PrinterState.OK, detail=detail)

    def __str__(self) -> str:
        return f"{self.state.value}: {self.detail}" if self.detail else self.state.value


class PrinterError(Exception):
    """Base of every printing failure.

    `bytes_sent` says how much of the job the printer accepted before the failure (None when
    unknown); a non-zero value means part of a ticket may have come out.
    """

    default_hint = "Check the printer's power, cable and paper."

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: PrinterStatus | None = None,
        bytes_sent: int | None = None,
    ) -> None:
        super().__init__(message)
        self.hint = hint if hint is not None else self.default_hint
        self.status = status
        self.bytes_sent = bytes_sent

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} (hint: {self.hint})" if self.hint else base


class PrinterUnavailable(PrinterError):
    """The printer cannot be opened, reached or written to (unplugged, denied, busy, stalled)."""

    default_hint = "Check that the printer is powered on and its cable is connected."


class PaperOut(PrinterError):
    default_hint = "Load a new paper roll and close the cover."


class CoverOpen(PrinterError):
    default_hint = "Close the printer cover firmly."


class PrinterOffline(PrinterError):
    default_hint = (
        "The printer is offline: check for an open cover, missing paper or a paper jam, "
        "then press FEED or power-cycle it."
    )


class PrinterNoAnswer(PrinterOffline):
    """The printer did not answer DLE EOT: python-escpos would call that "paper OK"; we do not
    send a job into silence, since it would print (if at all) whenever the printer wakes."""

    default_hint = (
        "The printer does not answer status queries: check its power switch and cable, then "
        "power-cycle it. If this model never answers them (DLE EOT), set realtime_status = "
        "false under [printer]: tickets then print without the check, and the kiosk cannot "
        "know when the paper runs out."
    )


class PrinterFault(PrinterError):
    """The printer reports an error (cutter jam, head overheated, unrecoverable error)."""

    default_hint = "Clear any paper jam at the cutter, then power-cycle the printer."


def error_for_status(
    status: PrinterStatus, *, bytes_sent: int | None = None
) -> PrinterError | None:
    """The exception a job must raise in this state, or None if printing may go ahead."""
    kinds: dict[PrinterState, type[PrinterError]] = {
        PrinterState.PAPER_OUT: PaperOut,
        PrinterState.COVER_OPEN: CoverOpen,
        PrinterState.OFFLINE: PrinterOffline,
        PrinterState.ERROR: PrinterFault,
    }
    kind = kinds.get(status.state)
    if status.silent:
        kind = PrinterNoAnswer
    if kind is None:
        return None
    return kind(f"printer {status}", status=status, bytes_sent=bytes_sent)
