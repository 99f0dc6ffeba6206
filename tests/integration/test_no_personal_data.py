"""No resident's personal data outlives a session: logs, the kiosk's own database rows, paper,
the statistics export, and every widget once the session has ended.

Residents go through every flow the way they would at the kiosk (their phone to the emulated
camera, buttons and keypad keys tapped) with every logger at DEBUG: 扫码取号 (with and
without a phone, a priority number, a refused code), 一件事 with fields typed on the keypad
and the printed receipt, 办件查询, 预约签到 (on time, and too late), 好差评 and 呼叫帮办; the
last one walks away mid-wizard and the idle timeout ends the session. After every session
(Home, 完成 or the idle timeout) every widget of every screen is walked. Afterwards nothing
may hold, for any of them, the full name, the ID number (whole, or its 8-digit birth date),
the phone number, a license number, or what they typed on the keypad (a phone number, an ID
number, a bank card number). The backend's own records of residents (`residents`,
`licenses`) and of applications (`applications.submission`, what the resident submitted) are
its business and are left out; every other table in every SQLite file under the data dir is
read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import sqlite3
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PySide6.QtCore import QObject
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QLabel, QLineEdit, QWidget

from kiosk.app import Kiosk
from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.backend.stats import export_stats
from kiosk.cli.stats import stats_csv, stats_table
from kiosk.devtools.escpos_render import render_text
from kiosk.domain import idnumber
from kiosk.domain.masking import mask_id_number, mask_name, mask_phone
from kiosk.domain.wizard import StepKind, luhn_valid
from kiosk.ui.widgets import qr as ui_qr
from tests.helpers.waits import HANG_GUARD_MS

ORDINARY = DEMO_RESIDENTS["ordinary"]  # R0001 张伟明
RARE = DEMO_RESIDENTS["rare_name"]  # R0010 𠮷祥云, ID number ending in X
COMPOUND = DEMO_RESIDENTS["compound_surname"]  # R0009 欧阳明华
AGED = DEMO_RESIDENTS["aged_85"]  # R0002 李秀英: a priority number
ON_TIME = DEMO_RESIDENTS["appointment_today"]  # R0005 刘芳: checks in, gets a number
TOO_LATE = DEMO_RESIDENTS["appointment_passed"]  # R0006 孙丽娟: told the appointment is over
VETERAN = DEMO_RESIDENTS["veteran"]  # R0003 王建国: walks away from 退休一件事
PEOPLE = (ORDINARY, RARE, COMPOUND, AGED, ON_TIME, TOO_LATE, VETERAN)


def _luhn(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


# Typed on the keypad, so known to nobody but the resident and the backend: a phone number,
# the other parent's ID number and a bank card (出生一件事, filed), and another phone number
# and bank card (退休一件事, abandoned with the card number typed but not confirmed).
TYPED_PHONE = "13761830459"
TYPED_ID = "31011219770923301" + idnumber.check_digit("31011219770923301")
TYPED_CARD = _luhn("621700123458765")
ABANDONED_PHONE = "15821476093"
ABANDONED_CARD = _luhn("622848040256489")
TYPED_BY_KIND = {"phone": TYPED_PHONE, "id_number": TYPED_ID, "bank_card": TYPED_CARD}
ABANDONED_BY_KIND = {"phone": ABANDONED_PHONE, "bank_card": ABANDONED_CARD}

# The backend's own records of who residents are; everything else the kiosk keeps is checked.
BACKEND_RECORDS = frozenset({"residents", "licenses"})
# ... and of what they applied for: the submission as typed (phone, bank card).
BACKEND_COLUMNS = frozenset({("applications", "submission")})
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


def typed_secrets() -> list[Secret]:
    """What residents typed on the keypad: as personal as what the backend knows of them."""
    return [
        Secret("typed", "phone (出生一件事)", TYPED_PHONE),
        Secret("typed", "other parent's ID number", TYPED_ID),
        Secret("typed", "other parent's birth date", TYPED_ID[6:14]),
        Secret("typed", "bank card (出生一件事)", TYPED_CARD),
        Secret("typed", "phone (退休一件事, abandoned)", ABANDONED_PHONE),
        Secret("typed", "bank card (退休一件事, typed, not confirmed)", ABANDONED_CARD),
    ]


def typed_masked() -> list[Secret]:
    """The typed values as the CONFIRM step shows them: during the session only."""
    return [
        Secret("typed", "masked phone", mask_phone(TYPED_PHONE)),
        Secret("typed", "masked ID number", mask_id_number(TYPED_ID)),
        Secret("typed", "masked bank card", "**** " + TYPED_CARD[-4:]),
        Secret("typed", "masked phone", mask_phone(ABANDONED_PHONE)),
    ]


_SEPARATORS = re.compile(r"[\s\-]+")


def leaks(texts: list[tuple[str, str]], secrets: list[Secret]) -> list[str]:
    """Each secret found in a text, also when the text groups digits ("6217 0012 ...")."""
    found = []
    for where, text in texts:
        squeezed = _SEPARATORS.sub("", text)
        found += [f"{where}: {s.resident}'s {s.what} {s.value!r}" for s in secrets
                  if s.value in text or s.value in squeezed]
    return found


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


def held_strings(value: object, depth: int, seen: dict[int, int]) -> Iterator[tuple[str, str]]:
    """(path, text) for the strings a Python attribute holds: in containers, dataclasses and
    the kiosk's own plain objects (a session, a wizard, a resident context), `depth` levels
    down. Qt objects are walked on their own; the backend (its records), the hardware (the
    emulated printer's paper, the camera) and bytes are left out."""
    if isinstance(value, str):
        if value:
            yield "", value
        return
    if depth <= 0 or isinstance(value, (QObject, bytes, bytearray, int, float)) or value is None:
        return
    if seen.get(id(value), -1) >= depth:
        return
    seen[id(value)] = depth
    items: list[tuple[str, object]]
    if isinstance(value, dict):
        items = [(f"[{k!r}]", k) for k in value] + [(f"[{k!r}]", v) for k, v in value.items()]
    elif isinstance(value, (list, tuple, set, frozenset, deque)):
        items = [(f"[{i}]", v) for i, v in enumerate(value)]
    else:
        module = type(value).__module__
        if not module.startswith("kiosk.") or module.startswith(("kiosk.backend",
                                                                  "kiosk.hardware")):
            return
        if dataclasses.is_dataclass(value):
            items = [(f".{f.name}", getattr(value, f.name, None))
                     for f in dataclasses.fields(value)]
        else:
            items = [(f".{k}", v) for k, v in getattr(value, "__dict__", {}).items()]
    for step, v in items:
        for path, text in held_strings(v, depth - 1, seen):
            yield step + path, text


def image_texts(where: str, image: QImage | QPixmap) -> tuple[list[tuple[str, str]], list[str]]:
    """An image a widget keeps: the QR codes on it are texts; a QImage (a camera frame, with
    the resident's face or code on it) is kept data in itself."""
    pixmap = image if isinstance(image, QPixmap) else QPixmap.fromImage(image)
    codes = [(f"{where} QR", t) for t in qr_texts(pixmap)]
    if isinstance(image, QImage):
        return codes, [f"{where}: a camera frame or other image"]
    return codes, []


def widget_texts(root: QWidget) -> tuple[list[tuple[str, str]], list[str]]:
    """Every text a widget under `root` holds, and what else it still keeps.

    Texts: the usual getters, item models, combo boxes, QR codes in label pixmaps and in
    images (QImage, QPixmap) kept as attributes, and the strings the Python side of every
    widget and controller under `root` keeps. Kept: undo history in line edits and camera
    frames still held by a widget.
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
    seen: dict[int, int] = {}
    for obj in [root, *root.findChildren(QObject)]:  # widgets and controllers
        where = f"{type(obj).__name__}({obj.objectName() or '-'})"
        for attr, value in vars(obj).items():
            if isinstance(value, (QImage, QPixmap)) and not value.isNull():
                found, frames = image_texts(f"{where}.{attr}", value)
                texts += found
                kept += frames
            texts += [(f"{where}.{attr}{path}", t) for path, t in held_strings(value, 6, seen)]
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


def take_number(person, resident_id: str | None, category: str) -> list[str]:
    """From Home: scan in (or go without a phone), pick the category, wait for the paper.
    The QR codes printed on it (the ticket's tracking code)."""
    c = person.c
    before = len(person.jobs())
    if resident_id is None:
        person.tap(c.home.no_phone_button)
        person.wait_screen("category")
    else:
        person.scan_in(resident_id)
    person.tap(c.category.buttons[category])
    person.wait_screen("ticket")
    return person.wait_printout(before).qr_texts


def rate_and_call_help(person, rate_button) -> None:
    """好差评 from a result screen, then 呼叫帮办 from the top bar."""
    w = person.kiosk.window
    person.tap(rate_button)
    person.wait_screen("rating")
    rating = w.current()
    person.tap(rating.level_buttons[2])
    person.tap(rating.submit_button)
    person.qtbot.waitUntil(rating.thanks.isVisible, timeout=HANG_GUARD_MS)
    person.tap(w.help_button)
    person.wait_screen("help")
    status = w.current().status
    person.qtbot.waitUntil(lambda: status.text() != "" and "…" not in status.text(),
                           timeout=HANG_GUARD_MS)


def fill_bundle(person, bundle_id: str, resident_id: str, typed: dict[str, str],
                walk_away_at: str | None = None) -> None:
    """From Home: 一件事, the bundle, every step up to CONFIRM. A field of a kind in `typed`
    gets that value on the keypad (others a valid one); at the field `walk_away_at` the value
    is typed but not confirmed, and the resident leaves it on the screen."""
    from tests.integration.test_bundles_ui import valid_value

    k = person.kiosk
    bc = k.bundle_controller
    person.tap(k.controller.home.service_buttons["bundles"])
    person.wait_screen("bundles")
    person.tap(bc.list.buttons[bundle_id])
    person.wait_screen("wizard")
    screen = bc.wizard_screen
    typed_kinds: set[str] = set()
    for _ in range(40):
        step = bc.wizard.current
        if step.kind is StepKind.IDENTIFY:
            person.show_phone(person.code(resident_id))
            person.qtbot.waitUntil(lambda: bc.wizard.current.kind is not StepKind.IDENTIFY,
                                   timeout=HANG_GUARD_MS)
            person.put_phone_away()
        elif step.kind is StepKind.QUESTION:
            # An answer that skips nothing, so that every field is asked for.
            options = [o for o in bc.wizard.bundle.question(step.ref).options
                       if not (o.then and o.then.ineligible)]
            pick = next((o for o in options if not (o.then and o.then.skip_to)), options[0])
            person.tap(screen.option_buttons[pick.id])
        elif step.kind is StepKind.FIELD:
            field = bc.wizard.bundle.form_field(step.ref)
            value = typed.get(field.kind) or valid_value(field.kind, field)
            typed_kinds.add(field.kind)
            person.tap(screen.keypad.clear_key)
            for ch in value:
                person.tap(screen.keypad.keys[ch])
            if field.id == walk_away_at:
                assert set(typed) <= typed_kinds, (typed, typed_kinds)
                return
            person.tap(screen.next_button)
            assert bc.wizard.current.key != step.key, screen.problem.text()
        elif step.kind is StepKind.CONFIRM:
            assert walk_away_at is None and set(typed) <= typed_kinds, (typed, typed_kinds)
            return
        elif step.kind is StepKind.INELIGIBLE:
            raise AssertionError(f"{bundle_id}: ineligible")
        else:
            person.tap(screen.next_button)
    raise AssertionError(f"{bundle_id}: the wizard did not end")


def test_sessions_leave_no_personal_data(kiosk_factory, resident_at, debug_log, tmp_path, qtbot):
    caplog, log_file = debug_log
    data_dir = tmp_path / "data"
    kiosk = kiosk_factory(data_dir)
    person = resident_at(kiosk)
    window = kiosk.window
    c = kiosk.controller
    bc = kiosk.bundle_controller
    secrets = [s for rid in PEOPLE for s in secrets_of(kiosk, rid)] + typed_secrets()
    masked = [s for rid in PEOPLE for s in masked_of(kiosk, rid)] + typed_masked()
    # What identifies a session's ticket or application (the codes behind the printed QR
    # codes, the application's reference): on screen during the session only.
    session_codes: list[Secret] = []
    walks: list[str] = []

    def code_of(what: str, values: list[str]) -> None:
        assert values, what  # the printout's QR code was read
        session_codes.extend(Secret("session", what, v) for v in values)

    def forgotten(after: str) -> None:
        """Once a session has ended: every widget of every screen, the top bar and the
        countdown overlay included, the controllers and the QR cache."""
        assert window.current().name == "home", after
        texts, kept = widget_texts(window)
        clipboard = QGuiApplication.clipboard().text()
        if clipboard:
            texts.append(("clipboard", clipboard))
        found = leaks(texts, secrets + masked + session_codes)
        assert not found, (after, found)
        assert not kept, (after, kept)
        assert not ui_qr._QR_CACHE, (after, list(ui_qr._QR_CACHE))
        assert len(texts) > 50  # the walk did see the screens' texts
        walks.append(after)

    def seen_now(wanted: list[Secret]) -> None:
        """During a session the walk does find what is on screen: it could find it after."""
        texts, _ = widget_texts(window)
        found = leaks(texts, wanted)
        assert len(found) >= len(wanted), (found, wanted)

    assert set(window.screens) >= {"home", "scan", "category", "ticket", "rating", "help",
                                   "bundles", "wizard", "bundle_result", "query_scan",
                                   "query_result", "checkin_scan", "checkin_result"}
    for screen in window.screens.values():
        assert screen is window or window.isAncestorOf(screen)

    # 扫码取号. 1. Ordinary resident, done by the button.
    code_of("ticket QR", take_number(person, ORDINARY, "social_security"))
    seen_now([session_codes[-1], *masked_of(kiosk, ORDINARY)[:1]])  # 张** and the QR code
    person.tap(c.ticket.done_button)
    person.wait_screen("home")
    forgotten("ticket, 完成")
    # 2. The rare-character name (printed as an image), left on the ticket screen: idle.
    code_of("ticket QR", take_number(person, RARE, "other"))
    window.go_home("idle")
    forgotten("ticket, idle")
    # 3. The compound surname, 欧阳**.
    code_of("ticket QR", take_number(person, COMPOUND, "civil_affairs"))
    person.tap(c.ticket.done_button)
    person.wait_screen("home")
    forgotten("ticket, compound surname")
    # 4. No phone: an anonymous number.
    code_of("ticket QR", take_number(person, None, "household"))
    window.go_home("home")
    forgotten("ticket, no phone")
    # 5. A priority number (aged 85), rated 好差评, then 呼叫帮办; home by the top bar.
    code_of("ticket QR", take_number(person, AGED, "medical_insurance"))
    assert c.ticket.ticket.number.startswith("YB")
    rate_and_call_help(person, c.ticket.rate_button)
    person.tap(window.home_button)
    person.wait_screen("home")
    forgotten("ticket, rating and help call")
    # 6. A refused code (expired) and 7. a session abandoned on the category screen.
    person.tap(c.home.scan_button)
    person.wait_screen("scan")
    person.show_phone(person.code(ORDINARY, "expired"))
    qtbot.waitUntil(c.scan.message.isVisible, timeout=HANG_GUARD_MS)
    person.put_phone_away()
    window.go_home("home")
    forgotten("refused code")
    person.scan_in(COMPOUND)
    assert mask_name("欧阳明华") in c.category.greeting.text()
    window.go_home("idle")
    forgotten("category, idle")

    # 一件事: 出生一件事 with a phone, the other parent's ID number and a bank card typed on
    # the keypad; submitted, the receipt printed; 好差评 and 呼叫帮办 from the result.
    fill_bundle(person, "birth", ORDINARY, TYPED_BY_KIND)
    seen_now(typed_masked()[:3])  # the CONFIRM step shows what was typed, masked
    before = len(person.jobs())
    person.tap(bc.wizard_screen.submit_button)
    person.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
    receipt = person.wait_printout(before)
    status = bc.result.print_status
    qtbot.waitUntil(lambda: status.text() != "" and not status.text().endswith("…"),
                    timeout=HANG_GUARD_MS)
    reference = bc.result.reference.text()
    assert reference and reference in receipt.text
    code_of("application reference", [reference])
    code_of("receipt QR", receipt.qr_texts)
    rate_and_call_help(person, bc.result.rate_button)
    person.tap(window.home_button)
    person.wait_screen("home")
    forgotten("一件事 submitted, rating and help call")

    # 办件查询 by 随申码: the application just filed.
    person.tap(c.home.service_buttons["query"])
    person.wait_screen("query_scan")
    person.show_phone(person.code(ORDINARY))
    person.wait_screen("query_result", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    query_result = window.current()
    qtbot.waitUntil(lambda: any(reference in t for _, t in widget_texts(query_result)[0]),
                    timeout=HANG_GUARD_MS)
    person.tap(query_result.done_button)
    person.wait_screen("home")
    forgotten("办件查询")

    # 预约签到: on time (checked in, a number printed), then too late (explained).
    person.tap(c.home.service_buttons["checkin"])
    person.wait_screen("checkin_scan")
    before = len(person.jobs())
    person.show_phone(person.code(ON_TIME))
    person.wait_screen("ticket", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    code_of("check-in ticket QR", person.wait_printout(before).qr_texts)
    person.tap(c.ticket.done_button)
    person.wait_screen("home")
    forgotten("预约签到, on time")
    person.tap(c.home.service_buttons["checkin"])
    person.wait_screen("checkin_scan")
    person.show_phone(person.code(TOO_LATE))
    person.wait_screen("checkin_result", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    assert window.current().explanation.text()
    person.tap(window.current().done_button)
    person.wait_screen("home")
    forgotten("预约签到, too late")

    # The last resident walks away from 退休一件事 with a bank card number typed on the
    # keypad (a phone number confirmed before it): the idle timeout, countdown and all.
    fill_bundle(person, "retirement", VETERAN, ABANDONED_BY_KIND, walk_away_at="fund_bank_card")
    seen_now([Secret("typed", "bank card on the keypad", ABANDONED_CARD)])
    window.set_countdown(1)
    window.set_idle_timeout(0.3)
    window.keep_alive()
    qtbot.waitUntil(window.overlay.isVisible, timeout=HANG_GUARD_MS)
    person.wait_screen("home", timeout=HANG_GUARD_MS)
    # Statistics and late answers land.
    qtbot.waitUntil(lambda: not kiosk.busy(), timeout=HANG_GUARD_MS)
    forgotten("一件事 abandoned, idle timeout")
    assert len(walks) == 12, walks

    kiosk.shutdown()  # the rows and files as they stay after the session

    # Logs, DEBUG included: pytest's capture (records and formatted) and the log file.
    logged = [(f"log record {r.name}", r.getMessage()) for r in caplog.records]
    logged += [("caplog.text", caplog.text), ("log file", log_file.read_text("utf-8"))]
    assert len(caplog.records) > 20
    assert not leaks(logged, secrets), leaks(logged, secrets)

    # The database rows the kiosk keeps, outside the backend's own records.
    checked: dict[str, list[str]] = {}
    rows_seen = 0
    submissions: list[tuple[str, str]] = []
    for path, table, columns, rows in kiosk_tables(data_dir):
        checked[f"{path.name}:{table}"] = columns
        cells = [(f"{path.name}:{table}.{col}", cell_text(v))
                 for row in rows for col, v in zip(columns, row, strict=True)]
        submissions += [cell for cell in cells if cell[0].endswith(":applications.submission")]
        cells = [(where, text) for where, text in cells
                 if (table, where.rsplit(".", 1)[1]) not in BACKEND_COLUMNS]
        rows_seen += len(rows)
        assert not leaks(cells, secrets), leaks(cells, secrets)
    print("checked tables:", *(f"{t}({', '.join(c)})" for t, c in checked.items()), sep="\n  ")
    tables = {t.split(":")[1] for t in checked}
    assert {"tickets", "outbox", "applications", "ratings", "help_calls"} <= tables, tables
    assert rows_seen >= 10
    # The typed values did reach the backend (the application the resident filed), and the
    # read above would have seen them anywhere else.
    assert len(leaks(submissions, typed_secrets()[:4])) == 4, submissions

    # Paper: the ID number never, the name only masked (raw bytes and what a person reads).
    printed = [p for p in data_dir.rglob("*") if p.is_file() and p.suffix == ".bin"]
    assert len(printed) >= 7
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
    # ... which did count every flow run above (so the search ran over their rows).
    csv = stats_csv(rows).splitlines()
    for line in ("flows,take_number,started,7", "bundles,birth,finished,1",
                 "bundles,retirement,abandoned,1", "flows,query,finished,1",
                 "flows,check_in,finished,2", "flows,rate,finished,2", "help_calls,total,,2"):
        assert line in csv, (line, csv)
