"""The kiosk's side of the voice process (kiosk.workers.voice_worker): speech and the scan cue
without ever blocking the GUI thread.

Everything here is asynchronous: QProcess starts the worker, requests are JSON lines written
to its stdin, its reports arrive on stdout as signals. Until the worker reports ready, only the
latest request of each kind is kept (a prompt for a screen the resident has left is stale); if
it does not report within `start_timeout_s` (a wedged speech-dispatcher), it is killed and
started once more without speech, so the scan cue still works. Nothing is ever waited for.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

log = logging.getLogger(__name__)

#: A cue that could not play within this long after the scan is dropped: late, it confuses.
CUE_MAX_DELAY_S = 1.0
#: A prompt is worth speaking late only for this long.
SAY_MAX_DELAY_S = 6.0


@dataclass(frozen=True)
class VoiceSettings:
    engine: str = "speechd"
    speech: bool = True
    rate: float = 0.0
    volume: float = 1.0
    cues: dict[str, Path] = field(default_factory=dict)
    cue_volume: float = 0.8
    start_timeout_s: float = 15.0


def audio_server_present(env: dict[str, str] | None = None) -> bool:
    """Whether a PulseAudio or PipeWire server is there for Qt Multimedia to play into (Qt's
    Linux audio goes through one of them). Checked by its socket, without loading anything."""
    env = dict(os.environ) if env is None else env
    if env.get("PULSE_SERVER"):
        return True
    runtime = env.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    sockets = [Path(runtime) / "pulse" / "native", Path(runtime) / "pipewire-0",
               Path("/run/pulse/native"), Path("/var/run/pulse/native")]
    return any(p.exists() for p in sockets)


class VoiceProcess(QObject):
    """One worker process for speech and cues, started on first use (or by start())."""

    speechStatus = Signal(bool, str)  # available, detail (engine and voices, or why not)
    soundStatus = Signal(bool, str)
    reported = Signal(dict)  # every event from the worker (tests, maintenance)

    def __init__(self, settings: VoiceSettings, parent: QObject | None = None,
                 *, python: str = sys.executable) -> None:
        super().__init__(parent)
        self.settings = settings
        self.python = python
        self.state = "idle"  # idle | starting | ready | failed | closed
        self.speech_available: bool | None = None  # None: not known yet
        self.sound_available: bool | None = None
        self._speech_wanted = settings.speech
        self._retried = False
        self._pending_say: list[tuple[float, dict[str, Any]]] = []
        self._pending_cue: tuple[float, str] | None = None
        self._process: QProcess | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start_timed_out)

    # --- requests (never block) ---------------------------------------------------------
    def say(self, text: str, language: str, *, queue: bool = False) -> None:
        if self.speech_available is False or not self._speech_wanted or self.state == "closed":
            return
        request = {"op": "say", "text": text, "lang": language, "queue": queue}
        if self.state == "ready":
            self._write(request)
            return
        if not queue:
            self._pending_say.clear()  # a new prompt replaces the one not yet spoken
        self._pending_say = [*self._pending_say[-2:], (time.monotonic(), request)]
        self.start()

    def stop_speaking(self) -> None:
        self._pending_say.clear()
        if self.state == "ready" and self.speech_available:
            self._write({"op": "stop"})

    def cue(self, name: str) -> None:
        if self.sound_available is False or name not in self.settings.cues:
            return
        if self.state in ("closed", "failed"):
            return
        if self.state == "ready":
            self._write({"op": "cue", "name": name})
            return
        self._pending_cue = (time.monotonic(), name)
        self.start()

    # --- the process --------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker if it is not running (idempotent, returns at once)."""
        if self.state != "idle":
            return
        self.state = "starting"
        process = QProcess(self)
        process.setProgram(self.python)
        process.setArguments(self._arguments())
        process.readyReadStandardOutput.connect(self._read)
        process.readyReadStandardError.connect(self._read_errors)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._process_error)
        self._process = process
        self._buffer = b""
        process.start()
        self._timer.start(int(self.settings.start_timeout_s * 1000))

    def _arguments(self) -> list[str]:
        s = self.settings
        args = ["-m", "kiosk.workers.voice_worker", "--engine", s.engine,
                "--rate", str(s.rate), "--volume", str(s.volume),
                "--cue-volume", str(s.cue_volume)]
        if not self._speech_wanted:
            args.append("--no-speech")
        for name, path in s.cues.items():
            args += ["--cue", f"{name}={path}"]
        return args

    def close(self) -> None:
        """Stop the worker (kiosk shutdown). Waits a moment at most, then kills it."""
        self.state = "closed"
        self._timer.stop()
        process, self._process = self._process, None
        if process is None:
            return
        process.finished.disconnect(self._finished)
        process.errorOccurred.disconnect(self._process_error)
        if process.state() != QProcess.ProcessState.NotRunning:
            process.write(b'{"op": "quit"}\n')
            process.closeWriteChannel()
            if not process.waitForFinished(300):
                process.kill()
                process.waitForFinished(500)
        process.deleteLater()

    def _write(self, request: dict[str, Any]) -> None:
        if self._process is not None:
            self._process.write((json.dumps(request, ensure_ascii=False) + "\n").encode())

    def _read(self) -> None:
        if self._process is None:
            return
        self._buffer += bytes(self._process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self._event(event)

    def _read_errors(self) -> None:
        if self._process is None:
            return
        text = bytes(self._process.readAllStandardError().data()).decode(errors="replace")
        for line in text.splitlines():
            if line.strip():
                log.debug("voice: %s", line.strip()[:200])

    def _event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "ready":
            self._timer.stop()
            self.state = "ready"
            speech, sound = event.get("speech", {}), event.get("sound", {})
            self.speech_available = bool(speech.get("available")) and self._speech_wanted
            self.sound_available = bool(sound.get("available"))
            if self._speech_wanted:
                self._report("speech", self.speech_available, speech.get("detail", ""),
                             speech.get("voices", {}))
                self.speechStatus.emit(self.speech_available, speech.get("detail", ""))
            if self.settings.cues:
                self._report("sound cue", self.sound_available, sound.get("detail", ""), {})
                self.soundStatus.emit(self.sound_available, sound.get("detail", ""))
            self._flush()
        elif kind == "error":
            log.info("voice: %s problem: %s", event.get("what"), event.get("detail"))
        self.reported.emit(event)

    @staticmethod
    def _report(what: str, available: bool, detail: str, voices: dict[str, str]) -> None:
        if available:
            log.info("%s ready: %s %s", what, detail, voices or "")
        else:
            # Once, at INFO: a kiosk without speakers or speech engine is a normal set-up.
            log.info("%s off: %s", what, detail)

    def _flush(self) -> None:
        now = time.monotonic()
        pending, self._pending_say = self._pending_say, []
        if self.speech_available:
            for at, request in pending:
                if now - at <= SAY_MAX_DELAY_S:
                    self._write(request)
        cue, self._pending_cue = self._pending_cue, None
        if cue is not None and self.sound_available and now - cue[0] <= CUE_MAX_DELAY_S:
            self._write({"op": "cue", "name": cue[1]})

    def _start_timed_out(self) -> None:
        if self.state != "starting":
            return
        log.warning("voice: no answer from the speech process within %.0f s (speech-dispatcher "
                    "not responding?); speech is off until the kiosk restarts",
                    self.settings.start_timeout_s)
        self._abandon()
        self.speech_available = False
        if self._speech_wanted and self.settings.cues and not self._retried:
            # Once more without speech, so that the scan cue still sounds.
            self._retried = True
            self._speech_wanted = False
            self.state = "idle"
            self.start()
        else:
            self.state = "failed"
            self.sound_available = False if self.sound_available is None else self.sound_available

    def _abandon(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.finished.disconnect(self._finished)
            process.errorOccurred.disconnect(self._process_error)
            process.kill()
            process.waitForFinished(200)  # kill is immediate; this reaps the child
            process.deleteLater()

    def _finished(self, code: int, _status: object) -> None:
        if self.state == "closed":
            return
        log.warning("voice: the speech process ended (exit %s); speech and cue are off", code)
        self._gone()

    def _process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            log.warning("voice: the speech process could not start (%s)", error.name)
            self._gone()

    def _gone(self) -> None:
        self._timer.stop()
        self.state = "failed"
        self.speech_available = False
        self.sound_available = False
        self._pending_say.clear()
        self._pending_cue = None
        if self._process is not None:
            self._process.deleteLater()
            self._process = None
