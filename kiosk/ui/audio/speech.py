"""Spoken prompts: an engine interface, a silent fallback, a fake for tests, and the real
engine (Qt's QTextToSpeech, in the voice process: kiosk.workers.voice_worker).

The real engine picks the voice matching the resident's language (Mandarin for zh, English for
en). Without Qt's speech module, engine or a voice, the kiosk runs silently and says so once in
its log at INFO; the screen never waits for speech, whatever the engine does.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject

from kiosk.services.voice import VoiceProcess, VoiceSettings, audio_server_present
from kiosk.ui.audio.sound import CUES, SCAN_OK, NullSound, ProcessSound, SoundPlayer

if TYPE_CHECKING:
    from kiosk.config.schema import SpeechConfig

log = logging.getLogger(__name__)


class SpeechEngine(Protocol):
    def say(self, text: str, language: str, *, queue: bool = False) -> None:
        """Speak `text` in `language` ("zh" | "en"), replacing what is being said (or after
        it, with `queue`). Returns at once."""

    def stop(self) -> None: ...

    def close(self) -> None: ...


class NullSpeech:
    """No engine (or speech switched off): nothing is spoken; said once in the log, at INFO."""

    def __init__(self, reason: str = "off") -> None:
        self.reason = reason
        self._told = False

    def say(self, text: str, language: str, *, queue: bool = False) -> None:
        if not self._told:
            self._told = True
            log.info("speech off: %s", self.reason)

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


class FakeSpeech:
    """For tests: records what would have been spoken, as (text, language)."""

    def __init__(self) -> None:
        self.spoken: list[tuple[str, str]] = []
        self.stops = 0

    def say(self, text: str, language: str, *, queue: bool = False) -> None:
        self.spoken.append((text, language))

    def stop(self) -> None:
        self.stops += 1

    def close(self) -> None:
        pass

    def texts(self) -> list[str]:
        return [t for t, _ in self.spoken]


class ProcessSpeech:
    """QTextToSpeech in the voice process; falls silent if it reports no engine or voice."""

    def __init__(self, voice: VoiceProcess) -> None:
        self.voice = voice

    def say(self, text: str, language: str, *, queue: bool = False) -> None:
        self.voice.say(text, language, queue=queue)

    def stop(self) -> None:
        self.voice.stop_speaking()

    def close(self) -> None:
        self.voice.close()


_MASK = re.compile(r"\*+")


def speakable(text: str) -> str:
    """What the engine is given: masked names without their asterisks ("张*" is read "张",
    never "张 星号"), arrows and bullets left out."""
    text = _MASK.sub("", text)
    text = re.sub(r"[‹›·✓⌫]", " ", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def make_voice(config: SpeechConfig, parent: QObject) -> tuple[SpeechEngine, SoundPlayer]:
    """The speech engine and cue player the config asks for; one worker process for both,
    started on first use. Nothing Qt Multimedia or TextToSpeech is loaded here."""
    speech_on = config.when != "never" and config.engine != "none"
    cues = {}
    cue_reason = "switched off (speech.scan_cue = false)"
    if config.scan_cue:
        if audio_server_present():
            cues = {SCAN_OK: CUES[SCAN_OK]}
        else:
            cue_reason = "no sound server (PulseAudio or PipeWire) for Qt Multimedia"
    if not speech_on and not cues:
        return NullSpeech(f"speech.when = {config.when!r}, engine {config.engine!r}"), \
            NullSound(cue_reason)
    settings = VoiceSettings(
        engine=config.engine, speech=speech_on, rate=config.rate, volume=config.volume,
        cues=cues, cue_volume=config.cue_volume, start_timeout_s=config.start_timeout_s)
    voice = VoiceProcess(settings, parent)
    speech: SpeechEngine = ProcessSpeech(voice) if speech_on else NullSpeech(
        f"speech.when = {config.when!r}, engine {config.engine!r}")
    sound: SoundPlayer = ProcessSound(voice) if cues else NullSound(cue_reason)
    return speech, sound
