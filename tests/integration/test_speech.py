"""Speech and the scan cue: the voice process (kiosk.workers.voice_worker) with Qt's mock
speech engine, without any engine, and hung; the kiosk without an engine; what is loaded
in the kiosk's own process; the cue's WAV file.

What the kiosk speaks, and when, is in test_elder_mode.py (with a fake engine that records
it); here is the machinery under it. A real speech-dispatcher is never started by the tests:
on a machine without a sound card it can wedge, which is exactly what the timeout is for.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.services.voice import VoiceProcess, VoiceSettings, audio_server_present
from kiosk.ui.audio.sound import CUES, SCAN_OK, NullSound, write_scan_cue
from kiosk.ui.audio.speech import NullSpeech, ProcessSpeech, make_voice, speakable
from tests.helpers.config import make_config
from tests.helpers.paths import REPO_ROOT, SHIPPED_CONFIG
from tests.helpers.waits import HANG_GUARD_MS, settle_events


def qt_speech_available() -> bool:
    """Qt's speech module loads (PySide6_Addons and its libraries, libpulse, installed)."""
    out = subprocess.run([sys.executable, "-c", "import PySide6.QtTextToSpeech"],
                         capture_output=True, timeout=60)
    return out.returncode == 0


needs_qt_speech = pytest.mark.skipif(not qt_speech_available(),
                                     reason="PySide6.QtTextToSpeech not loadable here")


