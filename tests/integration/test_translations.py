"""English: complete, fitting, per session, and on paper.

Chinese is the source language of every text; English comes from
assets/translations/kiosk_en.ts compiled to kiosk_en.qm. These tests choose English on Home
and walk every screen of every flow (both panel orientations), failing on any visible text
left in Chinese and on any text wider than its label or button; they check that the `.ts`
holds every text of the code with a translation and that the `.qm` is compiled from it, that
the next resident starts in Chinese, and that an English ticket or receipt is printed
without the printer's Chinese mode.
"""

from __future__ import annotations

import ast
import html
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtGui import Qt as QtGui_Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QStyleOptionButton,
)

from kiosk.backend.seed import DEMO_RESIDENTS
from kiosk.domain.masking import mask_name
from kiosk.domain.wizard import StepKind
from kiosk.ui import i18n
from kiosk.ui.widgets.wrap_button import WrapButton
from tests.helpers.paths import REPO_ROOT
from tests.helpers.waits import HANG_GUARD_MS
from tests.integration.test_bundles_ui import SHIPPED_BUNDLES, valid_value
from tests.integration.test_layout import check_screen as check_layout
from tests.integration.test_layout import (
    open_service,
    quiet,
    settle_layouts,
    tap_choice,
    visible_widgets,
)

TS = REPO_ROOT / "assets" / "translations" / "kiosk_en.ts"
QM = REPO_ROOT / "assets" / "translations" / "kiosk_en.qm"
# Chinese characters (CJK unified ideographs, extension A, the supplementary planes) and
# Chinese punctuation (the CJK symbols block, full-width forms): none belongs in English.
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef\U00020000-\U0003ffff]")
FS_CHINESE_ON = b"\x1c&"
FOREIGNER = DEMO_RESIDENTS["foreign_permanent_resident"]  # John Smith
SHOTS = os.environ.get("KIOSK_I18N_SHOTS")  # a folder: save every checked screen as PNG


def chinese_in(text: str) -> list[str]:
    return CHINESE.findall(text)


def lupdate_sources() -> list[Path]:
    return sorted((REPO_ROOT / "kiosk" / "ui").rglob("*.py"))


def ts_messages() -> dict[tuple[str, str], tuple[str, str | None]]:
    """(context, source) -> (translation, type attribute) of every message in the .ts."""
    out = {}
    for context in ET.parse(TS).getroot().iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            tr = message.find("translation")
            out[(name, message.findtext("source"))] = (tr.text or "", tr.get("type"))
    return out


def code_messages() -> set[tuple[str, str]]:
    """(context, source) of every tr()/translate() call with a literal text in kiosk/ui: the
    context of self.tr() is the enclosing class's name, as at run time."""
    found: set[tuple[str, str]] = set()
    for path in lupdate_sources():
        tree = ast.parse(path.read_text("utf-8"))

        def visit(node: ast.AST, cls: str) -> None:
            if isinstance(node, ast.ClassDef):
                cls = node.name
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
                literal = [a.value for a in node.args
                           if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if name == "tr" and literal:
                    found.add((cls, literal[0]))
                elif name == "translate" and len(literal) >= 2:
                    found.add((literal[0], literal[1]))
            for child in ast.iter_child_nodes(node):
                visit(child, cls)

        visit(tree, "")
    return found


def tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} not installed")
    return found


# ----------------------------------------------------------------------- the .ts and .qm


def test_every_text_of_the_code_has_an_english_translation():
    messages = ts_messages()
    in_code = code_messages()
    assert len(in_code) > 250
    missing = sorted(in_code - set(messages))
    assert not missing, f"not in {TS.name} (run pyside6-lupdate: kiosk/ui/i18n.py): {missing}"
    unfinished = sorted(k for k, (text, kind) in messages.items()
                        if kind in ("unfinished", "vanished", "obsolete") or not text.strip())
    assert not unfinished, f"no English yet: {unfinished}"
    left_chinese = sorted((k, t) for k, (t, _) in messages.items() if chinese_in(t))
    assert not left_chinese, left_chinese
    stale = sorted(set(messages) - in_code)
    assert not stale, f"no longer in the code (lupdate -no-obsolete drops them): {stale}"
    # Placeholders survive translation: "{n}" in Chinese is "{n}" in English.
    for (context, source), (text, _) in messages.items():
        assert sorted(re.findall(r"\{\w*\}", source)) == sorted(re.findall(r"\{\w*\}", text)), (
            context, source, text)
    print(f"{len(messages)} texts translated")


