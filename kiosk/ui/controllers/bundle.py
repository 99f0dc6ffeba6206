"""The 一件事 flow: bundle list → wizard steps → submit → receipt → 好差评.

The wizard's rules live in kiosk.domain.wizard; this controller only turns its current step
into a page, routes taps and scans back into it, and runs identification and submission on
the backend's task queue.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging

from PySide6.QtCore import QObject, Signal

from kiosk.backend.interface import ApplicationReceipt, Backend, Resident
from kiosk.delivery.deliverer import UNRESOLVED, Delivery, application_receipt, issued_ticket
from kiosk.domain.bundles import LICENSE_SOURCE_PREFIX, Bundle, BundleSet, FormField, Material
from kiosk.domain.hall_links import is_web_address
from kiosk.domain.id_card import IdCard
from kiosk.domain.payloads import Kind, PayloadRefused
from kiosk.domain.receipt import receipt_document, receipt_view
from kiosk.domain.wizard import FieldProblem, StepKind, Wizard, prefill_values
from kiosk.services import flows
from kiosk.ui import messages
from kiosk.ui.controllers.context import KioskContext
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.bundles import BundleListScreen, BundleResultScreen, WizardScreen
from kiosk.ui.widgets.keypad import apply_key
from kiosk.ui.widgets.qr import screen_qr_matrix

log = logging.getLogger(__name__)

# What identification gives: the license kinds held, the form's prefill values, and who
# the resident is for a queue number (priority, masked name: the follow-up 取号).
Identity = tuple[set[str], dict[str, str], flows.ResidentContext]

# Materials listed one a line on the materials page; with more, the exempt ones (for
# information only) share a paragraph so that the page needs no scrolling.
_MATERIAL_LINES = 6


class BundleController(QObject):
    # The follow-up number of a filed application, issued: shown and printed as a ticket
    # of 取号 is (app.py hands it to the take-number flow's ticket screen).
    followUpIssued = Signal(object, object)  # IssuedTicket, flows.ResidentContext

    def __init__(self, ctx: KioskContext, bundles: BundleSet) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.bundles = {b.id: b for b in bundles.bundles}
        for error in bundles.errors:
            log.error("bundle file skipped, residents are not offered it (the other bundles "
                      "are; `kiosk check-config` lists every problem): %s", error.message())
        if bundles.errors:
            log.error("%d bundle file(s) skipped, %d bundle(s) offered",
                      len(bundles.errors), len(bundles.bundles))
        theme = ctx.window.theme
        self.list = BundleListScreen(theme, bundles.bundles)
        self.wizard_screen = WizardScreen(theme)
        self.result = BundleResultScreen(theme)
        for s in (self.list, self.wizard_screen, self.result):
            ctx.window.add_screen(s)
        self.wizard: Wizard | None = None
        self._resident_id: str | None = None
        self._entry = ""
        self._busy = False
        self._submit_key: str | None = None
        self._print_job: int | None = None
        # Another person's licenses being looked up: field id -> the number asked about.
        self._lookups: dict[str, str] = {}
        self._submit_after_lookups = False
        self._wrong_info_on: str | None = None  # the review step whose 信息有误 was tapped
        self._context: flows.ResidentContext | None = None  # the identified resident
        self._reference: str | None = None  # the application filed, for its follow-up number
        self._follow_up_key: str | None = None  # one key per 取号 until it is answered

        self.list.bundleChosen.connect(self.start)
        w = self.wizard_screen
        w.nextChosen.connect(self.next)
        w.backChosen.connect(self.back)
        w.optionChosen.connect(self.choose)
        w.keyPressed.connect(self.key)
        w.submitChosen.connect(self.submit)
        w.noPhoneChosen.connect(lambda: ctx.window.helpRequested.emit(ScreenName.WIZARD))
        w.staffChosen.connect(lambda: ctx.window.helpRequested.emit(ScreenName.WIZARD))
        w.wrongInfoChosen.connect(self._wrong_info)
        ctx.scanner.frameReady.connect(w.set_frame)
        ctx.scanner.codeScanned.connect(self.on_code)
        if ctx.id_card is not None:
            ctx.id_card.cardRead.connect(self.on_card)
            ctx.id_card.cardUnreadable.connect(self.on_card_unreadable)
        ctx.printing.jobFinished.connect(self._print_done)
        ctx.printing.jobFailed.connect(self._print_failed)
        self.result.doneChosen.connect(lambda: ctx.window.go_home("home"))
        self.result.followUpChosen.connect(self.follow_up)
        ctx.window.sessionEnded.connect(self._session_ended)
        ctx.window.languageChanged.connect(self._language_changed)

    @property
    def language(self) -> str:
        return self.ctx.session.language

    def open_list(self) -> None:
        self.ctx.window.go(ScreenName.BUNDLES)

    def start(self, bundle_id: str) -> None:
        bundle = self.bundles[bundle_id]
        self.wizard = Wizard(bundle, today=lambda: self.ctx.clock().date())
        self._resident_id = None
        self._submit_key = None
        self._lookups.clear()
        self._submit_after_lookups = False
        self._wrong_info_on = None
        self.ctx.start_flow(f"bundle:{bundle.id}")
        self.ctx.window.go(ScreenName.WIZARD)
        self.render()

    # --- rendering -----------------------------------------------------------------------
    def render(self) -> None:
        wiz = self.wizard
        if wiz is None:
            return
        step = wiz.current
        self.ctx.set_step(step.stat_key)
        screen = self.wizard_screen
        lang = self.language
        bundle: Bundle = wiz.bundle
        heading = self._heading(step.kind, step.ref)
        # An ineligible end has no steps after it, and "最后一步" would read as a promise.
        ended = step.kind is StepKind.INELIGIBLE
        screen.begin(bundle.title.get(lang), wiz.index, heading,
                     remaining=None if ended else wiz.remaining,
                     certain=wiz.remaining_certain())
        screen.back_button.setVisible(wiz.index > 0)
        scanning = False
        elder = self.ctx.window.elder  # 长辈模式: fewer lines, in larger type
        if step.kind is StepKind.INTRO:
            # The longest form the page holds: with the description (elder mode: the table
            # says the same, shorter); without; the services as one paragraph.
            description = "" if elder else bundle.description.get(lang)
            screen.show_fitted([lambda: self._fill_intro(description),
                                lambda: self._fill_intro(""),
                                lambda: self._fill_intro("", by_department=False)])
        elif step.kind is StepKind.IDENTIFY:
            if wiz.identified:
                screen.add_text(self.tr("{name}，身份已确认。").format(name=wiz.masked_name), "ok")
            else:
                screen.add_text(self.tr("请打开“随申办”App，将随申码对准摄像头画面中的方框。"))
                if self.ctx.card_reader_usable():
                    screen.add_text(self.tr("也可以刷身份证：\n请将身份证平放在读卡区"), "notice")
                screen.add_stretch()
                screen.show_camera(self.tr("没有手机？呼叫工作人员帮办"))
                scanning = True
        elif step.kind is StepKind.QUESTION:
            q = next(q for q in bundle.questions if q.id == step.ref)
            if q.help is not None:
                screen.add_text(q.help.get(lang), "small")
            screen.add_options(q.id, [(o.id, o.label.get(lang)) for o in q.shown_options()],
                               wiz.answer_of(q.id))
        elif step.kind is StepKind.MATERIALS:
            # The longest form the page holds: lines; the exempt ones (for information only)
            # as one paragraph; then only counted (身后一件事 in English elder type).
            screen.show_fitted([lambda: self._fill_materials(elder),
                                lambda: self._fill_materials(True),
                                lambda: self._fill_materials(True, counted=True),
                                lambda: self._fill_materials(True, counted=True, columns=2)])
        elif step.kind is StepKind.REVIEW:
            wrong = self._wrong_info_on == step.key
            if not wrong:  # else the notice below says where the values come from
                screen.add_text(self.tr("以下信息来自您的电子证照，已隐去部分内容："), "small")
            screen.add_rows(wiz.review(lang))
            # The values come from the licences and cannot be edited here: a resident who
            # finds one wrong is told so, and given the way to someone who can check it.
            if wrong:
                screen.add_text(self.tr(
                    "这些信息来自电子证照，本机不能修改。如有错误，请先不要提交："), "notice")
                screen.add_action(self.tr("请工作人员帮您核实"), screen.staffChosen)
            else:
                screen.add_action(self.tr("信息有误？"), screen.wrongInfoChosen)
            screen.add_stretch()
        elif step.kind is StepKind.FIELD:
            field = next(f for f in bundle.fields if f.id == step.ref)
            self._entry = wiz.field_value(field.id) or ""
            self._entry_label = screen.show_keypad(
                allow_x=field.kind in ("id_number", "other_id_number"))
            self._add_expectation(field)
            if field.hint is not None:
                screen.add_text(field.hint.get(lang), "small")
            screen.add_stretch()  # the texts under the entry, not spread over the page
            self._show_entry()
        elif step.kind is StepKind.CONFIRM:
            screen.add_rows(wiz.typed_review(lang))
            bring = wiz.to_bring()
            screen.add_text(self.tr("提交后还需携带 {n} 项材料；已免于提交 {m} 项。").format(
                n=len(bring), m=len(wiz.exempt())), "notice")
            screen.add_stretch()
            screen.add_submit(self.tr("确认提交申请"))
        elif step.kind is StepKind.INELIGIBLE:
            outcome = wiz.outcome
            if outcome is not None:
                screen.add_text(outcome.reason.get(lang), "notice")
                screen.add_text(self.tr("建议您："), "subtitle")
                screen.add_text(outcome.go_instead.get(lang))
            screen.add_stretch()
            screen.next_button.hide()
            self.ctx.set_step("ineligible")
        screen.set_next_enabled(wiz.can_next(), self._missing(step.kind))
        self.ctx.scanner.set_scanning(scanning)
        if scanning:
            self.ctx.scanner.reset_dedup()

    def _missing(self, kind: StepKind) -> str:
        """What a disabled Next waits for on this kind of page, said beside it."""
        return {
            StepKind.IDENTIFY: self.tr("请先出示随申码"),
            StepKind.QUESTION: self.tr("请先选择一项"),
            StepKind.FIELD: self.tr("请先输入"),
        }.get(kind, "")

    def _wrong_info(self) -> None:
        wiz = self.wizard
        if wiz is None or wiz.current.kind is not StepKind.REVIEW:
            return
        self._wrong_info_on = wiz.current.key
        self.render()

    def _heading(self, kind: StepKind, ref: str) -> str:
        wiz = self.wizard
        assert wiz is not None
        lang = self.language
        if kind is StepKind.QUESTION:
            return next(q.text.get(lang) for q in wiz.bundle.questions if q.id == ref)
        if kind is StepKind.FIELD:
            return next(f.label.get(lang) for f in wiz.bundle.fields if f.id == ref)
        return {
            StepKind.INTRO: self.tr("这件事包括"),
            StepKind.IDENTIFY: self.tr("确认身份"),
            StepKind.MATERIALS: self.tr("材料清单"),
            StepKind.REVIEW: self.tr("请核对您的信息"),
            StepKind.CONFIRM: self.tr("确认提交"),
            StepKind.INELIGIBLE: self.tr("暂不符合办理条件"),
        }[kind]

    def _person(self, field_id: str) -> str:
        assert self.wizard is not None
        person = self.wizard.bundle.form_field(field_id).person
        return person.get(self.language) if person is not None else ""

    def _fill_intro(self, description: str, by_department: bool = True) -> None:
        """A bundle's first page: `description`, the departments and their services (or the
        services only, as one paragraph), and what the one application saves."""
        wiz = self.wizard
        assert wiz is not None
        screen = self.wizard_screen
        bundle, lang, sep = wiz.bundle, self.language, self.tr("、")
        if description:
            screen.add_text(description)
        if by_department:
            screen.add_rows([(d.name.get(lang), sep.join(s.get(lang) for s in d.services))
                             for d in bundle.departments])
        else:
            screen.add_text(sep.join(s.get(lang) for d in bundle.departments
                                     for s in d.services), "")
        screen.add_text(self.tr("一次申请，可少跑 {n} 次；预计 {d} 个工作日办结。").format(
            n=bundle.trips_saved, d=bundle.processing_days), "notice")
        screen.add_stretch()

    def _fill_materials(self, compact: bool, counted: bool = False, columns: int = 1) -> None:
        """The materials page: what is exempt (in lines; one paragraph when `compact`; only
        how many when `counted`), then what to bring, each with its note, in `columns`."""
        wiz = self.wizard
        assert wiz is not None
        screen = self.wizard_screen
        exempt = [m.title.get(self.language) for m in wiz.exempt() if m.license_of is None]
        # Another person's materials wait under their lookup until it answers.
        to_bring = [self._material_line(m) for m in wiz.to_bring()
                    if m.license_of not in self._lookups]
        compact = compact or len(wiz.exempt()) + len(to_bring) > _MATERIAL_LINES
        if counted:
            found = len(exempt) + sum(
                1 for m in wiz.exempt()
                if m.license_of is not None and m.license_of not in self._lookups)
            if found:
                screen.add_text(self.tr("✓ {n} 项材料免于提交（已调取电子证照）").format(n=found),
                                "ok")
        elif exempt:
            screen.add_text(self.tr("✓ 免于提交（已调取您的电子证照）"), "ok")
            if compact:
                screen.add_text("    " + self.tr("、").join(exempt), "")
            else:
                for t in exempt:
                    screen.add_text("    " + t, "")
        self._add_person_exemptions(compact, pending_only=counted)
        screen.add_text(self.tr("需要您携带的材料") if to_bring
                        else self.tr("所需材料均已免于提交，无需携带。"), "subtitle")
        screen.add_list(["· " + t for t in to_bring], columns)
        screen.add_stretch()

    def _add_person_exemptions(self, compact: bool, pending_only: bool = False) -> None:
        """On the materials list: what another person's licenses exempt, one heading per
        person, or that they are still being looked up (only that, when `pending_only`)."""
        wiz = self.wizard
        assert wiz is not None
        screen = self.wizard_screen
        people = dict.fromkeys(m.license_of for m in wiz.bundle.materials if m.license_of)
        for field_id in people:
            assert field_id is not None
            if field_id in self._lookups:
                titles = [m.title.get(self.language) for m in wiz.to_bring()
                          if m.license_of == field_id]
                heading = messages.person_licenses_pending(self._person(field_id))
            elif pending_only:  # counted with the resident's own
                continue
            else:
                titles = [m.title.get(self.language) for m in wiz.exempt()
                          if m.license_of == field_id]
                heading = messages.person_licenses_found(self._person(field_id))
            if not titles:
                continue
            screen.add_text(heading, "ok" if field_id not in self._lookups else "subtitle")
            if compact:
                screen.add_text("    " + self.tr("、").join(titles), "")
            else:
                for t in titles:
                    screen.add_text("    " + t, "")

    def _add_expectation(self, field: FormField) -> None:
        """Above the keypad, what the field takes, where the bundle alone would not say it:
        whose ID number, and the days a date may be."""
        wiz = self.wizard
        assert wiz is not None
        text = ""
        if field.kind == "other_id_number" and field.person is not None:
            text = messages.other_id_expected(field.person.get(self.language))
        elif field.kind == "date" and (field.min_date or field.max_date):
            low, high = wiz.date_range(field.id)
            text = messages.date_expected(low, high, self.ctx.clock().date())
        if text:
            self.wizard_screen.add_text(text, "")

    def _problem_text(self, field: FormField, problem: FieldProblem) -> str:
        assert self.wizard is not None
        if problem is FieldProblem.SAME_AS_APPLICANT:
            return messages.same_as_applicant(self._person(field.id))
        if problem in (FieldProblem.DATE_TOO_EARLY, FieldProblem.DATE_TOO_LATE):
            low, high = self.wizard.date_range(field.id)
            return messages.date_out_of_range(problem, low, high, self.ctx.clock().date())
        # What is expected ("请输入 11 位手机号码"), not only what is wrong ("位数不对").
        return messages.typed_problem(problem, field.kind, self._entry,
                                      min_len=field.min_len, max_len=field.max_len)

    def _material_line(self, m: Material) -> str:
        title = m.title.get(self.language)
        note = m.note.get(self.language) if m.note is not None else ""
        return self.tr("{title}（{note}）").format(title=title, note=note) if note else title

    def _show_entry(self) -> None:
        self._entry_label.setText(self._entry or " ")

    # --- resident actions ----------------------------------------------------------------
    def next(self) -> None:
        wiz = self.wizard
        if wiz is None or self._busy:
            return
        step = wiz.current
        if step.kind is StepKind.FIELD:
            problem = wiz.set_field(step.ref, self._entry)
            if problem is not None:
                self.wizard_screen.show_problem(
                    self._problem_text(wiz.bundle.form_field(step.ref), problem))
                return
            self._look_up_people()
        if not wiz.can_next():
            return
        wiz.next()
        self.render()

    def back(self) -> None:
        wiz = self.wizard
        if wiz is None or self._busy:
            return
        if wiz.current.kind is StepKind.FIELD and self._entry:
            wiz.set_field(wiz.current.ref, self._entry)  # keep what was typed, if valid
            self._look_up_people()
        if wiz.index == 0:
            self.ctx.window.go(ScreenName.BUNDLES, remember=False)
            return
        wiz.back()
        self.render()

    def choose(self, question_id: str, option_id: str) -> None:
        wiz = self.wizard
        if wiz is None:
            return
        wiz.answer(question_id, option_id)
        # One decision per screen: an answer moves on by itself.
        if wiz.can_next():
            wiz.next()
        self.render()

    def key(self, key: str) -> None:
        self._entry = apply_key(self._entry, key, max_len=32)
        self.wizard_screen.show_problem("")
        self._show_entry()
        self.wizard_screen.set_next_enabled(True)

    # --- identification ------------------------------------------------------------------
    def on_code(self, text: str) -> None:
        wiz = self.wizard
        if (wiz is None or self.ctx.window.current().name != ScreenName.WIZARD
                or wiz.current.kind is not StepKind.IDENTIFY or wiz.identified or self._busy):
            return
        try:
            payload = self.ctx.verifier.check(text, Kind.RESIDENT)
        except PayloadRefused as refused:
            self.wizard_screen.show_problem(messages.payload_problem(refused.problem))
            return
        self._busy = True
        backend = self.ctx.backend
        verifier = self.ctx.verifier
        rid = payload.reference

        now = self.ctx.clock()

        def lookup() -> Identity | None:
            verifier.claim(payload)  # a personal code is used once (disk, hall)
            resident = backend.identify(rid, code=text)
            return None if resident is None else _prefill(backend, resident, now)

        self.ctx.backend_queue.submit(lookup, lambda r: self._identified(rid, r),
                                      self._identify_failed)

    def on_card(self, card: IdCard) -> None:
        """A resident ID card on the reader at the identify step: as a 随申码 would."""
        wiz = self.wizard
        if (wiz is None or self.ctx.window.current().name != ScreenName.WIZARD
                or wiz.current.kind is not StepKind.IDENTIFY or wiz.identified or self._busy):
            return
        refusal = messages.id_card_refusal(card, self.ctx.clock().date())
        if refusal:
            self.wizard_screen.show_problem(refusal)
            return
        self._busy = True
        backend = self.ctx.backend

        now = self.ctx.clock()

        def lookup() -> tuple[str, Identity] | None:
            resident = backend.identify_by_id_card(card.id_number, card.name)
            if resident is None:
                return None
            return resident.resident_id, _prefill(backend, resident, now, by_card=True)

        self.ctx.backend_queue.submit(
            lookup, lambda r: self._identified(r[0] if r else "", r[1] if r else None),
            self._identify_failed)

    def on_card_unreadable(self) -> None:
        wiz = self.wizard
        if (wiz is not None and self.ctx.window.current().name == ScreenName.WIZARD
                and wiz.current.kind is StepKind.IDENTIFY and not wiz.identified
                and not self._busy):
            self.wizard_screen.show_problem(messages.id_card_unreadable())

    def _identified(
        self, resident_id: str, result: Identity | None
    ) -> None:
        self._busy = False
        wiz = self.wizard
        if wiz is None or self.ctx.window.current().name != ScreenName.WIZARD:
            return
        if result is None:
            self.wizard_screen.show_problem(messages.unknown_resident())
            return
        self.ctx.scan_accepted()  # the cue, as for 扫码取号
        kinds, values, self._context = result
        wiz.identify(licenses=set(kinds), prefill_values=values)
        del values  # the wizard keeps only masked forms
        self._resident_id = resident_id
        wiz.next()
        self.render()

    def _identify_failed(self, exc: BaseException) -> None:
        self._busy = False
        if isinstance(exc, PayloadRefused):  # a personal code used before
            self.wizard_screen.show_problem(messages.payload_problem(exc.problem))
            return
        log.warning("identify failed: %s", type(exc).__name__)
        self.wizard_screen.show_problem(messages.identify_failed(exc, self.ctx.session.language))

    # --- another person's licenses -------------------------------------------------------
    def _look_up_people(self) -> None:
        """Ask the backend for the licenses of each person whose ID number was just typed
        (the deceased of 身后一件事); the page moves on meanwhile, and the materials list
        says 正在调取 until the answer comes."""
        wiz = self.wizard
        rid = self._resident_id
        if wiz is None or rid is None:
            return
        backend = self.ctx.backend
        for field_id, number in wiz.person_lookups().items():
            if self._lookups.get(field_id) == number:
                continue
            self._lookups[field_id] = number

            def lookup(n: str = number) -> set[str]:
                return {lic.kind for lic in backend.person_licenses(rid, n)}

            self.ctx.backend_queue.submit(
                lookup,
                functools.partial(self._person_found, wiz, field_id, number),
                functools.partial(self._person_failed, wiz, field_id, number),
            )

    def _person_found(self, wiz: Wizard, field_id: str, number: str, kinds: set[str]) -> None:
        if wiz is not self.wizard:
            return  # the session ended, or another bundle began
        if self._lookups.get(field_id) == number:
            del self._lookups[field_id]
        wiz.set_person_licenses(field_id, number, kinds)
        if self._submit_after_lookups and not self._lookups:
            self._submit_after_lookups = False
            if self._resident_id is not None:
                self._file(wiz, self._resident_id)
        elif (not self._busy and self.ctx.window.current().name == ScreenName.WIZARD
              and wiz.current.kind in (StepKind.MATERIALS, StepKind.CONFIRM)):
            self.render()

    def _person_failed(self, wiz: Wizard, field_id: str, number: str,
                       exc: BaseException) -> None:
        # Nothing exempt then: the materials are to be brought, which is never wrong.
        log.warning("another person's licenses not looked up: %s", type(exc).__name__)
        self._person_found(wiz, field_id, number, set())

    # --- submission ----------------------------------------------------------------------
    def submit(self) -> None:
        wiz = self.wizard
        if wiz is None or self._busy or self._resident_id is None or not wiz.can_submit():
            return
        self._busy = True
        self.wizard_screen.show_problem("")
        self.wizard_screen.add_text(self.tr("正在提交，请稍候……"), "subtitle")
        if self._lookups:
            # What the application exempts depends on the answer: filed when it comes.
            self._submit_after_lookups = True
            return
        self._file(wiz, self._resident_id)

    def _file(self, wiz: Wizard, rid: str) -> None:
        # The key is made at the first press and kept for retries: a double tap or a retry
        # after a failure can never file the application twice.
        if self._submit_key is None:
            self._submit_key = self.ctx.new_key()
        key = self._submit_key
        submission = wiz.submission()
        days = wiz.bundle.processing_days
        payload = {"resident_id": rid, "submission": submission, "processing_days": days}
        session = self.ctx.session
        self.ctx.delivery.deliver(
            "application", key, payload,
            lambda d: self._delivered(d) if self.ctx.session is session else None,
            self._submit_failed,
        )

    def _delivered(self, delivery: Delivery) -> None:
        if delivery.state == "done" and delivery.result is not None:
            receipt = application_receipt(delivery.result)
            session = self.ctx.session
            self.ctx.render_queue.submit(  # QR modules off the GUI thread, then the page
                lambda: screen_qr_matrix(receipt.progress_code),
                lambda _m: self._submitted(receipt) if self.ctx.session is session else None,
                lambda _e: self._submitted(receipt) if self.ctx.session is session else None,
            )
            return
        self._busy = False
        if delivery.state == "pending":
            # Stored on this kiosk and sent when the backend answers again: 已暂存.
            log.info("application stored for later delivery")
            self.ctx.set_step("stored")
            self.ctx.end_flow("flow_finished")
            self.result.show_stored(messages.application_stored())
            self.ctx.window.go(ScreenName.BUNDLE_RESULT, remember=False)
            return
        log.warning("submission refused: %s", delivery.error)
        self.render()
        self.wizard_screen.show_problem(messages.submit_failed())

    def _submitted(self, receipt: ApplicationReceipt) -> None:
        self._busy = False
        wiz = self.wizard
        if wiz is None:
            return
        lang = self.language
        view = receipt_view(
            wiz,
            center_name=self.ctx.center_name_for(lang),
            reference=receipt.reference,
            submitted_at=receipt.submitted_at,
            progress_code=receipt.progress_code,
            language=lang,
        )
        log.info("application %s submitted (bundle %s)", receipt.reference, wiz.bundle.id)
        self._reference = receipt.reference
        self.ctx.session.rating_target = ("application", receipt.reference)
        self.ctx.set_step("submitted")
        self.ctx.end_flow("flow_finished")
        sections: list[tuple[str, list[str], bool]] = []
        if view.to_bring:
            sections.append((self.tr("还需提交的材料"), list(view.to_bring), True))
        else:
            sections.append((self.tr("所需材料均已免于提交"), [], True))
        if view.exempt:
            sections.append((self.tr("已免于提交（电子证照）"), list(view.exempt), False))
        expected = self.tr("预计 {d} 个工作日办结").format(d=view.processing_days)
        sections.append((self.tr("接下来"), [*view.next_steps, expected], True))
        # Titles without their notes, for a list too long for the page (the receipt has all).
        brief = [m.title.get(lang) for m in wiz.to_bring()] if view.to_bring else None
        self.result.show_result(view.reference, sections, view.progress_code,
                                messages.receipt_code_caption(
                                    is_web_address(view.progress_code)), brief=brief)
        self.result.set_print_status(self.tr("正在打印回执…"))
        self.result.show_print_problem("")
        try:
            follow_up = self.ctx.catalog.get(wiz.bundle.ticket_category).title
        except KeyError:  # checked at load against this catalog; a hall's may differ
            follow_up = None
        self.result.offer_follow_up(follow_up)
        self.ctx.window.go(ScreenName.BUNDLE_RESULT, remember=False)
        self._print_job = self.ctx.printing.print_document(receipt_document(view))

    # --- the follow-up number ------------------------------------------------------------
    def follow_up(self) -> None:
        """取号 on the result screen: a number for the bundle's window, for this resident
        (their priority) and naming the application, so that the clerk sees it."""
        wiz = self.wizard
        if wiz is None or self._reference is None or self._follow_up_key is not None:
            return  # nothing filed, or a number is on its way
        self._follow_up_key = key = self.ctx.new_key()
        context = self._context
        category = wiz.bundle.ticket_category
        request = flows.ticket_request(context, category_id=category,
                                       kiosk_id=self.ctx.kiosk_id,
                                       application_reference=self._reference)
        self.result.set_follow_up_busy(True)
        self.result.show_print_problem("")
        self.ctx.start_flow("take_number")
        self.ctx.set_step(ScreenName.BUNDLE_RESULT)
        session = self.ctx.session
        log.info("follow-up number asked for application %s (%s)", self._reference, category)
        self.ctx.delivery.deliver(
            "ticket", key, dataclasses.asdict(request),
            lambda d: self._follow_up_answered(d, session, context),
            lambda exc: self._follow_up_failed(exc) if self.ctx.session is session else None,
        )

    def _follow_up_answered(self, delivery: Delivery, session: object,
                            context: flows.ResidentContext | None) -> None:
        issued = (issued_ticket(delivery.result)
                  if delivery.state == "done" and delivery.result is not None else None)
        if self.ctx.session is not session:
            # The resident left before the number was on screen: nobody holds it (a number
            # they held before stays theirs).
            if issued is not None and not issued.already_waiting:
                self.ctx.delivery.withdraw_ticket(delivery.key, "left")
            return
        self._follow_up_key = None
        if issued is None:
            refusal = delivery.refusal
            log.warning("follow-up number not issued: %s", delivery.error or delivery.state)
            if refusal is not None and refusal.message is not None:
                text = refusal.message.get(self.language)  # closed, or numbers all taken
            elif delivery.error == UNRESOLVED:
                text = messages.ticket_unconfirmed(self.ctx.hotline)
            else:
                text = messages.ticket_unavailable(self.ctx.hotline)
            self.result.show_follow_up_problem(text)
            return
        self.ctx.delivery.claim_ticket(delivery.key)  # theirs now: never withdrawn
        self.followUpIssued.emit(issued, context)

    def _follow_up_failed(self, exc: BaseException) -> None:
        log.warning("follow-up number failed: %s", type(exc).__name__)
        self._follow_up_key = None
        self.result.show_follow_up_problem(messages.ticket_unavailable(self.ctx.hotline))

    def _submit_failed(self, exc: BaseException) -> None:
        self._busy = False
        log.warning("submission failed: %s", type(exc).__name__)
        self.render()
        self.wizard_screen.show_problem(messages.submit_failed())

    def _print_done(self, job: int, _report: object) -> None:
        if job == self._print_job:
            self.result.set_print_status(self.tr("请取走回执。"))

    def _print_failed(self, job: int, code: str, _hint: str) -> None:
        if job == self._print_job:
            self.result.set_print_status("")
            held = self.ctx.printing.is_held(job)  # nothing sent: kept for staff to reprint
            self.result.show_print_problem(messages.printer_problem(code, held=held))

    def _language_changed(self, _language: str) -> None:
        # The wizard's page is built from the bundle's texts: build it again.
        if self.wizard is not None and not self._busy:
            self.render()

    def _session_ended(self, _reason: str) -> None:
        if self.wizard is not None:
            self.wizard.clear()
        self.wizard = None
        self._resident_id = None
        self._entry = ""
        self._submit_key = None
        self._busy = False
        self._print_job = None
        self._lookups.clear()
        self._submit_after_lookups = False
        self._wrong_info_on = None
        self._context = None
        self._reference = None
        self._follow_up_key = None


def _prefill(backend: Backend, resident: Resident, now: dt.datetime, *,
             by_card: bool = False) -> Identity:
    """The license kinds an identified resident holds, the form's prefill values, and their
    context for a queue number (priority and masked name)."""
    context = flows.resident_context(backend, resident, now)
    if by_card:
        context = dataclasses.replace(context, by_card=True)
    # A hall's resident carries only a masked name, no ID number or phone: the hall gives
    # the form's values itself, masked (and puts its real ones in at submission).
    hall_prefill = getattr(backend, "prefill", None)
    if hall_prefill is not None:
        shown: dict[str, str] = hall_prefill(resident.resident_id)
        # Each license the hall holds for the resident is one `license:<kind>` value.
        held = {source.removeprefix(LICENSE_SOURCE_PREFIX) for source in shown
                if source.startswith(LICENSE_SOURCE_PREFIX)}
        return held, shown, context
    licenses = backend.licenses(resident.resident_id)
    values = prefill_values(
        name=resident.name, id_number=resident.id_number, phone=resident.phone,
        license_numbers={lic.kind: lic.number_masked for lic in licenses},
    )
    return {lic.kind for lic in licenses}, values, context
