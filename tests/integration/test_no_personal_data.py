"""No resident's personal data outlives a session: logs, the kiosk's own database rows, paper,
the statistics export, and every widget once the session has ended.

Residents take numbers the way they would at the kiosk (their phone to the emulated camera,
buttons tapped) with every logger at DEBUG. Afterwards nothing may hold, for any of them, the
full name, the ID number (whole, or its 8-digit birth date), the phone number or a license
number. The backend's own records of residents (`residents`, `licenses`) are its business
and are left out; every other table in every SQLite file under the data dir is read.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QLabel, QLineEdit, QWidget

from kiosk.app import Kiosk
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.backend.stats import export_stats, stats_csv, stats_table
from kiosk.domain.masking import mask_id_number, mask_name, mask_phone
from kiosk.hardware.printer.render import render_text

ORDINARY = DEMO_RESIDENTS["ordinary"]  # R0001 张伟明
RARE = DEMO_RESIDENTS["rare_name"]  # R0010 𠮷祥云, ID number ending in X
COMPOUND = DEMO_RESIDENTS["compound_surname"]  # R0009 欧阳明华
AGED = DEMO_RESIDENTS["aged_85"]  # R0002 李秀英: a priority number
PEOPLE = (ORDINARY, RARE, COMPOUND, AGED)

# The backend's own records of who residents are; everything else the kiosk keeps is checked.
BACKEND_RECORDS = frozenset({"residents", "licenses"})
SQLITE_MAGIC = b"SQLite format 3\x00"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # as `kiosk run` writes it


@dataclass(frozen=True)
class Secret:
    resident: str
    what: str
    value: str


def secrets_of(kiosk: Kiosk, resident_id: str) -> list[Secret]:
    person = kiosk.backend.identify(resident_id)
    assert person is not None
    values = {
        "full name": person.name,
        "ID number": person.id_number,
        "ID number (lower-case x)": person.id_number.lower(),
        "birth date": person.id_number[6:14],
        "phone": person.phone,
    }
    with sqlite3.connect(kiosk.backend.db_path) as conn:
        for kind, number in conn.execute(
            "SELECT kind, number FROM licenses WHERE resident_id = ?", (resident_id,)
        ):
            if len(number) >= 8:  # shorter ones could match by chance
                values[f"{kind} number"] = number
    return [Secret(resident_id, what, v) for what, v in values.items()]


def masked_of(kiosk: Kiosk, resident_id: str) -> list[Secret]:
    """What the screen may show during the session, and nothing after it."""
    person = kiosk.backend.identify(resident_id)
    assert person is not None
    return [
        Secret(resident_id, "masked name", mask_name(person.name)),
        Secret(resident_id, "masked ID number", mask_id_number(person.id_number)),
        Secret(resident_id, "masked phone", mask_phone(person.phone)),
    ]


def leaks(texts: list[tuple[str, str]], secrets: list[Secret]) -> list[str]:
    return [
        f"{where}: {s.resident}'s {s.what} {s.value!r}"
        for where, text in texts
        for s in secrets
        if s.value in text
    ]


# --- where personal data could stay --------------------------------------------------------

def kiosk_tables(data_dir: Path) -> Iterator[tuple[Path, str, list[str], list[tuple]]]:
    """(file, table, columns, rows) for every table of every SQLite file under the data dir,
    except the backend's resident records."""
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.read_bytes()[:16] != SQLITE_MAGIC:
            continue
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            for table in tables:
                if table in BACKEND_RECORDS:
                    continue
                cur = conn.execute(f'SELECT * FROM "{table}"')
                columns = [d[0] for d in cur.description]
                yield path, table, columns, cur.fetchall()
        finally:
            conn.close()


def cell_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace") + value.decode("gb18030", "replace")
    return str(value)