def test_qm_is_compiled_from_the_ts(tmp_path):
    fresh = tmp_path / "kiosk_en.qm"
    subprocess.run([tool("pyside6-lrelease"), "-silent", str(TS), "-qm", str(fresh)],
                   check=True, capture_output=True, timeout=60)
    assert QM.read_bytes() == fresh.read_bytes(), (
        "kiosk_en.qm is older than kiosk_en.ts: run pyside6-lrelease (see kiosk/ui/i18n.py)")
    assert QM.stat().st_size < 100_000


def test_ts_is_what_lupdate_extracts(tmp_path):
    """lupdate itself, not only our reading of the code, finds exactly the .ts's texts."""
    copy = tmp_path / "kiosk_en.ts"
    shutil.copy(TS, copy)
    subprocess.run([tool("pyside6-lupdate"), *map(str, lupdate_sources()), "-source-language",
                    "zh_CN", "-target-language", "en", "-locations", "none", "-no-obsolete",
                    "-silent", "-ts", str(copy)], check=True, capture_output=True, timeout=120)
    assert copy.read_text("utf-8") == TS.read_text("utf-8"), (
        "kiosk_en.ts is not up to date with the code: run pyside6-lupdate: kiosk/ui/i18n.py")


def test_translations_install_and_remove(qapp):
    t = i18n.Translations()
    try:
        assert t.set_language(qapp, "en")
        assert QCoreApplication.translate("MainWindow", "首页") == "Home"
        assert QCoreApplication.translate("messages", "请填写这一项。") == (
            "Please fill in this field.")
        assert t.set_language(qapp, "en")  # twice: still one translator
        assert t.set_language(qapp, "zh")
        assert QCoreApplication.translate("MainWindow", "首页") == "首页"
    finally:
        t.set_language(qapp, "zh")
    with pytest.raises(ValueError):
        t.set_language(qapp, "fr")


def test_a_missing_qm_leaves_chinese(qapp, tmp_path):
    t = i18n.Translations(tmp_path)
    assert not t.set_language(qapp, "en")
    assert t.language == "zh"
    assert QCoreApplication.translate("MainWindow", "首页") == "首页"


# --------------------------------------------------------------------- the widget checks


def button_overflow(button: QAbstractButton) -> str:
    """Why the text drawn on `button` does not fit inside its border and padding, or ""."""
    blocks = [(button.shown_text() if isinstance(button, WrapButton) else button.text(),
               button.font())]
    if isinstance(button, WrapButton) and button.detail():
        blocks.append((button.shown_detail(), button.detail_font()))
    opt = QStyleOptionButton()
    if isinstance(button, QPushButton):
        button.initStyleOption(opt)
    else:
        opt.initFrom(button)
    room = button.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, opt, button)
    height = 0
    for text, font in blocks:
        metrics = QFontMetrics(font)
        lines = text.split("\n")
        widest = max(metrics.horizontalAdvance(line) for line in lines)
        if widest > room.width():
            return f"{text!r} is {widest}px wide, room {room.width()}px"
        height += metrics.height() + metrics.lineSpacing() * (len(lines) - 1)
    if height > room.height() + 8:  # the padding may take a little of the descent
        return f"{blocks[0][0]!r}: text {height}px high, room {room.height()}px"
    return ""


def label_overflow(label: QLabel) -> str:
    """Why `label`'s text does not fit it, or ""."""
    if label.pixmap() is not None and not label.pixmap().isNull():
        return ""
    text = label.text()
    if not text:
        return ""
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and QtGui_Qt.mightBeRichText(text))
    if not label.wordWrap():
        if label.sizeHint().width() > label.width():
            return f"needs {label.sizeHint().width()}px, has {label.width()}px"
        return ""
    if rich:
        return ""
    room = label.contentsRect().width() - 2 * label.margin() - 2 * label.indent() * 0
    metrics = QFontMetrics(label.font())
    for word in re.split(r"[\s\u200b]+", text):
        if word and not chinese_in(word) and metrics.horizontalAdvance(word) > room:
            return f"word {word!r} is {metrics.horizontalAdvance(word)}px wide, room {room}px"
    return ""