def worker(args: list[str], requests: list[dict], prelude: str = "") -> list[dict]:
    """Run the voice worker as the kiosk does, feed it requests, return its events."""
    code = (f"import sys\n{prelude}\nfrom kiosk.workers.voice_worker import main\n"
            f"sys.exit(main({args!r}))")
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    out = subprocess.run([sys.executable, "-c", code], input=lines.encode(),
                         capture_output=True, timeout=60, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stderr.decode()[-500:]
    return [json.loads(line) for line in out.stdout.decode().splitlines() if line.strip()]


def wait_for(qtbot, condition, timeout: int = HANG_GUARD_MS) -> None:
    qtbot.waitUntil(lambda: bool(condition()), timeout=timeout)


# ---------------------------------------------------------------------- the worker alone


@needs_qt_speech
def test_worker_speaks_with_a_voice_of_the_language():
    events = worker(["--engine", "mock"], [
        {"op": "say", "text": "Please show your code", "lang": "en"},
        {"op": "say", "text": "请出示随申码", "lang": "zh"},
        {"op": "stop"},
        {"op": "cue", "name": "scan_ok"},
    ])
    ready = events[0]
    assert ready["event"] == "ready"
    assert ready["speech"]["available"] is True
    assert ready["speech"]["voices"]["en"]  # Qt's mock engine has English voices only
    assert "zh" not in ready["speech"]["voices"]
    assert {"event": "spoken", "lang": "en", "chars": 21} in events
    # No Chinese voice: said, not spoken with an English voice, and no crash.
    assert {"event": "error", "what": "speech", "detail": "no voice for zh"} in events
    assert {"event": "cue", "name": "scan_ok", "played": False} in events  # none configured
    # The worker never echoes what it was asked to say (a name may be in it).
    assert "Please show" not in json.dumps(events)


def test_worker_without_qt_speech_reports_it_and_stays_up():
    events = worker(["--engine", "speechd"],
                    [{"op": "say", "text": "您好", "lang": "zh"}, {"op": "cue", "name": "x"}],
                    prelude="sys.modules['PySide6.QtTextToSpeech'] = None")
    assert events[0]["event"] == "ready"
    assert events[0]["speech"]["available"] is False
    assert "not available" in events[0]["speech"]["detail"]
    assert events[1] == {"event": "error", "what": "speech", "detail": "no voice for zh"}


@needs_qt_speech
def test_worker_with_an_engine_that_is_not_installed():
    events = worker(["--engine", "no-such-engine"], [{"op": "quit"}])
    assert events[0]["speech"]["available"] is False
    assert "not installed" in events[0]["speech"]["detail"]


def test_worker_ends_when_the_kiosk_closes_its_stdin():
    start = time.monotonic()
    events = worker(["--no-speech"], [])  # EOF at once
    assert events[0]["event"] == "ready"
    # A worker that ignored the EOF would run until subprocess.run's timeout kills it.
    assert time.monotonic() - start < 50


# ----------------------------------------------------------- the kiosk's side: VoiceProcess


@needs_qt_speech
def test_voice_process_speaks_without_blocking_the_screen(qtbot):
    voice = VoiceProcess(VoiceSettings(engine="mock"))
    events: list[dict] = []
    voice.reported.connect(events.append)
    try:
        start = time.perf_counter()
        voice.say("Hello", "en")  # starts the process; returns at once
        voice.say("Welcome to self-service", "en")  # replaces the one not yet spoken
        took = time.perf_counter() - start
        # A ceiling a loaded machine meets (it only starts a process), while a say() that
        # waited for the speech engine to start or speak (seconds) still fails.
        assert took < 1.0, f"say() took {took * 1000:.0f} ms on the GUI thread"
        wait_for(qtbot, lambda: any(e.get("event") == "spoken" for e in events))
        spoken = [e for e in events if e.get("event") == "spoken"]
        assert spoken == [{"event": "spoken", "lang": "en", "chars": 23}]
        assert voice.state == "ready" and voice.speech_available
        voice.say("Again", "en")
        wait_for(qtbot, lambda: len([e for e in events if e.get("event") == "spoken"]) == 2)
    finally:
        voice.close()
    assert voice.state == "closed"


def test_voice_process_without_an_engine_falls_silent(qtbot, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.services.voice")
    voice = VoiceProcess(VoiceSettings(engine="no-such-engine"))
    statuses: list[tuple[bool, str]] = []
    voice.speechStatus.connect(lambda ok, detail: statuses.append((ok, detail)))
    try:
        voice.say("您好", "zh")
        wait_for(qtbot, lambda: statuses)
        assert statuses[0][0] is False
        assert voice.speech_available is False
        start = time.perf_counter()
        for _ in range(100):
            voice.say("您好", "zh")  # nothing sent, nothing queued, nothing logged
        # Loose enough for a loaded machine; a process started or a line logged per call
        # would still take seconds.
        assert time.perf_counter() - start < 0.5
    finally:
        voice.close()
    offs = [r for r in caplog.records if "speech off" in r.getMessage()]
    assert len(offs) == 1 and offs[0].levelno == logging.INFO


def test_a_hung_speech_process_is_abandoned(qtbot, tmp_path, caplog):
    """speech-dispatcher wedged (it happens): the worker never reports ready. The screen is
    never blocked; after start_timeout_s the worker is killed and tried once more without
    speech, for the cue; that one hangs too here, and the voice gives up."""
    hang = tmp_path / "hung-python"
    hang.write_text("#!/bin/sh\nexec sleep 60\n")
    hang.chmod(hang.stat().st_mode | stat.S_IEXEC)
    settings = VoiceSettings(engine="speechd", cues={SCAN_OK: CUES[SCAN_OK]},
                             start_timeout_s=1.0)
    voice = VoiceProcess(settings, python=str(hang))
    try:
        start = time.perf_counter()
        voice.say("您好", "zh")
        voice.cue(SCAN_OK)
        # Below start_timeout_s, so a say() that waited for the hung process fails; well
        # above what starting a process costs on a loaded machine.
        assert time.perf_counter() - start < 0.8
        wait_for(qtbot, lambda: voice.state == "failed")
        assert voice.speech_available is False and voice._retried
        voice.say("您好", "zh")  # quietly nothing
        voice.cue(SCAN_OK)
    finally:
        voice.close()
    assert any("no answer from the speech process" in r.getMessage() for r in caplog.records)


def test_speakable_never_reads_asterisks_or_arrows():
    assert speakable("张*，您好") == "张，您好"
    assert speakable("Hello, J*** S****") == "Hello, J S"
    assert speakable("下一步 ›") == "下一步"


def test_audio_server_is_found_by_its_socket(tmp_path):
    assert not audio_server_present({"XDG_RUNTIME_DIR": str(tmp_path)})
    (tmp_path / "pulse").mkdir()
    (tmp_path / "pulse" / "native").touch()
    assert audio_server_present({"XDG_RUNTIME_DIR": str(tmp_path)})
    assert audio_server_present({"PULSE_SERVER": "tcp:192.0.2.1"})


def test_make_voice_follows_the_config(qapp, monkeypatch):
    from PySide6.QtCore import QObject

    config = make_config(Path("/tmp"))
    parent = QObject()
    speech, sound = make_voice(config.speech.model_copy(update={"engine": "none"}), parent)
    assert isinstance(speech, NullSpeech)
    speech, _ = make_voice(config.speech.model_copy(update={"when": "never"}), parent)
    assert isinstance(speech, NullSpeech)
    monkeypatch.setattr("kiosk.ui.audio.speech.audio_server_present", lambda: False)
    speech, sound = make_voice(config.speech, parent)
    assert isinstance(speech, ProcessSpeech) and isinstance(sound, NullSound)
    assert speech.voice.state == "idle"  # nothing started before it is needed
    speech.close()


def test_the_cue_is_the_generated_chime(tmp_path):
    fresh = write_scan_cue(tmp_path / "scan_ok.wav")
    assert CUES[SCAN_OK].read_bytes() == fresh.read_bytes(), (
        "assets/sounds/scan_ok.wav differs from kiosk.ui.audio.sound.chime(): run "
        "python -m kiosk.ui.audio.sound")
    assert fresh.stat().st_size < 16_000  # 0.26 s of 22 kHz mono


# ------------------------------------------------------------------------ the whole kiosk


def test_kiosk_without_a_speech_engine_runs_silently(qtbot, tmp_path, resident_at, caplog):
    """speech.engine = "none": elder mode works, nothing is spoken, one INFO line says so."""
    from kiosk.app import build
    from kiosk.backend.seed import DEMO_RESIDENTS

    caplog.set_level(logging.INFO)
    base = make_config(tmp_path / "data")
    config = base.model_copy(update={"speech": base.speech.model_copy(
        update={"engine": "none", "scan_cue": False})})
    kiosk = build(config, SHIPPED_CONFIG, kiosk_mode=False)
    kiosk.window.show()
    try:
        person = resident_at(kiosk)
        person.tap(kiosk.window.elder_button)
        person.scan_in(DEMO_RESIDENTS["aged_85"])
        person.tap(kiosk.controller.category.buttons["social_security"])
        person.wait_screen("ticket")
        # The ticket printed and announced ("请取走凭条", said on the print's result) and the
        # ticket screen's own prompt, queued after the screen change: several more say()
        # calls to the null engine before the count of its log lines below.
        person.wait_printout(0)
        qtbot.waitUntil(lambda: not kiosk.printing.queue.pending() and not kiosk.busy(),
                        timeout=HANG_GUARD_MS)
        settle_events(qtbot)
    finally:
        kiosk.shutdown()
    offs = [r for r in caplog.records if r.getMessage().startswith("speech off")]
    assert len(offs) == 1 and offs[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_kiosk_process_never_loads_qt_speech_or_multimedia(tmp_path):
    """Start-up and memory at Home stay as they were: speech and sound live in the voice
    process; the kiosk's own process loads neither module, elder mode and scans included."""
    script = f"""
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
sys.path.insert(0, {str(REPO_ROOT)!r})
from PySide6.QtWidgets import QApplication
app = QApplication([])
from tests.helpers.config import make_config
from tests.helpers.paths import SHIPPED_CONFIG
from kiosk.app import build
from kiosk.devtools.demo import wait_until
config = make_config(__import__("pathlib").Path({str(tmp_path)!r}))
# Qt's mock engine: the real voice process, without starting a speech-dispatcher.
config = config.model_copy(update={{"speech": config.speech.model_copy(
    update={{"engine": "mock"}})}})
k = build(config, SHIPPED_CONFIG, kiosk_mode=False)
k.window.show()
k.window.elder_button.click()
k.controller.home.scan_button.click()
wait_until(lambda: k.window.current().name == "scan")
loaded = sorted(m for m in sys.modules if m.startswith(("PySide6.QtTextToSpeech",
                                                         "PySide6.QtMultimedia")))
k.shutdown()
print("LOADED", loaded)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120,
                         cwd=REPO_ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr.decode()[-800:]
    assert "LOADED []" in out.stdout.decode(), out.stdout.decode()
