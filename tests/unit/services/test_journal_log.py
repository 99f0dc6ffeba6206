"""The kiosk's log in the journal: when it goes there, the fields an entry carries (through
cysystemd's handler, as a real journald stores them), nothing of a call's arguments, and the
earlier warnings read back for the maintenance screen."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import textwrap
from pathlib import Path

import pytest
from cysystemd import journal as cysystemd_journal

from kiosk.services import journal_log
from kiosk.services.journal_log import (
    JournalLine,
    JournalReadError,
    KioskJournalHandler,
    journal_record,
    parse_entry,
    read_warnings,
    use_journal,
)
from tests.helpers import journald
from tests.helpers.paths import REPO_ROOT
from tests.helpers.waits import HANG_GUARD_S

# --- when the log goes to the journal -----------------------------------------------------


def test_stderr_is_the_journal_only_when_journal_stream_names_it(tmp_path):
    with open(tmp_path / "stream", "wb") as stream, open(tmp_path / "other", "wb") as other:
        st = os.fstat(stream.fileno())
        named = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        assert journal_log.stderr_is_journal(named, stream.fileno())
        # Inherited by a child whose stderr was redirected (a desktop terminal's shell).
        assert not journal_log.stderr_is_journal(named, other.fileno())
        assert not journal_log.stderr_is_journal({}, stream.fileno())
        assert not journal_log.stderr_is_journal({"JOURNAL_STREAM": "x:y"}, stream.fileno())
        assert not journal_log.stderr_is_journal({"JOURNAL_STREAM": "12"}, stream.fileno())
        # INVOCATION_ID alone (every process a unit starts, shells included) is not enough.
        assert not journal_log.stderr_is_journal({"INVOCATION_ID": "ab12"}, stream.fileno())


def test_the_journal_is_used_only_when_its_socket_takes_entries(tmp_path):
    sock_path = tmp_path / "socket"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_path))
    try:
        with open(tmp_path / "stream", "wb") as stream:
            st = os.fstat(stream.fileno())
            env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
            assert use_journal(env, stream.fileno(), sock_path)
            assert not use_journal(env, stream.fileno(), tmp_path / "missing")
            (tmp_path / "plain").write_text("")
            assert not use_journal(env, stream.fileno(), tmp_path / "plain")
            assert not use_journal({}, stream.fileno(), sock_path)
    finally:
        listener.close()


# --- what an entry holds --------------------------------------------------------------------


def make_record(msg: str, args: object = None, level: int = logging.WARNING,
                name: str = "kiosk.services.printing", **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 42, msg, args, None, func="print_it")
    record.__dict__.update(extra)
    return record


def test_an_entry_holds_the_message_not_the_arguments():
    args = {"number": "A012", "id_number": "310101199001011234"}  # a key the message omits
    record = make_record("ticket %(number)s printed", args)
    entry = journal_record(record, center="徐汇示范中心", kiosk="XH-03")
    assert entry.msg == "ticket A012 printed" and entry.args is None
    assert (entry.center, entry.kiosk, entry.event) == ("徐汇示范中心", "XH-03",
                                                         "kiosk.services.printing")
    assert record.args is args and not hasattr(record, "center")  # the original untouched

    named = journal_record(make_record("paper out", event="printer_paper_out"),
                           center=None, kiosk=None)
    assert named.event == "printer_paper_out"
    odd = journal_record(make_record("custom", level=25), center=None, kiosk=None)
    assert (odd.levelno, odd.levelname) == (logging.INFO, "INFO")
    broken = journal_record(make_record("%d tickets", ("many",)), center=None, kiosk=None)
    assert broken.msg == "%d tickets"


@pytest.fixture
def sent(monkeypatch) -> list[dict[str, object]]:
    """What the handler hands libsystemd (cysystemd's `send`, keyword per field)."""
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(cysystemd_journal, "send", lambda **fields: calls.append(fields))
    return calls


def test_the_handler_sends_the_kiosk_fields_the_way_cysystemd_names_them(sent):
    handler = KioskJournalHandler(center="徐汇示范中心", kiosk="XH-03")
    logger = logging.getLogger("kiosk.test.journal")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        line = sys._getframe().f_lineno + 1
        logger.warning("paper low on %s", "printer-1", extra={"event": "printer_paper_low"})
        logger.critical("backend gone")
        try:
            raise ValueError("no route")
        except ValueError:
            logger.exception("send failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    warning, critical, error = sent
    assert warning["message"] == "paper low on printer-1"
    assert warning["priority"] == 4 and error["priority"] == 3
    # Not 0 ("emerg", written on every logged-in terminal) as cysystemd's own table says.
    assert critical["priority"] == 2
    assert warning["center"] == "徐汇示范中心" and warning["kiosk"] == "XH-03"
    assert warning["event"] == "printer_paper_low" and critical["event"] == "kiosk.test.journal"
    assert warning["syslog_identifier"] == "kiosk"
    assert (warning["code_file"], warning["code_line"]) == (Path(__file__).name, line)
    assert warning["logger_name"] == "kiosk.test.journal"
    assert not [k for k in warning if k.startswith("argument")]
    assert "Traceback" in str(error["message"]) and "ValueError: no route" in str(
        error["traceback"])


def test_urllib3_lines_reach_the_journal_masked_as_in_the_text_log(sent):
    """kiosk.delivery.http_client masks ids in URL paths on urllib3's loggers; the journal
    handler gets the record after that filter, like every other handler."""
    import kiosk.delivery.http_client  # noqa: F401  (installs the filter)

    handler = KioskJournalHandler(center=None, kiosk=None)
    logger = logging.getLogger("urllib3.connectionpool")
    logger.addHandler(handler)
    try:
        logger.warning("Retrying %s", "/residents/R0001/appointments?code=310101199001011234")
    finally:
        logger.removeHandler(handler)
    (fields,) = sent
    assert "R0001" not in str(fields) and "310101199001011234" not in str(fields)
    assert fields["message"] == "Retrying /residents/{id}/appointments?…"
    assert "center" not in fields  # no config, no field (None values are left out)


# --- reading it back --------------------------------------------------------------------------


def fake_journalctl(tmp_path: Path, entries: list[object], stderr: str = "",
                    code: int = 0) -> str:
    """A journalctl that prints `entries` as JSON lines and records its arguments."""
    script = tmp_path / "journalctl"
    out = "\n".join(e if isinstance(e, str) else json.dumps(e) for e in entries)
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys
        open({str(tmp_path / "argv")!r}, "w").write("\\n".join(sys.argv[1:]))
        sys.stdout.write({out!r})
        sys.stderr.write({stderr!r})
        sys.exit({code})
        """))
    script.chmod(0o755)
    return str(script)


def entry(priority: int, message: object, pid: int = 100, usec: int = 1_700_000_000_000_000,
          **fields: object) -> dict[str, object]:
    return {"PRIORITY": str(priority), "MESSAGE": message, "_PID": str(pid),
            "__REALTIME_TIMESTAMP": str(usec), "SYSLOG_IDENTIFIER": "kiosk", **fields}


def test_read_warnings_asks_journalctl_for_this_identifiers_warnings(tmp_path):
    tool = fake_journalctl(tmp_path, [
        entry(4, "paper low", LOGGER_NAME="kiosk.services.printing"),
        entry(3, "send failed\nTraceback (most recent call last):", usec=1_700_000_001_000_000),
        entry(2, list(b"\xe6\x89\x93\xe5\x8d\xb0\xff")),  # not UTF-8: byte values
        entry(4, ["first", "second"]),  # the field twice
        entry(4, "mine", pid=4242),
        entry(6, "info slipped through"),
        "not json",
    ])
    lines = read_warnings(journalctl=tool, directory=tmp_path / "j", exclude_pid=4242, last=7)
    assert lines == [
        JournalLine(1_700_000_000.0, "WARNING", "kiosk.services.printing", "paper low", 100),
        JournalLine(1_700_000_001.0, "ERROR", "kiosk", "send failed", 100),
        JournalLine(1_700_000_000.0, "CRITICAL", "kiosk", "打印\ufffd", 100),
        JournalLine(1_700_000_000.0, "WARNING", "kiosk", "first", 100),
    ]
    argv = (tmp_path / "argv").read_text().split("\n")
    assert {"--output=json", "--identifier=kiosk", "--priority=warning", "--lines=7",
            f"--directory={tmp_path / 'j'}"} <= set(argv)


def test_read_warnings_says_why_it_read_nothing(tmp_path):
    said = "No journal files were opened due to insufficient permissions."
    with pytest.raises(JournalReadError, match="insufficient permissions"):
        read_warnings(journalctl=fake_journalctl(tmp_path, [], stderr=said, code=1))
    assert read_warnings(journalctl=fake_journalctl(tmp_path, [])) == []
    with pytest.raises(JournalReadError, match="no-such-journalctl"):
        read_warnings(journalctl=str(tmp_path / "no-such-journalctl"))


def test_parse_entry_skips_what_is_not_a_warning():
    assert parse_entry(entry(5, "notice")) is None
    assert parse_entry({"MESSAGE": "no priority"}) is None
    assert parse_entry(entry(4, None)) == JournalLine(1_700_000_000.0, "WARNING", "kiosk", "",
                                                      100)


# --- in a real journal ------------------------------------------------------------------------

CHILD = """
import logging
from kiosk.services import journal_log

assert journal_log.use_journal(), "stderr should be the journal stream here"
logging.basicConfig(level=logging.INFO, force=True, handlers=[
    journal_log.KioskJournalHandler(center="徐汇示范中心", kiosk="XH-03")])
log = logging.getLogger("kiosk.services.printing")
log.warning("paper low on %s", "printer-1", extra={"event": "printer_paper_low"})
log.info("ticket %(number)s printed", {"number": "A012", "id_number": "310101199001011234"})
try:
    raise ValueError("no route")
except ValueError:
    log.exception("send failed")
"""


@pytest.fixture
def journal_dir(tmp_path) -> Path:
    reason = journald.unavailable()
    if reason:
        pytest.skip(reason)
    return tmp_path / "journal"


def test_records_arrive_in_a_real_journal_with_their_fields_and_read_back(journal_dir):
    done = journald.run(journal_dir, [sys.executable, "-c", CHILD], stream="kiosk",
                        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                        timeout=HANG_GUARD_S * 2)
    assert done.returncode == 0, done.stderr[-3000:]
    native = journald.entries(journal_dir, "SYSLOG_IDENTIFIER=kiosk", "_TRANSPORT=journal")
    by_message = {str(e["MESSAGE"]).split("\n")[0]: e for e in native}
    assert set(by_message) == {"paper low on printer-1", "ticket A012 printed", "send failed"}
    low = by_message["paper low on printer-1"]
    assert (low["CENTER"], low["KIOSK"], low["EVENT"]) == ("徐汇示范中心", "XH-03",
                                                           "printer_paper_low")
    assert low["PRIORITY"] == "4" and low["LOGGER_NAME"] == "kiosk.services.printing"
    # cysystemd's location first or second: libsystemd adds the call site of its own send.
    warning_line = next(n for n, text in enumerate(CHILD.splitlines(), 1)
                        if text.startswith("log.warning("))
    assert "<string>" in low["CODE_FILE"] and str(warning_line) in low["CODE_LINE"]
    printed = by_message["ticket A012 printed"]
    assert printed["EVENT"] == "kiosk.services.printing" and printed["PRIORITY"] == "6"
    # The fields the kiosk sent (journald's own, with "_", include this test's command line).
    sent_fields = [{k: v for k, v in e.items() if not k.startswith("_")} for e in native]
    assert "310101199001011234" not in json.dumps(sent_fields, ensure_ascii=False)
    failed = by_message["send failed"]
    assert failed["PRIORITY"] == "3" and "ValueError: no route" in failed["TRACEBACK"]
    # Nothing went to stderr as well: one entry per record.
    stream = journald.entries(journal_dir, "SYSLOG_IDENTIFIER=kiosk", "_TRANSPORT=stdout")
    assert stream == [], stream

    lines = read_warnings(directory=journal_dir)
    assert [(ln.level, ln.logger, ln.message) for ln in lines] == [
        ("WARNING", "kiosk.services.printing", "paper low on printer-1"),
        ("ERROR", "kiosk.services.printing", "send failed"),
    ]