class EnglishCheck:
    """Every visible text in English and inside its widget; counts what it saw."""

    def __init__(self, kiosk, allowed: set[str], elder: bool = False) -> None:
        self.kiosk = kiosk
        self.elder = elder
        self.allowed = allowed  # texts that may hold Chinese (names, Chinese terms in data)
        self.screens: list[str] = []
        self.texts = 0
        self.report: dict = {}

    def strip_allowed(self, text: str) -> str:
        for allowed in sorted(self.allowed, key=len, reverse=True):
            text = text.replace(allowed, "")
        return text

    def __call__(self, name: str, *, layout: bool = True) -> None:
        w = self.kiosk.window
        settle_layouts()
        assert w.current().name == name, (w.current().name, name)
        assert w.language == "en" and self.kiosk.controller.ctx.session.language == "en"
        assert w.elder == self.elder, (name, w.elder)
        self.screens.append(name)
        if SHOTS:
            folder = Path(SHOTS)
            folder.mkdir(parents=True, exist_ok=True)
            mode = "elder" if self.elder else "normal"
            shot = f"{mode}-{w.width()}x{w.height()}-{len(self.screens):02d}-{name}.png"
            w.grab().save(str(folder / shot))
        if layout:
            check_layout(w, name, self.report)  # targets, text sizes, nothing squeezed
        problems = []
        for label in visible_widgets(w, QLabel):
            text = label.text()
            if label.textFormat() == Qt.TextFormat.RichText or QtGui_Qt.mightBeRichText(text):
                text = html.unescape(re.sub(r"<[^>]+>", " ", text))
            self.texts += bool(text.strip())
            if chinese_in(self.strip_allowed(text)):
                problems.append(f"Chinese in label {text!r}")
            why = label_overflow(label)
            if why:
                problems.append(f"label {text[:40]!r} overflows: {why}")
        for button in visible_widgets(w, QAbstractButton):
            text = button.text()
            self.texts += bool(text.strip())
            if button is not w.language_button and chinese_in(self.strip_allowed(text)):
                problems.append(f"Chinese on button {text!r}")
            why = button_overflow(button)
            if why:
                problems.append(f"button {text[:40]!r} overflows: {why}")
        for edit in visible_widgets(w, QPlainTextEdit):
            if chinese_in(self.strip_allowed(edit.toPlainText())):
                problems.append(f"Chinese in {edit.toPlainText()[:200]!r}")
        title = w.title.text()
        assert not chinese_in(title), title
        assert not problems, f"{name}: " + "\n".join(problems)


def allowed_chinese(kiosk) -> set[str]:
    """Texts that are Chinese by nature: the masked names of the Chinese demo residents we
    use, and the Chinese terms the bundle files deliberately keep in their English texts
    (低保, 派出所: what to ask for at a counter)."""
    allowed = {mask_name(kiosk.backend.identify(DEMO_RESIDENTS[role]).name)
               for role in ("appointment_passed",)}
    for bundle in kiosk.bundles.bundles:
        texts = [bundle.description, *(q.text for q in bundle.questions)]
        for q in bundle.questions:
            for o in q.options:
                texts.append(o.label)
                if o.then and o.then.ineligible:
                    texts += [o.then.ineligible.reason, o.then.ineligible.go_instead]
        for text in texts:
            allowed.update(re.findall(r"\(([^()]*)\)", text.en) if chinese_in(text.en) else [])
    return {a for a in allowed if a}


def choose_english(kiosk, person, elder: bool = False) -> None:
    w = kiosk.window
    assert w.current().name == "home"
    assert w.language == "zh" and not w.elder  # every resident starts in Chinese, normal
    assert w.language_button.isVisible() and w.language_button.text() == "English"
    person.tap(w.language_button)
    # At once: no other tap, no navigation.
    assert w.language == "en"
    assert kiosk.controller.home.welcome.text() == "Welcome to 24-hour self-service"
    assert w.language_button.text() == "中文"
    assert w.elder_button.text() == "Senior mode"
    if elder:
        person.tap(w.elder_button)
        assert w.elder and w.elder_button.text() == "Standard mode"


# ------------------------------------------------------------------ every screen, English


