"""The sound cue on a successful scan: an interface, a silent fallback, a fake for tests, and
the real player (QSoundEffect in the voice process, kiosk.services.voice).

The cue is a short rising two-note chime, generated (not recorded) so that the repository
holds its source: `python -m kiosk.ui.audio.sound` writes assets/sounds/scan_ok.wav again.
"""

from __future__ import annotations

import logging
import math
import struct
import wave
from pathlib import Path
from typing import Protocol

from kiosk.common import resources
from kiosk.services.voice import VoiceProcess

log = logging.getLogger(__name__)

SOUNDS_DIR = resources.sounds_dir()
SCAN_OK = "scan_ok"
CUES = {SCAN_OK: SOUNDS_DIR / "scan_ok.wav"}


class SoundPlayer(Protocol):
    def play(self, cue: str) -> None: ...

    def close(self) -> None: ...


class NullSound:
    """No audio device or cue switched off: nothing plays; said once in the log."""

    def __init__(self, reason: str = "off") -> None:
        self.reason = reason
        self._told = False

    def play(self, cue: str) -> None:
        if not self._told:
            self._told = True
            log.info("sound cue off: %s", self.reason)

    def close(self) -> None:
        pass


class FakeSound:
    """For tests: remembers which cues were asked for."""

    def __init__(self) -> None:
        self.played: list[str] = []

    def play(self, cue: str) -> None:
        self.played.append(cue)

    def close(self) -> None:
        pass


class ProcessSound:
    def __init__(self, voice: VoiceProcess) -> None:
        self.voice = voice

    def play(self, cue: str) -> None:
        self.voice.cue(cue)

    def close(self) -> None:
        self.voice.close()


def chime(rate: int = 22050) -> bytes:
    """16-bit mono PCM: two short notes a fifth apart (E6, B6), soft attack and decay, 0.26 s
    in all. High enough to cut through a hall's murmur, short enough not to startle."""
    frames = []
    for freq, start, length in ((1318.5, 0.0, 0.11), (1975.5, 0.10, 0.16)):
        n0, n = int(start * rate), int(length * rate)
        for i in range(n):
            t = i / rate
            # 8 ms attack, exponential decay, 10 ms release: no click at either end.
            envelope = (min(1.0, t / 0.008) * math.exp(-t * 18)
                        * min(1.0, (n - i) / (0.01 * rate)))
            sample = 0.55 * envelope * (math.sin(2 * math.pi * freq * t)
                                        + 0.25 * math.sin(4 * math.pi * freq * t))
            frames.append((n0 + i, sample))
    total = int(0.26 * rate)
    mix = [0.0] * total
    for index, sample in frames:
        if index < total:
            mix[index] += sample
    return b"".join(struct.pack("<h", max(-32767, min(32767, int(s * 32767 * 0.8))))
                    for s in mix)


def write_scan_cue(path: Path = CUES[SCAN_OK], rate: int = 22050) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(chime(rate))
    return path


if __name__ == "__main__":
    print(write_scan_cue())
