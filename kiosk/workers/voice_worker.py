"""The kiosk's voice: a small child process that speaks (QTextToSpeech) and plays the scan cue
(QSoundEffect), driven by JSON lines on stdin. Started by kiosk.services.voice.VoiceProcess.

Why a process and not a thread: creating a QTextToSpeech on speech-dispatcher takes about two
seconds (measured: 1.85-2.5 s on Debian 12, daemon already running) and never returns when the
daemon is wedged; PySide holds the GIL during the constructor, so a thread would freeze the
kiosk's screen just the same. Here a hang costs only the voice; the kiosk carries on silently.

Protocol (one JSON object a line):
  in : {"op": "say", "text": ..., "lang": "zh"|"en", "queue": false}   speak (replace or queue)
       {"op": "stop"}  {"op": "cue", "name": "scan_ok"}  {"op": "quit"}
  out: {"event": "ready", "speech": {"available": bool, "detail": str, "voices": {...}},
        "sound": {"available": bool, "detail": str}}
       {"event": "spoken", "lang": ..., "chars": n}   (never the text: it may hold a name)
       {"event": "cue", "name": ..., "played": bool}
       {"event": "error", "what": "speech"|"sound", "detail": str}

    python -m kiosk.workers.voice_worker --engine speechd --cue scan_ok=assets/sounds/scan_ok.wav
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from typing import Any

from PySide6.QtCore import QCoreApplication, QLocale, QLoggingCategory, QSocketNotifier, QUrl

# Qt Multimedia reports every optional library it looks for (VA-API, PipeWire): noise for a
# technician reading the kiosk's log.
QLoggingCategory.setFilterRules("qt.multimedia.symbolsresolver=false\nqt.multimedia.ffmpeg=false")

LANGUAGE_LOCALES = {"zh": ("zh_CN", "zh_TW", "zh_HK"), "en": ("en_US", "en_GB")}


def emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def die_with_parent() -> None:
    """A wedged worker must not outlive the kiosk: the kernel kills it when the kiosk dies."""
    with contextlib.suppress(Exception):  # not Linux, or no libc: the stdin EOF still ends it
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _is_mandarin(name: str) -> bool:
    lowered = name.lower()
    if "cantonese" in lowered or "yue" in lowered:
        return False
    return "mandarin" in lowered or "cmn" in lowered or lowered.startswith("chinese")


def pick_voice(tts: Any, language: str) -> Any | None:
    """The voice for `language`, or None. allVoices(locale) falls back to the engine's
    default locale when it has none of `locale`, so every candidate's own locale is checked.
    Engines name locales differently: speech-dispatcher with espeak-ng reports its Mandarin
    voices ("cmn") under the C locale, so Mandarin is also found by the voice's name. Plain
    voices before espeak's variants ("...+Adam"); Latin letters (ticket numbers) read as
    English letters, as a hall's caller does, rather than as pinyin."""
    wanted = {"zh": QLocale.Language.Chinese, "en": QLocale.Language.English}.get(language)
    if wanted is None:
        return None
    candidates = []
    for name in LANGUAGE_LOCALES[language]:
        candidates = [v for v in tts.allVoices(QLocale(name)) if v.locale().language() == wanted]
        if candidates:
            break
    if not candidates:
        everything = list(tts.allVoices(QLocale.c()))
        candidates = [v for v in everything if v.locale().language() == wanted]
        if not candidates and language == "zh":
            candidates = [v for v in everything if _is_mandarin(v.name())]
    if not candidates:
        return None
    return sorted(candidates,
                  key=lambda v: ("+" in v.name(), "pinyin" in v.name().lower(), len(v.name())))[0]


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tts: Any = None
        self.voices: dict[str, Any] = {}
        self.effects: dict[str, Any] = {}
        self.speech_detail = ""
        self.sound_detail = ""
        self._buffer = b""
        self._notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._readable)

    # --- start-up -----------------------------------------------------------------------
    def start(self) -> None:
        sound = self._start_sound()
        speech = self._start_speech()
        emit({"event": "ready",
              "speech": {"available": speech, "detail": self.speech_detail,
                         "voices": {k: v.name() for k, v in self.voices.items()}},
              "sound": {"available": sound, "detail": self.sound_detail}})

    def _start_sound(self) -> bool:
        if not self.args.cue:
            self.sound_detail = "no cue configured"
            return False
        try:
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
        except ImportError as e:
            self.sound_detail = f"Qt Multimedia not available ({e})"
            return False
        if not QMediaDevices.audioOutputs():
            self.sound_detail = "no audio output device"
            return False
        for item in self.args.cue:
            name, _, path = item.partition("=")
            effect = QSoundEffect()
            effect.setSource(QUrl.fromLocalFile(path))
            effect.setVolume(self.args.cue_volume)
            self.effects[name] = effect
        self.sound_detail = QMediaDevices.defaultAudioOutput().description()
        return True

    def _start_speech(self) -> bool:
        if not self.args.speech:
            self.speech_detail = "speech off"
            return False
        try:
            from PySide6.QtTextToSpeech import QTextToSpeech
        except ImportError as e:
            self.speech_detail = f"Qt TextToSpeech not available ({e})"
            return False
        engines = list(QTextToSpeech.availableEngines())
        engine = self.args.engine
        if engine and engine not in engines:
            self.speech_detail = f"engine {engine!r} not installed (found: {engines or 'none'})"
            return False
        tts = QTextToSpeech(engine) if engine else QTextToSpeech()
        if tts.state() == QTextToSpeech.State.Error:
            self.speech_detail = f"engine error: {tts.errorString() or tts.errorReason().name}"
            return False
        tts.setRate(self.args.rate)
        tts.setVolume(self.args.volume)
        tts.stateChanged.connect(self._state_changed)
        for language in ("zh", "en"):
            voice = pick_voice(tts, language)
            if voice is not None:
                self.voices[language] = voice
        if not self.voices:
            self.speech_detail = f"engine {tts.engine()!r} has no Chinese or English voice"
            return False
        self.tts = tts
        self.speech_detail = f"engine {tts.engine()!r}"
        return True

    # --- requests -----------------------------------------------------------------------
    def _readable(self) -> None:
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:  # the kiosk closed our stdin (or died): done
            QCoreApplication.quit()
            return
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if line.strip():
                try:
                    self.handle(json.loads(line))
                except (ValueError, KeyError, TypeError) as e:
                    emit({"event": "error", "what": "request", "detail": type(e).__name__})

    def handle(self, request: dict[str, Any]) -> None:
        op = request["op"]
        if op == "quit":
            QCoreApplication.quit()
        elif op == "say":
            self.say(str(request["text"]), str(request.get("lang", "zh")),
                     bool(request.get("queue", False)))
        elif op == "stop":
            if self.tts is not None:
                self.tts.stop()
        elif op == "cue":
            effect = self.effects.get(str(request["name"]))
            if effect is not None:
                effect.play()
            emit({"event": "cue", "name": request["name"], "played": effect is not None})

    def say(self, text: str, language: str, queue: bool) -> None:
        voice = self.voices.get(language)
        if self.tts is None or voice is None:
            emit({"event": "error", "what": "speech", "detail": f"no voice for {language}"})
            return
        if self.tts.voice() != voice:
            self.tts.setVoice(voice)
        if queue:
            self.tts.enqueue(text)
        else:
            self.tts.say(text)  # replaces whatever was being said: only the latest matters
        emit({"event": "spoken", "lang": language, "chars": len(text)})

    def _state_changed(self, state: Any) -> None:
        from PySide6.QtTextToSpeech import QTextToSpeech

        if state == QTextToSpeech.State.Error and self.tts is not None:
            emit({"event": "error", "what": "speech",
                  "detail": self.tts.errorString() or self.tts.errorReason().name})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="kiosk-voice")
    ap.add_argument("--engine", default="speechd", help='Qt TTS engine; "" = Qt default')
    ap.add_argument("--no-speech", dest="speech", action="store_false")
    ap.add_argument("--rate", type=float, default=0.0)
    ap.add_argument("--volume", type=float, default=1.0)
    ap.add_argument("--cue", action="append", default=[], help="name=path.wav")
    ap.add_argument("--cue-volume", type=float, default=0.8)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    args = parse_args(argv)
    app = QCoreApplication(sys.argv[:1])
    worker = Worker(args)
    worker.start()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