def walk_bundle(kiosk, person, check, bundle, *, ineligible: bool = False) -> None:
    bc = kiosk.bundle_controller
    screen = bc.wizard_screen
    open_service(kiosk, person, "bundles", check)
    person.wait_screen("bundles")
    check("bundles")
    tap_choice(person, bc.list.pages, bc.list.buttons[bundle.id])
    person.wait_screen("wizard")
    for _ in range(40):
        wiz = bc.wizard
        step = wiz.current
        check("wizard")
        if step.kind is StepKind.INTRO:
            assert bundle.title.en in screen.bundle_title.text()
            person.tap(screen.next_button)
        elif step.kind is StepKind.IDENTIFY:
            person.show_phone(person.code(FOREIGNER, "expired"))
            person.qtbot.waitUntil(screen.problem.isVisible, timeout=HANG_GUARD_MS)
            check("wizard")  # a refused code, explained in English
            person.show_phone(person.code(FOREIGNER))
            person.qtbot.waitUntil(lambda: bc.wizard.current.kind is not StepKind.IDENTIFY,
                                   timeout=HANG_GUARD_MS)
            person.put_phone_away()
        elif step.kind is StepKind.QUESTION:
            q = bundle.question(step.ref)
            bad = [o for o in q.options if o.then and o.then.ineligible]
            good = [o for o in q.options if not (o.then and o.then.ineligible)]
            pick = bad[0] if ineligible and bad else good[0]
            tap_choice(person, screen.option_pages, screen.option_buttons[pick.id])
        elif step.kind is StepKind.FIELD:
            field = bundle.form_field(step.ref)
            keypad = screen.keypad
            person.tap(keypad.clear_key)
            person.tap(screen.next_button)  # empty: a message in English
            if bc.wizard.current.key != step.key:
                continue  # an optional field
            assert screen.problem.isVisible()
            check("wizard")
            for ch in valid_value(field.kind, field):
                person.tap(keypad.keys[ch])
            person.tap(screen.next_button)
        elif step.kind in (StepKind.MATERIALS, StepKind.REVIEW):
            person.tap(screen.next_button)
        elif step.kind is StepKind.INELIGIBLE:
            assert ineligible
            kiosk.window.go_home("home")
            return
        elif step.kind is StepKind.CONFIRM:
            before = len(person.jobs())
            person.tap(screen.submit_button)
            person.wait_screen("bundle_result", timeout=HANG_GUARD_MS)
            printed = person.wait_printout(before)
            check("bundle_result")
            check_english_paper(kiosk, printed)
            person.tap(bc.result.rate_button)
            person.wait_screen("rating")
            check("rating")
            person.tap(kiosk.window.current().level_buttons[2])
            check("rating")
            person.tap(kiosk.window.current().submit_button)
            person.qtbot.waitUntil(kiosk.window.current().thanks.isVisible, timeout=HANG_GUARD_MS)
            check("rating")
            person.tap(kiosk.window.current().done_button)
            person.wait_screen("home")
            return
    raise AssertionError("the wizard did not end")


def check_english_paper(kiosk, printed, center: bool = True) -> None:
    text = printed.text
    assert not chinese_in(text), text
    assert FS_CHINESE_ON not in printed.data  # the printer's Chinese mode: Chinese only
    if center:
        assert kiosk.config.center.name_en in " ".join(text.split())