def qr_texts(pixmap: QPixmap) -> list[str]:
    """The QR codes a camera would read off an image still held by a widget."""
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    if image.isNull() or image.width() < 21:
        return []
    rows = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    gray = rows.reshape(image.height(), image.bytesPerLine())[:, : image.width()].copy()
    return [r.text for r in zxingcpp.read_barcodes(gray)]


TEXT_GETTERS = ("text", "toolTip", "statusTip", "whatsThis", "accessibleName",
                "accessibleDescription", "placeholderText", "windowTitle", "toPlainText",
                "currentText", "title")


def widget_texts(root: QWidget) -> tuple[list[tuple[str, str]], list[str]]:
    """Every text a widget under `root` holds, and what else it still keeps.

    Texts: the usual getters, item models, combo boxes, QR codes in label pixmaps. Kept:
    undo history in line edits and camera frames still held by a widget.
    """
    texts: list[tuple[str, str]] = []
    kept: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        where = f"{type(w).__name__}({w.objectName() or '-'})"
        for name in TEXT_GETTERS:
            getter = getattr(w, name, None)
            if not callable(getter):
                continue
            try:
                value = getter()
            except TypeError:
                continue  # an overload that needs arguments (e.g. QGroupBox-less title)
            if isinstance(value, str) and value:
                texts.append((f"{where}.{name}", value))
        if isinstance(w, QAbstractItemView) and w.model() is not None:
            model = w.model()
            for r in range(model.rowCount()):
                for c in range(model.columnCount()):
                    value = model.data(model.index(r, c))
                    if value:
                        texts.append((f"{where}.model[{r},{c}]", str(value)))
        if isinstance(w, QComboBox):
            texts.extend((f"{where}.item[{i}]", w.itemText(i)) for i in range(w.count()))
        if isinstance(w, QLabel) and not w.pixmap().isNull():
            texts.extend((f"{where}.pixmap QR", t) for t in qr_texts(w.pixmap()))
        if isinstance(w, QLineEdit) and w.isUndoAvailable():
            kept.append(f"{where}: undo history")
        for attr, value in vars(w).items():
            if isinstance(value, QImage) and not value.isNull():
                kept.append(f"{where}.{attr}: a camera frame or other image")
    return texts, kept


# --- the sessions ------------------------------------------------------------------------

@pytest.fixture
def debug_log(caplog, tmp_path) -> Iterator[tuple[pytest.LogCaptureFixture, Path]]:
    """Every logger at DEBUG, in pytest's capture and in a file formatted like the kiosk's."""
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "kiosk.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield caplog, path
    finally:
        root.removeHandler(handler)
        handler.close()


def take_number(person, resident_id: str | None, category: str) -> None:
    """From Home: scan in (or go without a phone), pick the category, wait for the paper."""
    c = person.c
    before = len(person.jobs())
    if resident_id is None:
        person.tap(c.home.no_phone_button)
        person.wait_screen("category")
    else:
        person.scan_in(resident_id)
    person.tap(c.category.buttons[category])
    person.wait_screen("ticket")
    person.wait_printout(before)


