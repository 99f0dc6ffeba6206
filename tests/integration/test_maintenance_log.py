"""The kiosk's log under systemd: `kiosk run` writes to the journal with its fields and no
file, elsewhere it logs as before, and the maintenance screen's 最近错误 page still shows
the warnings, those of earlier runs (read back from the journal) included.

The journal here is Debian's own systemd-journald, started for the test in namespaces of its
own (tests/helpers/journald.py), since a container has none."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cysystemd import journal as cysystemd_journal

from kiosk.config.loader import load_config
from kiosk.services import journal_log
from kiosk.services.journal_log import JournalReadError, KioskJournalHandler, read_warnings
from tests.helpers import journald
from tests.helpers.paths import CONFIG_DIR, REPO_ROOT
from tests.helpers.waits import HANG_GUARD_MS, HANG_GUARD_S
from tests.integration.test_maintenance import Technician, config_with_pin


@pytest.fixture
def journal_dir(tmp_path) -> Path:
    reason = journald.unavailable()
    if reason:
        pytest.skip(reason)
    return tmp_path / "journal"


def kiosk_run(config_file: Path) -> list[str]:
    return [sys.executable, "-m", "kiosk", "run", "--config", str(config_file), "--windowed",
            "--exit-when-ready"]


def run_env() -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO_ROOT)}


def test_kiosk_run_under_systemd_logs_to_the_journal_with_its_fields_and_no_file(
        journal_dir, tmp_path):
    shutil.copytree(CONFIG_DIR, tmp_path / "config")
    config_file = tmp_path / "config" / "kiosk.toml"
    center = load_config(config_file).center
    data_dir = tmp_path / "var"  # paths.data_dir = "../var" in the shipped kiosk.toml

    done = journald.run(journal_dir, kiosk_run(config_file), stream="kiosk", env=run_env(),
                        timeout=HANG_GUARD_S * 2)
    assert done.returncode == 0, done.stderr[-3000:]

    native = journald.entries(journal_dir, "SYSLOG_IDENTIFIER=kiosk", "_TRANSPORT=journal")
    ready = [e for e in native if e["MESSAGE"] == "kiosk ready"]
    assert len(ready) == 1, [e["MESSAGE"] for e in native]
    (entry,) = ready
    assert (entry["CENTER"], entry["KIOSK"], entry["EVENT"]) == (center.name, center.kiosk_id,
                                                                 "kiosk")
    assert entry["PRIORITY"] == "6" and entry["LOGGER_NAME"] == "kiosk"
    assert "run.py" in entry["CODE_FILE"]
    assert any(e["MESSAGE"] == "logging to the journal (journalctl -t kiosk)" for e in native)
    # The stream (stdout and stderr) holds what is not a log record, never a record again.
    stream = [e["MESSAGE"] for e in journald.entries(journal_dir, "SYSLOG_IDENTIFIER=kiosk",
                                                     "_TRANSPORT=stdout")]
    assert any(str(m).startswith("ready ") for m in stream), stream
    assert not any("kiosk ready" in str(m) for m in stream), stream
    assert data_dir.is_dir() and not (data_dir / "logs").exists()


def test_outside_systemd_the_log_stays_on_stderr_and_in_the_data_folder(tmp_path):
    shutil.copytree(CONFIG_DIR, tmp_path / "config")
    # A JOURNAL_STREAM inherited from a unit (a desktop terminal's shell) that is not stderr.
    env = {**run_env(), "JOURNAL_STREAM": "1:1"}
    done = subprocess.run(kiosk_run(tmp_path / "config" / "kiosk.toml"), capture_output=True,
                          text=True, timeout=HANG_GUARD_S * 2, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert " INFO kiosk: kiosk ready" in done.stderr
    log_file = tmp_path / "var" / "logs" / "kiosk.log"
    assert " INFO kiosk: kiosk ready" in log_file.read_text("utf-8")


EARLIER_RUN = """
import logging
from kiosk.services.journal_log import KioskJournalHandler

logging.basicConfig(level=logging.INFO, force=True,
                    handlers=[KioskJournalHandler(center="徐汇示范中心", kiosk="XH-03")])
log = logging.getLogger("kiosk.services.printing")
log.info("ticket printed")
log.warning("printer silent before the restart")
log.error("print job held before the restart")
"""


def test_the_errors_page_shows_the_warnings_of_earlier_runs_from_the_journal(
        journal_dir, kiosk_factory, qtbot, tmp_path):
    done = journald.run(journal_dir, [sys.executable, "-c", EARLIER_RUN], stream="kiosk",
                        env=run_env(), timeout=HANG_GUARD_S * 2)
    assert done.returncode == 0, done.stderr[-3000:]
    k = kiosk_factory(config_file=config_with_pin(tmp_path / "config"))
    t = Technician(k, qtbot)
    t.mc.read_history = functools.partial(read_warnings, directory=journal_dir,
                                          exclude_pid=os.getpid())
    logging_time = time.time()
    logging.getLogger("kiosk.test").warning("warning of this run")
    t.log_in()
    t.section("errors")
    text = t.mc.screen.errors_text
    qtbot.waitUntil(lambda: "before the restart" in text.toPlainText(), timeout=HANG_GUARD_MS)
    shown = text.toPlainText()
    assert "ticket printed" not in shown  # INFO: not a warning
    # Newest first: this run's warning, then the earlier run's error and warning.
    positions = [shown.index(m) for m in ("warning of this run",
                                          "print job held before the restart",
                                          "printer silent before the restart")]
    assert positions == sorted(positions), shown
    assert "ERROR kiosk.services.printing: print job held before the restart" in shown
    assert all(line.created <= logging_time for line in t.mc._history)


def test_the_errors_page_says_once_that_the_journal_is_not_readable(kiosk_factory, qtbot,
                                                                    tmp_path):
    k = kiosk_factory(config_file=config_with_pin(tmp_path / "config"))
    t = Technician(k, qtbot)
    reads: list[int] = []

    def unreadable() -> list[journal_log.JournalLine]:
        reads.append(1)
        raise JournalReadError("journalctl: No journal files were opened due to insufficient"
                               " permissions.")

    t.mc.read_history = unreadable
    t.log_in()
    text = t.mc.screen.errors_text
    for visit in (1, 2):
        t.section("printer")
        t.section("errors")
        qtbot.waitUntil(lambda v=visit: len(reads) == v and not t.mc._history_pending,
                        timeout=HANG_GUARD_MS)
    qtbot.waitUntil(lambda: "insufficient permissions" in text.toPlainText(),
                    timeout=HANG_GUARD_MS)
    assert text.toPlainText().count("earlier warnings not readable from the journal") == 1


def test_the_journal_is_read_back_only_when_the_log_goes_there(kiosk_factory, qtbot,
                                                              monkeypatch):
    k = kiosk_factory()
    assert Technician(k, qtbot).mc.read_history is None  # the tests log as a shell does
    monkeypatch.setattr(cysystemd_journal, "send", lambda **_fields: None)
    root = logging.getLogger()
    handler = KioskJournalHandler(center="c", kiosk="k")
    root.addHandler(handler)
    try:
        read = Technician(kiosk_factory(), qtbot).mc.read_history
    finally:
        root.removeHandler(handler)
    assert isinstance(read, functools.partial) and read.func is read_warnings
    assert read.keywords == {"exclude_pid": os.getpid()}
