"""What the calling board plays: a chime and the spoken call, as WAV files the hall renders
itself. A board is a Chromium in a kiosk session on a LAN that may have no internet, and
Debian's Chromium has no offline voices for speechSynthesis, so the hall speaks with
espeak-ng (installed with the hall) and the board only plays audio files.

The spoken text is built here from a number of the center's series and a counter number,
both validated: nothing a caller writes is ever spoken.
"""

from __future__ import annotations

import array
import functools
import io
import logging
import math
import shutil
import subprocess
import sys
import threading
import wave
from collections import OrderedDict
from typing import Annotated, Any, Literal
from xml.sax.saxutils import escape

from fastapi import APIRouter, Query, Request, Response

from kiosk.hall.api.deps import HallError, Watcher, center_of
from kiosk.hall.rules.config import CenterRules

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/board", tags=["board"])

NUMBER = r"^[A-Z]{1,2}[0-9]{3,6}$"
ESPEAK = "espeak-ng"
ESPEAK_TIMEOUT_S = 10.0
CACHED_CLIPS = 32  # a clip is 100 to 250 kB; the latest calls are what boards ask again
RATE = 22050  # espeak-ng's own rate, so the chime and the speech sound alike
PEAK = 0.89  # -1 dBFS: every clip as loud as the others, none clipping
TAIL_S = 0.35  # silence after a spoken clip, so two in a row do not run together

# Debian's espeak-ng 1.51 "cmn" voice reads many common characters (请, 号, 到, 零, 一) as
# their pinyin spelled out in English ("qing3" as "king three"); its "cmn-latn-pinyin" voice
# reads the same dictionary right, and a single capital letter the way a Chinese hall says
# it (A as "ei", Y as "wai").
VOICES: dict[str, tuple[str, ...]] = {
    "zh": ("-v", "cmn-latn-pinyin", "-s", "140"),
    "en": ("-v", "en", "-s", "145", "-m"),  # -m: SSML, for <say-as> below
}
ZH_DIGITS = "零一二三四五六七八九"

WAV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"audio/wav": {}}, "description": "A mono 16-bit PCM WAV file"}}
# A clip depends only on its address (and the rules file): a board may keep it.
CACHE_HEADERS = {"Cache-Control": "private, max-age=3600"}

UNAVAILABLE = ("speech_unavailable",
               "语音播报暂不可用（服务器未安装或无法运行 espeak-ng），叫号屏仍显示叫号并提示音。",
               "Spoken announcements are unavailable (espeak-ng is missing or failed on the "
               "server); the board still shows each call and chimes.")


class SpeechFailed(Exception):
    """espeak-ng is missing, failed, hung or produced no audio."""


def _counter_names(center: CenterRules, counter: int) -> tuple[str, str]:
    try:
        name = center.config.counter(counter).name
    except KeyError:  # a counter since removed from the rules: the board still shows it
        return f"{counter}号窗口", f"Counter {counter}"
    return name.zh, name.en


def announcement_text(lang: str, number: str, counter: tuple[str, str]) -> str:
    """What is spoken: the number letter by letter and digit by digit (A012 is "A 零 一 二",
    not "A 十二"), then the counter by its name in the rules file."""
    letters = [c for c in number if c.isalpha()]
    digits = [c for c in number if c.isdigit()]
    if lang == "zh":
        spoken = " ".join(letters + [ZH_DIGITS[int(d)] for d in digits])
        return f"请 {spoken} 号，到 {counter[0]}。"
    return (f'Number <say-as interpret-as="characters">{number}</say-as>, '
            f"please go to {escape(counter[1])}.")


def _espeak() -> str:
    found = shutil.which(ESPEAK)
    if found is None:
        raise SpeechFailed(f"{ESPEAK} is not installed")
    return found


