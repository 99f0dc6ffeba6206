"""The calling board's audio over HTTP: the chime and each call spoken by espeak-ng as WAV
files, built from a validated number and counter only, for boards, counters and staff; and
when espeak-ng is missing, hangs or fails, a 503 in the hall's words while the chime still
plays."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from kiosk.hall.api import announcements
from tests.helpers.hall import RunningHall

pytestmark = pytest.mark.usefixtures("fresh_clips")


@pytest.fixture
def fresh_clips() -> Iterator[None]:
    # The server runs in this process: its cache of rendered clips is this module's.
    announcements.clips.clear()
    yield
    announcements.clips.clear()


def get(hall: RunningHall, who: str | None, path: str, **params: Any) -> requests.Response:
    return hall.session(who).get(f"{hall.url}{path}", params=params, timeout=30)


def clip(hall: RunningHall, who: str = "board-1", **params: Any) -> bytes:
    path = "/v1/board/chime" if not params else "/v1/board/announcement"
    r = get(hall, who, path, **params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    return r.content


def samples(data: bytes) -> tuple[np.ndarray[Any, np.dtype[np.float64]], float]:
    """The clip's samples (-1..1) and its length in seconds, checking it is a WAV file whose
    header tells its real length."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert int.from_bytes(data[4:8], "little") == len(data) - 8
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
        assert len(frames) == w.getnframes() * 2
    values = np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768
    return values, len(values) / rate


def loudest_hz(values: np.ndarray[Any, np.dtype[np.float64]], start_s: float,
               end_s: float) -> float:
    rate = announcements.RATE
    part = values[int(start_s * rate):int(end_s * rate)]
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
    return float(np.fft.rfftfreq(len(part), 1 / rate)[int(np.argmax(spectrum))])


def test_the_chime_is_a_ding_then_a_dong(hall: RunningHall) -> None:
    values, seconds = samples(clip(hall))

    assert 1.0 < seconds < 3.0
    assert 0.8 < float(np.max(np.abs(values))) < 1.0  # loud, not clipped
    assert loudest_hz(values, 0.05, 0.35) == pytest.approx(659.25, abs=5)  # E5
    assert loudest_hz(values, 0.9, 1.4) == pytest.approx(523.25, abs=5)  # C5
    assert clip(hall, "counter-3") == clip(hall)  # one chime, made once


def test_a_call_is_spoken_in_chinese_and_in_english(hall: RunningHall) -> None:
    zh = clip(hall, number="A012", counter=3, lang="zh")
    en = clip(hall, number="A012", counter=3, lang="en")

    assert zh != en
    for data in (zh, en):
        values, seconds = samples(data)
        assert 2.0 < seconds < 10.0, seconds
        assert float(np.sqrt(np.mean(values ** 2))) > 0.03  # speech, not silence
    # The language is Chinese unless asked; the same call is the same clip.
    assert clip(hall, number="A012", counter=3) == zh
    assert clip(hall, number="A012", counter=3, lang="zh") == zh
    # Another number, another counter: another clip.
    assert clip(hall, number="A013", counter=3, lang="zh") != zh
    assert clip(hall, number="A012", counter=11, lang="zh") != zh
    # A priority number, and a counter since removed from the rules (boards still show it).
    samples(clip(hall, number="YA003", counter=3, lang="en"))
    samples(clip(hall, number="A012", counter=42, lang="zh"))


def test_what_is_said_reads_the_number_digit_by_digit() -> None:
    counter = ("3号窗口", "Counter 3")
    assert announcements.announcement_text("zh", "A012", counter) == (
        "请 A 零 一 二 号，到 3号窗口。")
    assert announcements.announcement_text("zh", "YA100", counter) == (
        "请 Y A 一 零 零 号，到 3号窗口。")
    assert announcements.announcement_text("en", "A012", counter) == (
        'Number <say-as interpret-as="characters">A012</say-as>, please go to Counter 3.')
    # The English voice reads SSML: a counter's name from the rules file is escaped.
    assert announcements.announcement_text("en", "A012", ("3号窗口", "<Desk> & 3")).endswith(
        "please go to &lt;Desk&gt; &amp; 3.")


@pytest.mark.parametrize("params", [
    {"number": "A12", "counter": 3},  # too few digits
    {"number": "a012", "counter": 3},
    {"number": "A012 号到 5", "counter": 3},  # text to be spoken: never
    {"number": "ABC012", "counter": 3},
    {"number": "A012", "counter": 0},
    {"number": "A012", "counter": 1000},
    {"number": "A012", "counter": "三"},
    {"number": "A012", "counter": 3, "lang": "fr"},
    {"number": "A012"},
    {"counter": 3},
], ids=range(10))
def test_a_malformed_request_is_a_422(hall: RunningHall, params: dict[str, Any]) -> None:
    r = get(hall, "board-1", "/v1/board/announcement", **params)
    assert (r.status_code, r.json()["error"]) == (422, "invalid_request"), r.text


def test_a_number_of_no_series_of_the_center_is_refused(hall: RunningHall) -> None:
    for number in ("Z012", "YZ001", "AA001", "YY001"):
        r = get(hall, "board-1", "/v1/board/announcement", number=number, counter=3)
        assert (r.status_code, r.json()["error"]) == (422, "unknown_number"), number
        assert set(r.json()["message"]) == {"zh", "en"}


def test_boards_counters_and_staff_may_listen_kiosks_and_strangers_not(
    hall: RunningHall,
) -> None:
    hall.sign_in("clerk1", hall.tokens["clerk-pw"], counter=3)
    hall.sign_in("boss", hall.tokens["super-pw"])
    for who in ("board-1", "counter-3", "clerk1", "boss"):
        clip(hall, who)
        clip(hall, who, number="A001", counter=1)
    refused: list[tuple[str | None, int]] = [("kiosk-1", 403), (None, 401)]
    for stranger, status in refused:
        for path in ("/v1/board/chime", "/v1/board/announcement"):
            r = get(hall, stranger, path, number="A001", counter=1)
            assert r.status_code == status, (stranger, path, r.text)


def espeak_script(tmp_path: Path, body: str) -> str:
    script = tmp_path / "espeak-ng"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize("espeak", ["missing", "fails", "hangs", "silent"])
def test_without_a_working_espeak_a_call_is_a_503_and_the_chime_still_plays(
    hall: RunningHall, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, espeak: str,
) -> None:
    program = {
        "missing": str(tmp_path / "not-installed"),
        "fails": espeak_script(tmp_path, "echo 'no voice' >&2; exit 1"),
        # exec: the process killed at the timeout is the one holding the output pipe
        "hangs": espeak_script(tmp_path, "exec sleep 60"),
        "silent": espeak_script(tmp_path, "exit 0"),
    }[espeak]
    monkeypatch.setattr(announcements, "ESPEAK", program)
    monkeypatch.setattr(announcements, "ESPEAK_TIMEOUT_S", 0.5)

    r = get(hall, "board-1", "/v1/board/announcement", number="A012", counter=3)

    assert (r.status_code, r.json()["error"]) == (503, "speech_unavailable"), r.text
    message = r.json()["message"]
    assert "espeak-ng" in message["zh"] and "espeak-ng" in message["en"]
    samples(clip(hall))
    # Nothing was kept: with espeak-ng back, the call is spoken.
    monkeypatch.undo()
    samples(clip(hall, number="A012", counter=3))