def test_sessions_leave_no_personal_data(kiosk_factory, resident_at, debug_log, tmp_path, qtbot):
    caplog, log_file = debug_log
    data_dir = tmp_path / "data"
    kiosk = kiosk_factory(data_dir)
    person = resident_at(kiosk)
    window = kiosk.window
    secrets = [s for rid in PEOPLE for s in secrets_of(kiosk, rid)]
    masked = [s for rid in PEOPLE for s in masked_of(kiosk, rid)]

    # 1. Ordinary resident, done by the button.
    take_number(person, ORDINARY, "social_security")
    person.tap(kiosk.controller.ticket.done_button)
    person.wait_screen("home")
    # 2. The rare-character name (printed as an image), left on the ticket screen: idle.
    take_number(person, RARE, "other")
    window.go_home("idle")
    # 3. The compound surname, 欧阳**.
    take_number(person, COMPOUND, "civil_affairs")
    person.tap(kiosk.controller.ticket.done_button)
    person.wait_screen("home")
    # 4. No phone: an anonymous number.
    take_number(person, None, "household")
    window.go_home("home")
    # 5. A priority number (aged 85).
    take_number(person, AGED, "medical_insurance")
    assert kiosk.controller.ticket.ticket.number.startswith("YB")
    window.go_home("ticket_done")
    # 6. A refused code (expired) and 7. a session abandoned on the category screen.
    person.tap(kiosk.controller.home.scan_button)
    person.wait_screen("scan")
    person.show_phone(person.code(ORDINARY, "expired"))
    qtbot.waitUntil(kiosk.controller.scan.message.isVisible, timeout=5000)
    person.put_phone_away()
    window.go_home("home")
    person.scan_in(COMPOUND)
    assert mask_name("欧阳明华") in kiosk.controller.category.greeting.text()
    window.go_home("idle")
    qtbot.wait(200)  # let statistics and late answers land

    # Every widget of every screen, the top bar and the countdown overlay included.
    texts, kept = widget_texts(window)
    assert set(window.screens) >= {"home", "scan", "category", "ticket"}
    for screen in window.screens.values():
        assert screen is window or window.isAncestorOf(screen)
    clipboard = QGuiApplication.clipboard().text()
    if clipboard:
        texts.append(("clipboard", clipboard))
    assert not leaks(texts, secrets + masked), leaks(texts, secrets + masked)
    assert not kept, kept
    assert len(texts) > 50  # the walk did see the screens' texts

    kiosk.shutdown()  # the rows and files as they stay after the session

    # Logs, DEBUG included: pytest's capture (records and formatted) and the log file.
    logged = [(f"log record {r.name}", r.getMessage()) for r in caplog.records]
    logged += [("caplog.text", caplog.text), ("log file", log_file.read_text("utf-8"))]
    assert len(caplog.records) > 20
    assert not leaks(logged, secrets), leaks(logged, secrets)

    # The database rows the kiosk keeps, outside the backend's resident records.
    checked: dict[str, list[str]] = {}
    rows_seen = 0
    for path, table, columns, rows in kiosk_tables(data_dir):
        checked[f"{path.name}:{table}"] = columns
        cells = [(f"{path.name}:{table}.{col}", cell_text(v))
                 for row in rows for col, v in zip(columns, row, strict=True)]
        rows_seen += len(rows)
        assert not leaks(cells, secrets), leaks(cells, secrets)
    print("checked tables:", *(f"{t}({', '.join(c)})" for t, c in checked.items()), sep="\n  ")
    assert any(t.endswith(":tickets") for t in checked) and rows_seen >= 5

    # Paper: the ID number never, the name only masked (raw bytes and what a person reads).
    printed = [p for p in data_dir.rglob("*") if p.is_file() and p.suffix == ".bin"]
    assert len(printed) >= 5
    paper: list[tuple[str, str]] = []
    for p in printed:
        raw = p.read_bytes()
        paper += [(p.name, cell_text(raw)), (p.name, render_text(raw).text)]
    assert not leaks(paper, secrets), leaks(paper, secrets)

    # Any other file the kiosk wrote into its data dir (keys, state files, logs).
    others = [(p.name, cell_text(p.read_bytes())) for p in data_dir.rglob("*")
              if p.is_file() and p not in printed and p.read_bytes()[:16] != SQLITE_MAGIC
              and not p.name.endswith(("-wal", "-shm", "-journal"))]
    assert not leaks(others, secrets), leaks(others, secrets)

    # The statistics export (服务指数) for today.
    today = kiosk.controller.ctx.clock().date()
    rows = export_stats(kiosk.backend.db_path, today - dt.timedelta(days=1), today)
    export = [("stats csv", stats_csv(rows)), ("stats table", stats_table(rows))]
    assert not leaks(export, secrets + masked), leaks(export, secrets + masked)