def _pcm(wav_bytes: bytes) -> bytes:
    """The samples of espeak-ng's --stdout WAV, whose header gives no real length (it is
    written before the speech is): the data chunk runs to the end of the output."""
    if wav_bytes[:4] != b"RIFF" or wav_bytes[8:12] != b"WAVE":
        raise SpeechFailed("espeak-ng wrote no WAV")
    at = 12
    while at + 8 <= len(wav_bytes):
        kind, size = wav_bytes[at:at + 4], int.from_bytes(wav_bytes[at + 4:at + 8], "little")
        if kind == b"fmt ":
            channels, rate, bits = (int.from_bytes(wav_bytes[at + 10:at + 12], "little"),
                                    int.from_bytes(wav_bytes[at + 12:at + 16], "little"),
                                    int.from_bytes(wav_bytes[at + 22:at + 24], "little"))
            if (channels, rate, bits) != (1, RATE, 16):
                raise SpeechFailed(f"espeak-ng wrote {channels} channels, {rate} Hz, {bits} bit")
        elif kind == b"data":
            data = wav_bytes[at + 8:]
            return data[:len(data) // 2 * 2]
        at += 8 + size + size % 2
    raise SpeechFailed("espeak-ng's WAV has no data")


def _wav(samples: array.array[int]) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def _normalized(pcm: bytes) -> array.array[int]:
    samples = array.array("h", pcm)
    if sys.byteorder != "little":
        samples.byteswap()
    loudest = max(map(abs, samples), default=0)
    if loudest == 0:
        raise SpeechFailed("espeak-ng spoke nothing")
    gain = PEAK * 32767 / loudest
    return array.array("h", (int(s * gain) for s in samples))


def render(lang: str, text: str) -> bytes:
    """A WAV of `text` spoken in `lang` by espeak-ng: run in the caller's thread (a sync
    route's worker thread), killed if it outlasts ESPEAK_TIMEOUT_S."""
    try:
        done = subprocess.run([_espeak(), *VOICES[lang], "--stdout", text],
                              capture_output=True, timeout=ESPEAK_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise SpeechFailed(f"espeak-ng took longer than {ESPEAK_TIMEOUT_S:g} s") from None
    except OSError as exc:
        raise SpeechFailed(f"espeak-ng did not start: {exc}") from None
    if done.returncode != 0:
        raise SpeechFailed(f"espeak-ng exited with {done.returncode}: "
                           f"{done.stderr.decode(errors='replace')[:200]}")
    samples = _normalized(_pcm(done.stdout))
    samples.extend([0] * int(TAIL_S * RATE))
    return _wav(samples)


class _Clips:
    """The latest clips rendered. One lock around rendering: when fifty boards ask for a new
    call's clip at once, espeak-ng runs once and the others wait the 50 ms it takes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.clips: OrderedDict[tuple[str, str], bytes] = OrderedDict()

    def get(self, lang: str, text: str) -> bytes:
        key = (lang, text)
        with self.lock:
            clip = self.clips.get(key)
            if clip is None:
                clip = render(lang, text)  # a failure is not kept: the next request retries
                self.clips[key] = clip
                while len(self.clips) > self.size:
                    self.clips.popitem(last=False)
            else:
                self.clips.move_to_end(key)
            return clip

    def clear(self) -> None:
        with self.lock:
            self.clips.clear()


clips = _Clips(CACHED_CLIPS)


def _bell(frequency: float, seconds: float) -> list[float]:
    """A struck bell: the tone and two overtones, a 5 ms attack and an exponential decay."""
    out = []
    for i in range(int(seconds * RATE)):
        t = i / RATE
        tone = (math.sin(2 * math.pi * frequency * t)
                + 0.35 * math.sin(2 * math.pi * 2 * frequency * t)
                + 0.12 * math.sin(2 * math.pi * 3 * frequency * t))
        out.append(tone * min(1.0, t / 0.005) * math.exp(-3.2 * t))
    return out


@functools.cache
def chime() -> bytes:
    """Ding-dong: E5 then C5, the second struck while the first still rings."""
    ding, dong = _bell(659.25, 1.0), _bell(523.25, 1.3)
    start = int(0.42 * RATE)
    mixed = [0.0] * (start + len(dong))
    for i, v in enumerate(ding):
        mixed[i] += v
    for i, v in enumerate(dong):
        mixed[start + i] += v
    loudest = max(map(abs, mixed))
    return _wav(array.array("h", (int(v / loudest * PEAK * 32767) for v in mixed)))


def _series_known(center: CenterRules, number: str) -> bool:
    series = number.rstrip("0123456789")
    prefixes = {c.prefix for c in center.config.categories}
    return series in prefixes or series in {center.config.priority_prefix + p for p in prefixes}


@router.get("/announcement", response_class=Response, responses=WAV)
def announcement(request: Request, who: Watcher,
                 number: Annotated[str, Query(pattern=NUMBER)],
                 counter: Annotated[int, Query(ge=1, le=999)],
                 lang: Literal["zh", "en"] = "zh") -> Response:
    """The call "请 A012 号到 3号窗口" spoken in one language, as audio/wav."""
    center = center_of(request, who)
    if not _series_known(center, number):
        raise HallError(422, "unknown_number", f"{number} 不是本中心的号码。",
                        f"{number} is not a number of this center.")
    text = announcement_text(lang, number, _counter_names(center, counter))
    try:
        clip = clips.get(lang, text)
    except SpeechFailed as exc:
        log.warning("no spoken announcement: %s", exc)
        raise HallError(503, *UNAVAILABLE) from None
    return Response(clip, media_type="audio/wav", headers=CACHE_HEADERS)


@router.get("/chime", response_class=Response, responses=WAV)
def chime_clip(who: Watcher) -> Response:
    """The two-tone chime played before each call, as audio/wav."""
    return Response(chime(), media_type="audio/wav", headers=CACHE_HEADERS)