@pytest.mark.parametrize("mode", ["normal", "elder"])
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_every_screen_in_english(kiosk_factory, resident_at, qtbot, orientation, mode):
    kiosk = kiosk_factory(orientation=orientation)
    quiet(kiosk)
    person = resident_at(kiosk)
    w = kiosk.window
    c = kiosk.controller
    elder = mode == "elder"
    check = EnglishCheck(kiosk, allowed_chinese(kiosk), elder)

    # Home: the toggle, then a scanned number, a refused code on the way.
    choose_english(kiosk, person, elder)
    check("home")
    person.tap(c.home.scan_button)
    person.wait_screen("scan")
    check("scan")
    person.show_phone(person.code(FOREIGNER, "expired"))
    qtbot.waitUntil(c.scan.message.isVisible, timeout=HANG_GUARD_MS)
    check("scan")
    person.show_phone(person.code(FOREIGNER))
    person.wait_screen("category", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    check("category")
    assert "Hello, J*** S****" in c.category.greeting.text()
    before = len(person.jobs())
    tap_choice(person, c.category.pages, c.category.buttons["household"])
    person.wait_screen("ticket")
    printed = person.wait_printout(before)
    qtbot.waitUntil(lambda: c.ticket.print_status.text().startswith("Please take"),
                    timeout=HANG_GUARD_MS)
    check("ticket")
    check_english_paper(kiosk, printed)
    person.tap(c.ticket.rate_button)
    person.wait_screen("rating")
    check("rating")
    person.tap(w.current().level_buttons[5])
    check("rating")
    person.tap(w.home_button)
    person.wait_screen("home")
    # The session ended: Chinese and the normal mode for the next resident.
    assert w.language == "zh" and not w.elder

    # No phone: an anonymous ticket, and 帮办 from the ticket screen.
    choose_english(kiosk, person, elder)
    person.tap(c.home.no_phone_button)
    person.wait_screen("category")
    check("category")
    before = len(person.jobs())
    tap_choice(person, c.category.pages, c.category.buttons["residence_permit"])
    person.wait_screen("ticket")
    paper = person.wait_printout(before)
    check_english_paper(kiosk, paper)
    [ticket_code] = paper.qr_texts
    person.tap(w.help_button)
    person.wait_screen("help")
    check("help")
    heading = QCoreApplication.translate("HelpScreen", "正在通知工作人员…")
    qtbot.waitUntil(lambda: w.current().heading.text() == heading, timeout=HANG_GUARD_MS)
    check("help")
    person.tap(w.current().back_button)
    person.wait_screen("ticket")
    person.tap(c.ticket.done_button)
    person.wait_screen("home")

    # 一件事: every bundle to its receipt, and one ineligible path.
    for bundle in SHIPPED_BUNDLES:
        choose_english(kiosk, person, elder)
        walk_bundle(kiosk, person, check, bundle)
    ineligible = next(b for b in SHIPPED_BUNDLES
                      if any(o.then and o.then.ineligible for q in b.questions
                             for o in q.options))
    choose_english(kiosk, person, elder)
    walk_bundle(kiosk, person, check, ineligible, ineligible=True)

    # 办件查询: the applications just filed.
    choose_english(kiosk, person, elder)
    open_service(kiosk, person, "query", check)
    person.wait_screen("query_scan")
    check("query_scan")
    person.show_phone(person.code(FOREIGNER))
    person.wait_screen("query_result", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    check("query_result")
    person.tap(w.current().done_button)
    person.wait_screen("home")
    # …and the ticket's progress, from the code on its paper.
    choose_english(kiosk, person, elder)
    open_service(kiosk, person, "query", check)
    person.wait_screen("query_scan")
    person.show_phone(ticket_code)
    person.wait_screen("query_result", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    assert w.current().ticket is not None
    check("query_result")
    person.tap(w.current().done_button)
    person.wait_screen("home")

    # 预约签到: too late, then an ordinary number.
    choose_english(kiosk, person, elder)
    open_service(kiosk, person, "checkin", check)
    person.wait_screen("checkin_scan")
    check("checkin_scan")
    person.show_phone(person.code(DEMO_RESIDENTS["appointment_passed"]))
    person.wait_screen("checkin_result", timeout=HANG_GUARD_MS)
    person.put_phone_away()
    check("checkin_result")
    person.tap(w.current().ordinary_button)
    person.wait_screen("category")
    check("category")
    w.go_home("home")

    # 好差评 from Home, and the idle countdown on Home (English chosen, then nobody).
    choose_english(kiosk, person, elder)
    open_service(kiosk, person, "rating", check)
    person.wait_screen("rating")
    check("rating")
    person.tap(w.back_button)
    if elder:  # back to 更多服务, then Home
        person.wait_screen("services")
        person.tap(w.back_button)
    person.wait_screen("home")
    assert w.language == "zh" and not w.elder
    choose_english(kiosk, person, elder)
    w._countdown_total = 2
    w.set_idle_timeout(0.3)
    w.keep_alive()
    qtbot.waitUntil(w.overlay.isVisible, timeout=HANG_GUARD_MS)
    check("home", layout=False)
    assert w.overlay.button.text() == "Continue"
    qtbot.waitUntil(lambda: w.language == "zh", timeout=HANG_GUARD_MS)
    assert not w.overlay.isVisible() and not w.elder

    seen = set(check.screens)
    assert seen >= {"home", "scan", "category", "ticket", "rating", "help", "bundles",
                    "wizard", "bundle_result", "query_scan", "query_result", "checkin_scan",
                    "checkin_result"}, seen
    print(f"{orientation} {mode}: {len(check.screens)} screens checked in English, "
          f"{check.texts} texts, smallest target {check.report['target']}px")


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_maintenance_screens_in_english(kiosk_factory, qtbot, tmp_path, orientation):
    from tests.integration.test_maintenance import PIN, WRONG_PIN, Technician, config_with_pin

    toml = config_with_pin(tmp_path / "config", broken_bundle=True)
    kiosk = kiosk_factory(config_file=toml, orientation=orientation)
    t = Technician(kiosk, qtbot)
    check = EnglishCheck(kiosk, {kiosk.config.center.name})  # the config shows the name
    choose_english(kiosk, t)
    t.gesture()
    check("maintenance_pin")
    t.enter_pin(WRONG_PIN)
    assert "Wrong PIN" in t.mc.pin_screen.message.text()
    check("maintenance_pin")
    t.enter_pin(PIN)
    t.wait_screen("maintenance")
    s = t.mc.screen
    for key in ("printer", "camera", "link", "errors", "config", "stats", "bundles", "exit"):
        t.section(key)
        if key == "stats":
            qtbot.waitUntil(lambda: "Tickets" in s.stats_body.text(), timeout=HANG_GUARD_MS)
        if key == "printer":
            qtbot.waitUntil(lambda: s.printer_info.value("status") != "", timeout=HANG_GUARD_MS)
        check("maintenance")
    t.tap(s.exit_button)
    check("maintenance")
    t.tap(s.leave_button)
    t.wait_screen("home")
    assert kiosk.window.language == "zh"


# ------------------------------------------------------------------- the session's choice


def test_switching_back_and_forth_on_home(kiosk, resident):
    w = kiosk.window
    home = kiosk.controller.home
    zh_welcome = home.welcome.text()
    resident.tap(w.language_button)
    assert home.scan_button.text().startswith("Scan to take a number")
    assert w.help_button.text() == "Call staff"
    assert kiosk.controller.session.language == "en"
    assert w.idle_timer.isActive()  # a session has started on Home
    resident.tap(w.language_button)
    assert home.welcome.text() == zh_welcome
    assert kiosk.controller.session.language == "zh"
    assert not w.idle_timer.isActive()


def test_the_next_resident_starts_in_chinese(kiosk, resident, qtbot):
    w = kiosk.window
    resident.tap(w.language_button)
    resident.scan_in(FOREIGNER)
    assert w.language == "en"
    assert kiosk.controller.category.question.text() == "Choose the service you need"
    w._countdown_total = 1
    w.set_idle_timeout(0.2)
    w.keep_alive()
    resident.wait_screen("home", timeout=HANG_GUARD_MS)
    assert w.language == "zh"
    assert kiosk.controller.session.language == "zh"
    assert kiosk.controller.home.welcome.text() == "欢迎使用 24小时自助服务"
    assert w.language_button.text() == "English"
    # And the next resident's ticket is Chinese again.
    resident.tap(kiosk.controller.home.no_phone_button)
    resident.wait_screen("category")
    before = len(resident.jobs())
    resident.tap(kiosk.controller.category.buttons["other"])
    printed = resident.wait_printout(before)
    assert kiosk.config.center.name in printed.text
    assert FS_CHINESE_ON in printed.data


def test_english_ticket_on_paper(kiosk, resident):
    """A priority ticket (aged 85) in English: no Chinese on paper except the resident's
    masked name, and the Chinese mode only around that name."""
    resident.tap(kiosk.window.language_button)
    person = kiosk.backend.identify(DEMO_RESIDENTS["aged_85"])
    resident.scan_in(person.resident_id)
    before = len(resident.jobs())
    resident.tap(kiosk.controller.category.buttons["social_security"])
    printed = resident.wait_printout(before)
    masked = mask_name(person.name)
    assert masked in printed.text
    assert "Priority - aged 80+" in printed.text
    assert "Social Security" in printed.text
    assert kiosk.config.center.name_en in " ".join(printed.text.split())
    assert not chinese_in(printed.text.replace(masked, ""))
    assert printed.data.count(FS_CHINESE_ON) == 1  # for the name, and nothing else


def test_a_foreign_resident_ticket_has_no_chinese_mode(kiosk, resident):
    resident.tap(kiosk.window.language_button)
    resident.scan_in(FOREIGNER)
    before = len(resident.jobs())
    resident.tap(kiosk.controller.category.buttons["residence_permit"])
    printed = resident.wait_printout(before)
    assert "J*** S****" in printed.text
    check_english_paper(kiosk, printed)
    screen = kiosk.controller.ticket
    assert screen.card.center.text() == kiosk.config.center.name_en
