"""一件事: the bundle list, the guided wizard (one page per step kind) and the result."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QFontMetrics, QImage, QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.bundles import Bundle
from kiosk.domain.text import Bilingual
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.action_button import ActionButton
from kiosk.ui.widgets.camera_view import CameraView
from kiosk.ui.widgets.choice_pages import ChoicePages
from kiosk.ui.widgets.keypad import Keypad
from kiosk.ui.widgets.label import label
from kiosk.ui.widgets.qr import qr_pixmap
from kiosk.ui.widgets.wrap_button import WrapButton


def _clear_layout(layout: QLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        assert item is not None  # index 0 of a layout that still counts items
        widget = item.widget()
        sub = item.layout()
        if widget is not None:
            widget.setParent(None)
            widget.deleteLater()
        elif sub is not None:
            _clear_layout(sub)
            # A taken nested layout stays a QObject child until deleted: one leaked per page.
            sub.deleteLater()


def _show_all(layout: QLayout) -> None:
    # A widget added to an already visible parent is shown only by a queued call; show it
    # now so the page is complete the moment it is rendered.
    for i in range(layout.count()):
        item = layout.itemAt(i)
        assert item is not None  # i < count()
        w = item.widget()
        if w is not None:
            w.show()


def _squeezed(top: QLayout, layout: QLayout) -> bool:
    """Whether a wrapped text in `layout` (or a layout inside it) got less height than its
    lines need: a layout short of height squeezes nothing, it lays the second line of one
    item over the next."""
    top.activate()
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item is None:
            continue
        w, sub = item.widget(), item.layout()
        if (isinstance(w, QLabel) and w.wordWrap() and w.text()
                and w.height() < w.heightForWidth(w.width()) - 2):
            return True
        if sub is not None and _squeezed(top, sub):
            return True
    return False


class BundleListScreen(Screen):
    name = ScreenName.BUNDLES
    bundleChosen = Signal(str)

    def __init__(self, theme: Theme, bundles: list[Bundle], parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.bundles = bundles
        self.heading = self.label(name="title", center=True)
        self.layout_.addWidget(self.heading)
        self.buttons: dict[str, WrapButton] = {}
        for b in bundles:
            button = WrapButton()
            button.setObjectName("tile")
            button.clicked.connect(lambda _=False, bid=b.id: self.bundleChosen.emit(bid))
            self.buttons[b.id] = button
        self.pages = ChoicePages()
        self.pages.grid.setSpacing(20)
        self.pages.set_buttons(list(self.buttons.values()))
        self.layout_.addWidget(self.pages)
        self.layout_.addStretch(1)
        self.disclaimer = self.label(name="small", center=True)
        self.layout_.addWidget(self.disclaimer)
        self.apply_theme()

    def apply_theme(self) -> None:
        if self.theme.elder:
            # Four a page, two to a row: fewer and larger choices.
            self.pages.arrange(1 if self.theme.portrait else 2, per_page=4)
        elif self.theme.portrait:
            self.pages.arrange(2)
        else:
            # Two rows of three a page: a third row leaves a landscape tile too short for a
            # title and its summary (English wraps to three lines).
            self.pages.arrange(3, per_page=6)
        for button in self.buttons.values():
            button.setMinimumHeight(200 if self.theme.elder else 170)
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("请选择要办理的“一件事”"))
        for b in self.bundles:
            self.buttons[b.id].setText(b.title.get(self.language))
            # Elder mode: the title alone, large (the intro page says what it covers).
            self.buttons[b.id].set_detail("" if self.theme.elder else b.summary.get(self.language))
        self.disclaimer.setText(self.tr(
            "以上事项为示例，具体办理条件和材料以受理中心的最新要求为准，不构成法律意见。"
        ))
        self.pages.retranslate()

    def title_text(self) -> str:
        return self.tr("一件事一次办成")  # as the Home tile that leads here says it

    def spoken_text(self) -> str:
        return sentences(self.heading.text())

    def entered(self) -> None:
        self.pages.show_page(0)


class WizardScreen(Screen):
    """Step k of n, the step's page, and Back / Next. Pages are rebuilt for every step."""

    name = ScreenName.WIZARD
    nextChosen = Signal()
    backChosen = Signal()
    optionChosen = Signal(str, str)  # question id, option id
    keyPressed = Signal(str)
    submitChosen = Signal()
    noPhoneChosen = Signal()
    staffChosen = Signal()  # a page's own "call staff" button (信息有误)
    wrongInfoChosen = Signal()  # 信息有误 on the review page

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.bundle_title = self.label(name="subtitle", center=True)
        self.step_count = self.label(name="stepCount", center=True)
        self.heading = self.label(name="title", center=True)
        self.body = QVBoxLayout()
        self.body.setSpacing(16)
        self.camera = CameraView()
        self.camera.hide()
        self.camera_button = ActionButton()
        self.camera_button.clicked.connect(self.noPhoneChosen)
        self.camera_button.hide()
        self.keypad = Keypad()
        self.keypad.keyPressed.connect(self.keyPressed)
        self.keypad.hide()
        self.problem = self.label(name="error")
        self.problem.hide()
        self.back_button = QPushButton()
        self.back_button.clicked.connect(self.backChosen)
        self.next_button = QPushButton()
        self.next_button.setObjectName("primary")
        self.next_button.clicked.connect(self.nextChosen)
        # While Next is disabled, what it waits for ("请先选择一项"), beside it: a tap on a
        # disabled button does nothing, so the page must say it.
        self.next_hint = self.label(name="nextHint")
        self.next_hint.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.next_hint.hide()
        # Elder mode on a landscape panel: where the resident is (bundle, step k) between
        # Back and Next, so that the top line's height goes to the page's larger type.
        self.progress = self.label(name="stepCount", center=True)
        nav = QHBoxLayout()
        nav.addWidget(self.back_button)
        nav.addStretch(1)
        nav.addWidget(self.progress, 10)
        nav.addStretch(1)
        nav.addWidget(self.next_hint, 6)
        nav.addWidget(self.next_button)
        top = QHBoxLayout()
        top.addWidget(self.bundle_title, 1)
        top.addWidget(self.step_count)
        self.bundle_title.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.step_count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.layout_.addLayout(top)
        self.layout_.addWidget(self.heading)
        # Landscape panels put the camera or keypad beside the page; portrait below it.
        content = QVBoxLayout() if theme.portrait else QHBoxLayout()
        content.setSpacing(32)
        column = QVBoxLayout()
        column.addLayout(self.body, 1)
        column.addWidget(self.problem)
        # The problem goes under the entry on a keypad page (show_keypad), back here after.
        self._column = column
        self._problem_in: QVBoxLayout = column
        content.addLayout(column, 1 if theme.portrait else 3)
        camera_box = QVBoxLayout()
        camera_box.addWidget(self.camera, 1)
        camera_box.addWidget(self.camera_button)
        # The camera's share of the page only while it shows: other pages use the width.
        self._content = content
        self._camera_box = camera_box
        self._camera_stretch = 4 if theme.portrait else 3
        content.addLayout(camera_box, 0)
        # At the bottom of the page, just above Back / Next, at its own size: the same place
        # on every keypad step whatever the heading, hint or message above it (centred, it
        # moved with each of them, and a message pushed it about 80 px mid-typing).
        content.addWidget(self.keypad, 0,
                          Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom)
        self.layout_.addLayout(content, 1)
        self.layout_.addLayout(nav)
        self.option_pages: ChoicePages | None = None
        # The forms of a page with shorter ones (show_fitted); none on the others.
        self._forms: list[Callable[[], None]] = []
        self._lead = ""
        self._options: list[str] = []
        self.apply_theme()
        self.retranslate()

    def apply_theme(self) -> None:
        elder = self.theme.elder
        self.camera.text_px = self.theme.px(34)
        self.camera.setMinimumHeight(360 if elder else 420)
        self.camera.setMinimumWidth(480 if elder else 560)
        # Only a landscape panel is short of height; a portrait one keeps the top line, so
        # that Back, Next and what Next waits for fit one row and keep the keypad in place.
        in_nav = elder and not self.theme.portrait
        self.bundle_title.setVisible(not in_nav)
        self.step_count.setVisible(not in_nav)
        self.progress.setVisible(in_nav)

    def retranslate(self) -> None:
        self.back_button.setText(self.tr("‹ 上一步"))
        self.next_button.setText(self.tr("下一步 ›"))
        self.keypad.retranslate()
        if self.option_pages is not None:
            self.option_pages.retranslate()

    def title_text(self) -> str:
        return self.tr("一件事一次办成")  # as the Home tile that leads here says it

    def spoken_text(self) -> str:
        # The step's question or heading, its first line of text, and the choices.
        return sentences(self.heading.text(), self._lead, *self._options,
                         self.problem.text() if self.problem.isVisibleTo(self) else "",
                         self.next_hint.text() if self.next_hint.isVisibleTo(self) else "")

    def handle_back(self) -> bool:
        self.backChosen.emit()
        return True

    # --- building pages ------------------------------------------------------------------
    def begin(self, bundle_title: str, index: int, heading: str, *,
              remaining: int | None = None, certain: bool = True) -> None:
        """A new page: step `index` (from 0) and, unless None, how many steps follow it
        (`certain`: exactly that many; else at most, as later answers may skip some)."""
        self._problem_to(self._column)
        _clear_layout(self.body)
        self._forms = []
        self.option_buttons: dict[str, QPushButton] = {}
        self.option_pages = None
        self._lead = ""
        self._options = []
        self.submit_button: QPushButton | None = None
        self.no_phone_button: QPushButton | None = None
        self.camera.hide()
        self.camera_button.hide()
        self._content.setStretchFactor(self._camera_box, 0)
        self.keypad.hide()
        self.problem.hide()
        self.bundle_title.setText(bundle_title)
        self.step_count.setText(self._count_text(index, remaining, certain))
        self.progress.setText(f"{bundle_title} · {self.step_count.text()}")
        self.heading.setText(heading)
        self.next_button.show()
        self.set_next_enabled(True)
        self.retranslate()
        # Read once the controller has filled the page (it does so right after begin()).
        QTimer.singleShot(0, self.promptChanged.emit)

    def add_text(self, text: str, name: str = "subtitle") -> QLabel:
        lab = label(text, name)
        self.body.addWidget(lab)
        lab.show()
        if not self._lead and name not in ("small", ""):
            self._lead = text
        return lab

    def add_rows(self, rows: list[tuple[str, str]]) -> None:
        grid = QGridLayout()
        grid.setHorizontalSpacing(32)
        for i, (k, v) in enumerate(rows):
            key = label(k, "small")
            val = label(v)
            val.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(key, i, 0)
            grid.addWidget(val, i, 1)
        self.body.addLayout(grid)
        _show_all(grid)

    def add_list(self, lines: list[str], columns: int = 1) -> None:
        """Lines indented under a heading, down `columns` columns (filled column by column,
        in reading order)."""
        grid = QGridLayout()
        grid.setContentsMargins(32, 0, 0, 0)
        grid.setHorizontalSpacing(40)
        rows = -(-len(lines) // max(1, columns))
        for i, line in enumerate(lines):
            grid.addWidget(label(line, ""), i % rows, i // rows, Qt.AlignmentFlag.AlignTop)
        for c in range(columns):
            grid.setColumnStretch(c, 1)
        self.body.addLayout(grid)
        _show_all(grid)

    def add_options(self, question_id: str, options: list[tuple[str, str]],
                    chosen: str | None) -> dict[str, QPushButton]:
        buttons: dict[str, QPushButton] = {}
        elder = self.theme.elder
        columns = 1 if elder or self.theme.portrait or len(options) > 2 else 2
        for oid, text in options:
            b = WrapButton(text)
            b.setObjectName("tile")
            b.setCheckable(True)
            b.setChecked(oid == chosen)
            b.setMinimumHeight(140 if elder else 120)
            b.clicked.connect(lambda _=False, q=question_id, o=oid: self.optionChosen.emit(q, o))
            buttons[oid] = b
        pages = ChoicePages()
        pages.grid.setSpacing(20)
        pages.set_buttons(list(buttons.values()))
        # Elder mode: three choices a page at most, one to a row.
        pages.arrange(columns, per_page=3 if elder else 0)
        if chosen in buttons:
            pages.show_page(pages.page_of(buttons[chosen]))
        self.body.addWidget(pages)
        pages.show()
        self.body.addStretch(1)
        self.option_buttons = buttons
        self.option_pages = pages
        self._options = [text for _, text in options]
        return buttons

    def add_stretch(self) -> None:
        self.body.addStretch(1)

    def show_fitted(self, forms: Sequence[Callable[[], None]]) -> None:
        """Fills the page with the first of `forms` (each adds the page's content with
        add_text, add_rows, …) whose texts the page holds without squeezing, the last if
        none does; again when the page is shown or resized. For pages whose content has
        shorter forms (a bundle's first page, the materials list): no resident page
        scrolls."""
        self._forms = list(forms)
        self._fit()

    def _fit(self) -> None:
        last = len(self._forms) - 1
        for i, form in enumerate(self._forms):
            _clear_layout(self.body)
            self._lead = ""
            form()
            _show_all(self.body)
            if i == last or not self.isVisible() or not _squeezed(self.layout_, self.body):
                return

    def entered(self) -> None:
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def show_camera(self, no_phone_text: str) -> None:
        self._content.setStretchFactor(self._camera_box, self._camera_stretch)
        self.camera.show()
        self.camera_button.setText(no_phone_text)
        self.camera_button.show()
        self.no_phone_button = self.camera_button

    def show_keypad(self, allow_x: bool) -> QLabel:
        entry = label("", "entry")
        entry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        entry.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.body.addWidget(entry)
        entry.show()
        # A message right under what it is about; the keypad does not move for it.
        self._problem_to(self.body)
        self.keypad.allow_x(allow_x)
        self.keypad.show()
        return entry

    def add_submit(self, text: str) -> QPushButton:
        button = ActionButton(text)
        button.setObjectName("primary")
        button.setMinimumHeight(130)
        button.clicked.connect(self.submitChosen)
        self.body.addWidget(button)
        button.show()
        self.next_button.hide()
        self.submit_button = button
        return button

    def set_frame(self, image: QImage) -> None:
        if self.camera.isVisible():
            self.camera.set_frame(image)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        if text:
            self.announced.emit(text, False)

    def set_next_enabled(self, enabled: bool, missing: str = "") -> None:
        """Next on or off; off, `missing` says beside it what the page still needs."""
        self.next_button.setEnabled(enabled)
        self.next_hint.setText("" if enabled else missing)
        self.next_hint.setVisible(not enabled and bool(missing) and not self.next_button.isHidden())

    def _count_text(self, index: int, remaining: int | None, certain: bool) -> str:
        # "第 k 步，共 n 步" changed its n whenever an answer skipped questions (第 6 步，共 16
        # 步 → 第 7 步，共 14 步), which reads as a mistake. k only ever goes up by one going
        # forward; what changes is how much is left, said as a forecast where answers still
        # to come may shorten it ("还有约 7 步" → "还有 3 步"), exactly where none can.
        k = index + 1
        if remaining is None:
            return self.tr("第 {k} 步").format(k=k)
        if remaining == 0:
            return self.tr("第 {k} 步，最后一步").format(k=k)
        if certain:
            return self.tr("第 {k} 步，还有 {n} 步").format(k=k, n=remaining)
        return self.tr("第 {k} 步，还有约 {n} 步").format(k=k, n=remaining)

    def _problem_to(self, layout: QVBoxLayout) -> None:
        if self._problem_in is layout:
            return
        self._problem_in.removeWidget(self.problem)
        layout.addWidget(self.problem)
        self._problem_in = layout

    def add_action(self, text: str, chosen: SignalInstance) -> ActionButton:
        """A button in the page that emits `chosen` (信息有误, 呼叫工作人员)."""
        button = ActionButton(text)
        button.clicked.connect(chosen)
        self.body.addWidget(button)
        button.show()
        return button

    def clear(self) -> None:
        self._problem_to(self._column)
        _clear_layout(self.body)
        self.option_pages = None
        self._lead = ""
        self._options = []
        for w in (self.bundle_title, self.step_count, self.progress, self.heading, self.problem,
                  self.next_hint):
            w.clear()
        self.problem.hide()
        self.next_hint.hide()
        self.camera.clear()
        self.camera.hide()
        self.camera_button.hide()
        self.keypad.hide()


class BundleResultScreen(Screen):
    """The reference number and what is still needed; the same content as the receipt."""

    name = ScreenName.BUNDLE_RESULT
    has_back = False  # the application is filed; Back would suggest filing it again
    rateChosen = Signal()
    doneChosen = Signal()
    followUpChosen = Signal()  # 取号: the queue number for the window, tied to the application

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.heading = self.label(name="title")
        self.reference = self.label(name="bigNumber")
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addWidget(self.reference, 1)
        self._top = top
        # Columns side by side on landscape panels, stacked on portrait ones.
        row = QVBoxLayout() if theme.portrait else QHBoxLayout()
        row.setSpacing(40)
        self.columns = [QVBoxLayout(), QVBoxLayout()]
        for col in self.columns:
            col.setSpacing(4)
            row.addLayout(col, 3)
        qr_box = QVBoxLayout()
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr_caption = self.label(name="small", center=True)
        qr_box.addWidget(self.qr)
        qr_box.addWidget(self.qr_caption)
        qr_box.addStretch(1)
        row.addLayout(qr_box, 2)
        self._row = row
        self.print_status = self.label(name="subtitle", center=True)
        self.print_problem = self.label(name="error")
        self.print_problem.hide()
        self.rate_button = ActionButton()
        self.rate_button.clicked.connect(self.rateChosen)
        self.done_button = ActionButton()
        self.done_button.setObjectName("primary")
        self.done_button.clicked.connect(self.doneChosen)
        self.layout_.addLayout(top)
        self.layout_.addLayout(row, 1)
        self.layout_.addWidget(self.print_status)
        self.layout_.addWidget(self.print_problem)
        nav = QHBoxLayout()
        # The window the bundle's next steps send the resident to: its number, one tap.
        self.follow_up_button = ActionButton()
        self.follow_up_button.clicked.connect(self.followUpChosen)
        self.follow_up_button.hide()
        self._follow_up_title: Bilingual | None = None
        self._nav = nav
        nav.addWidget(self.rate_button)
        nav.addWidget(self.done_button)
        self.layout_.addLayout(nav)
        self._spoken: list[str] = []
        self._sections: list[tuple[str, list[str], bool]] = []
        self._brief: list[str] | None = None
        self.apply_theme()
        self.retranslate()

    def apply_theme(self) -> None:
        self.reference.setStyleSheet(f"font-size: {self._reference_px()}px;")
        # Elder type: the next steps (column two) get the most room, so that each of its
        # lines stays one line; the QR code needs little.
        elder = self.theme.elder
        # Elder mode: one wide list (the lines stay whole in the larger type), the code and
        # when it will be done beside it.
        self._row.setStretch(0, 4 if elder else 3)
        self._row.setStretch(1, 0 if elder else 3)
        self._row.setStretch(2, 1 if elder else 2)
        self._row.setSpacing(24 if elder else 40)
        self._place_follow_up()
        self._arrange_top()

    def _place_follow_up(self) -> None:
        # Beside the other two on a landscape panel (elder type has no height to spare for
        # another row); a row of its own above them on a portrait one, whose width three
        # in a row would leave a word a line.
        button = self.follow_up_button
        self._nav.removeWidget(button)
        self.layout_.removeWidget(button)
        if self.theme.portrait:
            items = [self.layout_.itemAt(i) for i in range(self.layout_.count())]
            at = next(i for i, item in enumerate(items)
                      if item is not None and item.layout() is self._nav)
            self.layout_.insertWidget(at, button)
        else:
            self._nav.insertWidget(0, button)

    def _reference_px(self) -> int:
        return int(self.theme.body_px * 1.8)

    def _arrange_top(self) -> None:
        """The number beside the heading when both fit the panel's width, else on its own
        line under it (a long heading beside it would break in two). Elder type needs every
        line the list below can get: stacked, a wrapped material overlapped its neighbour."""
        font = self.reference.font()
        font.setPixelSize(self._reference_px())  # its style sheet, maybe not polished yet
        self.heading.ensurePolished()
        margins = self.layout_.contentsMargins()
        need = (self.heading.fontMetrics().horizontalAdvance(self.heading.text())
                + QFontMetrics(font).horizontalAdvance(self.reference.text() or "0" * 16)
                + self._top.spacing() + margins.left() + margins.right() + 16)
        self._top.setDirection(QHBoxLayout.Direction.LeftToRight if need <= self.theme.width
                               else QHBoxLayout.Direction.TopToBottom)

    def retranslate(self) -> None:
        self.heading.setText(self.tr("申请已提交，办件编号："))
        self.rate_button.setText(self.tr("评价本次服务"))
        self.done_button.setText(self.tr("完成，返回首页"))
        self._follow_up_text()
        self._arrange_top()

    def title_text(self) -> str:
        return self.tr("办理结果")

    def spoken_text(self) -> str:
        return sentences(self.heading.text(), " ".join(self.reference.text()), *self._spoken)

    def show_result(self, reference: str, sections: list[tuple[str, list[str], bool]],
                    progress_code: str, qr_caption: str, *,
                    brief: list[str] | None = None) -> None:
        """sections: (title, lines, one line each?); what is still needed comes first, the
        last section (next steps) gets column two. Lists that are only for information (the
        exempt materials) are joined into one paragraph so the page fits without scrolling.
        `brief`: the first section's lines in fewer words (the materials without their
        notes), shown when the whole lines do not fit; the receipt has everything."""
        self.reference.setText(reference)
        self._arrange_top()
        # Spoken: what is still needed, the first thing to do.
        self._spoken = [sections[0][0], *sections[0][1]] if sections else []
        self._sections = list(sections)
        self._brief = brief
        self._lay_out(0)
        self.qr.setPixmap(qr_pixmap(progress_code, 240))
        self.qr_caption.setText(qr_caption)
        self._fit()

    def _lay_out(self, level: int) -> None:
        """The columns at `level` of brevity: 0 the whole lines; 1 the brief ones; from 2 on
        one item fewer each time, the rest counted ("另有 3 项，详见回执")."""
        for col in self.columns:
            _clear_layout(col)
        sections = self._sections
        expected = ""
        if sections:
            title, lines, separate = sections[0]
            if level >= 1 and self._brief:
                lines = list(self._brief)
                title = self.tr("{title}（说明见回执）").format(title=title)
            # Elder mode on a landscape panel: three lines at most from the start.
            limit = 3 if self.theme.elder and not self.theme.portrait else 0
            if level >= 2:
                cap = max(2, len(lines) - (level - 1))
                limit = min(limit, cap) if limit else cap
            if limit and len(lines) > limit:
                more = self.tr("另有 {n} 项，详见回执").format(n=len(lines) - limit + 1)
                lines = [*lines[:limit - 1], more]
            sections = [(title, lines, separate), *sections[1:]]
        if self.theme.elder and sections:
            # Fewer things to read, in larger type: what is still needed and when it will be
            # done. The exempt materials, the other next steps and the whole list are on the
            # printed receipt.
            if len(sections) > 1 and sections[-1][1]:
                expected = sections[-1][1][-1]
            sections = sections[:1]
        for i, (title, lines, separate) in enumerate(sections):
            col = self.columns[1 if i == len(sections) - 1 and i > 0 else 0]
            col.addWidget(label(title, "subtitle"))
            if separate:
                for line in lines:
                    col.addWidget(label("· " + line))
            elif lines:
                col.addWidget(label(self.tr("、").join(lines)))
            col.addSpacing(12)
        if expected:
            self.columns[0].addWidget(label(expected, "ok"))
        for col in self.columns:
            col.addStretch(1)
            _show_all(col)

    def _squeezed(self) -> bool:
        """Whether a text of the columns got less height than its lines need: a layout short
        of height squeezes nothing, it lays the second line of one item over the next."""
        if any(_squeezed(self.layout_, col) for col in self.columns):
            return True
        # The list may fit while the buttons below it give up their height (two-line
        # English labels in elder type on a portrait panel): the list is shortened for them.
        return any(b.isVisibleTo(self) and b.height() < b.minimumSizeHint().height() - 2
                   for b in (self.follow_up_button, self.rate_button, self.done_button))

    def _fit(self) -> None:
        """The longest form of the list that the page holds (eight materials with their notes
        did not, whatever the panel)."""
        if not self._sections or not self.isVisible():
            return
        lines = len(self._sections[0][1])
        last = max(1, lines - 1)  # down to one item and the count of the others
        level = 0
        self._lay_out(level)
        while level < last and self._squeezed():
            level += 1
            self._lay_out(level)

    def entered(self) -> None:
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def show_stored(self, explanation: str) -> None:
        """The backend could not be reached: the application waits on this kiosk."""
        self.clear()
        self.heading.setText(self.tr("申请已暂存"))
        self._spoken = [explanation]
        self.columns[0].addWidget(label(explanation, "notice"))
        self.columns[0].addStretch(1)
        _show_all(self.columns[0])

    def set_print_status(self, text: str) -> None:
        self.print_status.setText(text)

    def offer_follow_up(self, category_title: Bilingual | None) -> None:
        """取号 for the window of `category_title` (None: not offered)."""
        self._follow_up_title = category_title
        self.follow_up_button.setVisible(category_title is not None)
        self.follow_up_button.setEnabled(True)
        self._follow_up_text()

    def _follow_up_text(self) -> None:
        # Short, with where it leads below: it shares a row with two others.
        title = self._follow_up_title
        self.follow_up_button.setText(self.tr("取号") if title is not None else "")
        self.follow_up_button.set_detail(
            self.tr("去“{title}”窗口办理").format(title=title.get(self.language))
            if title is not None else "")

    def set_follow_up_busy(self, busy: bool) -> None:
        self.follow_up_button.setEnabled(not busy)

    def show_follow_up_problem(self, text: str) -> None:
        """No number was given: why, on the page's error line (the printer's, if any, is
        about the receipt, which is out or held by now)."""
        self.set_follow_up_busy(False)
        self.show_print_problem(text)

    def show_print_problem(self, text: str) -> None:
        self.print_problem.setText(text)
        self.print_problem.setVisible(bool(text))
        self._fit()  # the message takes room from the list
        if text:
            self.announced.emit(text, True)

    def clear(self) -> None:
        self.retranslate()
        self._spoken = []
        self._sections = []
        self._brief = None
        for col in self.columns:
            _clear_layout(col)
        self.reference.clear()
        self.qr.clear()
        self.qr_caption.clear()
        self.print_status.clear()
        self.print_problem.clear()
        self.print_problem.hide()
        self.offer_follow_up(None)
