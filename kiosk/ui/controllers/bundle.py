"""The 一件事 flow: bundle list → wizard steps → submit → receipt → 好差评.

The wizard's rules live in kiosk.domain.wizard; this controller only turns its current step
into a page, routes taps and scans back into it, and runs identification and submission on
the backend's task queue.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject

from kiosk.backend.interface import ApplicationReceipt
from kiosk.delivery.deliverer import Delivery, application_receipt
from kiosk.domain.bundles import LICENSE_SOURCE_PREFIX, Bundle, BundleSet, Material
from kiosk.domain.hall_links import is_web_address
from kiosk.domain.payloads import Kind, PayloadRefused
from kiosk.domain.receipt import receipt_document, receipt_view
from kiosk.domain.wizard import StepKind, Wizard, prefill_values
from kiosk.ui import messages
from kiosk.ui.controllers.context import KioskContext
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.bundles import BundleListScreen, BundleResultScreen, WizardScreen
from kiosk.ui.widgets.keypad import apply_key
from kiosk.ui.widgets.qr import screen_qr_matrix

log = logging.getLogger(__name__)


class BundleController(QObject):
    def __init__(self, ctx: KioskContext, bundles: BundleSet) -> None:
        super().__init__(ctx.window)
        self.ctx = ctx
        self.bundles = {b.id: b for b in bundles.bundles}
        for error in bundles.errors:
            log.error("bundle file skipped: %s", error.message())
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

        self.list.bundleChosen.connect(self.start)
        w = self.wizard_screen
        w.nextChosen.connect(self.next)
        w.backChosen.connect(self.back)
        w.optionChosen.connect(self.choose)
        w.keyPressed.connect(self.key)
        w.submitChosen.connect(self.submit)
        w.noPhoneChosen.connect(lambda: ctx.window.helpRequested.emit(ScreenName.WIZARD))
        ctx.scanner.frameReady.connect(w.set_frame)
        ctx.scanner.codeScanned.connect(self.on_code)
        ctx.printing.jobFinished.connect(self._print_done)
        ctx.printing.jobFailed.connect(self._print_failed)
        self.result.doneChosen.connect(lambda: ctx.window.go_home("home"))
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
        self.ctx.start_flow(f"bundle:{bundle.id}")
        self.ctx.window.go(ScreenName.WIZARD)
        self.render()

    # --- rendering -----------------------------------------------------------------------
    def render(self) -> None:
        wiz = self.wizard
        if wiz is None:
            return
        step = wiz.current
        self.ctx.set_step(step.key.replace("_", "-")[:64])
        screen = self.wizard_screen
        lang = self.language
        bundle: Bundle = wiz.bundle
        heading = self._heading(step.kind, step.ref)
        screen.begin(bundle.title.get(lang), wiz.index, wiz.total, heading)
        screen.back_button.setVisible(wiz.index > 0)
        scanning = False
        elder = self.ctx.window.elder  # 长辈模式: fewer lines, in larger type
        if step.kind is StepKind.INTRO:
            if not elder:  # the table below says the same, shorter
                screen.add_text(bundle.description.get(lang))
            sep = self.tr("、")
            rows = [(d.name.get(lang), sep.join(s.get(lang) for s in d.services))
                    for d in bundle.departments]
            screen.add_rows(rows)
            screen.add_text(self.tr("一次申请，可少跑 {n} 次；预计 {d} 个工作日办结。").format(
                n=bundle.trips_saved, d=bundle.processing_days), "notice")
            screen.add_stretch()
        elif step.kind is StepKind.IDENTIFY:
            if wiz.identified:
                screen.add_text(self.tr("{name}，身份已确认。").format(name=wiz.masked_name), "ok")
            else:
                screen.add_text(self.tr("请打开“随申办”App，将随申码对准摄像头画面中的方框。"))
                screen.add_stretch()
                screen.show_camera(self.tr("没有手机？呼叫工作人员帮办"))
                scanning = True
        elif step.kind is StepKind.QUESTION:
            q = next(q for q in bundle.questions if q.id == step.ref)
            if q.help is not None:
                screen.add_text(q.help.get(lang), "small")
            screen.add_options(q.id, [(o.id, o.label.get(lang)) for o in q.options],
                               wiz.answer_of(q.id))
        elif step.kind is StepKind.MATERIALS:
            exempt = [m.title.get(lang) for m in wiz.exempt()]
            to_bring = [self._material_line(m) for m in wiz.to_bring()]
            if exempt:
                screen.add_text(self.tr("✓ 免于提交（已调取您的电子证照）"), "ok")
                if elder:  # for information only: one paragraph
                    screen.add_text("    " + self.tr("、").join(exempt), "")
                else:
                    for t in exempt:
                        screen.add_text("    " + t, "")
            screen.add_text(self.tr("需要您携带的材料") if to_bring
                            else self.tr("所需材料均已免于提交，无需携带。"), "subtitle")
            for t in to_bring:
                screen.add_text("    · " + t, "")
            screen.add_stretch()
        elif step.kind is StepKind.REVIEW:
            screen.add_text(self.tr("以下信息来自您的电子证照，已隐去部分内容："), "small")
            screen.add_rows(wiz.review(lang))
            screen.add_stretch()
        elif step.kind is StepKind.FIELD:
            field = next(f for f in bundle.fields if f.id == step.ref)
            self._entry = wiz.field_value(field.id) or ""
            self._entry_label = screen.show_keypad(allow_x=field.kind == "id_number")
            if field.hint is not None:
                screen.add_text(field.hint.get(lang), "small")
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
        screen.set_next_enabled(wiz.can_next())
        self.ctx.scanner.set_scanning(scanning)
        if scanning:
            self.ctx.scanner.reset_dedup()

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
                self.wizard_screen.show_problem(messages.field_problem(problem))
                return
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
        # A hall's resident carries only a masked name, no ID number or phone: the hall
        # gives the form's values itself, masked (and puts its real ones in at submission).
        hall_prefill = getattr(backend, "prefill", None)

        def lookup() -> tuple[set[str], dict[str, str]] | None:
            verifier.claim(payload)  # a personal code is used once (disk, hall)
            resident = backend.identify(rid, code=text)
            if resident is None:
                return None
            if hall_prefill is not None:
                shown: dict[str, str] = hall_prefill(rid)
                # Each license the hall holds for the resident is one `license:<kind>` value.
                held = {source.removeprefix(LICENSE_SOURCE_PREFIX) for source in shown
                        if source.startswith(LICENSE_SOURCE_PREFIX)}
                return held, shown
            licenses = backend.licenses(rid)
            values = prefill_values(
                name=resident.name, id_number=resident.id_number, phone=resident.phone,
                license_numbers={lic.kind: lic.number_masked for lic in licenses},
            )
            return {lic.kind for lic in licenses}, values

        self.ctx.backend_queue.submit(lookup, lambda r: self._identified(rid, r),
                                      self._identify_failed)

    def _identified(
        self, resident_id: str, result: tuple[set[str], dict[str, str]] | None
    ) -> None:
        self._busy = False
        wiz = self.wizard
        if wiz is None or self.ctx.window.current().name != ScreenName.WIZARD:
            return
        if result is None:
            self.wizard_screen.show_problem(messages.unknown_resident())
            return
        self.ctx.scan_accepted()  # the cue, as for 扫码取号
        kinds, values = result
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
        self.wizard_screen.show_problem(messages.backend_unavailable())

    # --- submission ----------------------------------------------------------------------
    def submit(self) -> None:
        wiz = self.wizard
        if wiz is None or self._busy or self._resident_id is None or not wiz.can_submit():
            return
        self._busy = True
        # The key is made at the first press and kept for retries: a double tap or a retry
        # after a failure can never file the application twice.
        if self._submit_key is None:
            self._submit_key = self.ctx.new_key()
        key = self._submit_key
        submission = wiz.submission()
        days = wiz.bundle.processing_days
        rid = self._resident_id
        self.wizard_screen.show_problem("")
        self.wizard_screen.add_text(self.tr("正在提交，请稍候……"), "subtitle")
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
        self.result.show_result(view.reference, sections, view.progress_code,
                                messages.receipt_code_caption(
                                    is_web_address(view.progress_code)))
        self.result.set_print_status(self.tr("正在打印回执…"))
        self.result.show_print_problem("")
        self.ctx.window.go(ScreenName.BUNDLE_RESULT, remember=False)
        self._print_job = self.ctx.printing.print_document(receipt_document(view))

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
            held = self.ctx.printing.is_held(job)  # nothing sent: it prints by itself later
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
