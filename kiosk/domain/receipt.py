"""The 一件事 receipt (回执): what the resident takes home after submitting a bundle.

最多跑一次: the receipt says exactly what is still to be handed in, what the electronic
licenses already cover, what happens next and when, and carries a QR code to follow the
application. Like the ticket, one `ReceiptView` feeds the screen and the paper, and it holds
only masked personal data. The layout fits 58 mm (32 cells) and 80 mm (48 cells) paper and
stays a few hundred bytes of native ESC/POS text.

API::

    @dataclass(frozen=True) class ReceiptView: center_name, bundle_title, reference,
        submitted_at, masked_name, to_bring, exempt, next_steps, processing_days,
        progress_code, language
    receipt_view(wizard, *, center_name, reference, submitted_at, progress_code,
                 language) -> ReceiptView
    receipt_document(r: ReceiptView) -> PrintDocument
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.domain.bundles import Material
from kiosk.domain.hall_links import is_web_address
from kiosk.domain.printdoc import Align, Cut, Feed, KeyValue, PrintDocument, Qr, Rule, Text
from kiosk.domain.wizard import Wizard


@dataclass(frozen=True)
class ReceiptView:
    center_name: str
    bundle_title: str
    reference: str  # 办件编号, ASCII
    submitted_at: dt.datetime
    masked_name: str  # already masked (mask_name); "" to leave the line out
    to_bring: tuple[str, ...]  # localized material titles (with their notes)
    exempt: tuple[str, ...]  # localized titles of materials covered by electronic licenses
    next_steps: tuple[str, ...]
    processing_days: int
    # For the QR code: a hall's public link (<public_url>/a/<public id>, a phone opens it),
    # or the embedded backend's signed receipt payload (payloads.Kind.RECEIPT), which only
    # this kiosk's 办件查询 reads.
    progress_code: str
    language: str = "zh"

    def __post_init__(self) -> None:
        # QR readers guess the encoding of non-ASCII bytes wrongly (see payloads.py).
        if not self.progress_code.isascii():
            raise ValueError("progress_code must be ASCII")
        if self.processing_days < 0:
            raise ValueError("processing_days must be >= 0")


_TEXT = {
    "zh": {
        "title": "一件事办理回执",
        "reference": "办件编号",
        "name": "申请人",
        "time": "提交时间",
        "bring": "还需提交的材料",
        "bring_none": "所需材料均已免于提交",
        "bring_where": "请携带以上材料原件，到任一社区事务受理服务中心综合窗口提交（全市通办）",
        "exempt": "已免于提交（电子证照）",
        "next": "后续步骤",
        "days": "预计办结时间 {n} 个工作日",
        "days_0": "预计当场办结",
        # The same words as on screen (kiosk/ui/messages.py, receipt_code_caption).
        "scan_phone": "用手机扫码查看办理进度",
        "scan_here": "请在本机「办件查询」扫描此码查看办理进度",
        "small": "本机所列一件事内容为示例，供各中心按实际调整，不构成法律意见；"
        "以各部门审核结果为准。",
        "note_sep": "：",
    },
    "en": {
        "title": "One-Stop Application Receipt",
        "reference": "Reference No.",
        "name": "Applicant",
        "time": "Submitted",
        "bring": "Still to hand in",
        "bring_none": "All materials are exempt from submission",
        "bring_where": "Bring the originals to the comprehensive window of any community "
        "affairs center in Shanghai.",
        "exempt": "Exempt (electronic licenses)",
        "next": "Next steps",
        "days": "Expected processing time: {n} working days",
        "days_1": "Expected processing time: 1 working day",
        "days_0": "Expected to be completed on the spot",
        "scan_phone": "Scan with your phone to follow your application",
        "scan_here": 'Scan this code at "Check progress" on this kiosk',
        "small": "The bundles on this kiosk are examples for centers to adapt, not legal "
        "advice; the departments' review decides.",
        "note_sep": ": ",
    },
}

_BIG_REFERENCE_MAX = 15  # double width still fits 58 mm paper (32 cells / 2, one spare)


def _strings(language: str) -> dict[str, str]:
    return _TEXT.get(language, _TEXT["zh"])


def _material_line(m: Material, language: str) -> str:
    title = m.title.get(language)
    if m.note is None:
        return title
    return title + _strings(language)["note_sep"] + m.note.get(language)


def receipt_view(
    wizard: Wizard,
    *,
    center_name: str,
    reference: str,
    submitted_at: dt.datetime,
    progress_code: str,
    language: str = "zh",
) -> ReceiptView:
    """The receipt of a submitted wizard: its path's materials, its masked name."""
    bundle = wizard.bundle
    return ReceiptView(
        center_name=center_name,
        bundle_title=bundle.title.get(language),
        reference=reference,
        submitted_at=submitted_at,
        masked_name=wizard.masked_name,
        to_bring=tuple(_material_line(m, language) for m in wizard.to_bring()),
        exempt=tuple(m.title.get(language) for m in wizard.exempt()),
        next_steps=tuple(s.get(language) for s in bundle.next_steps),
        processing_days=bundle.processing_days,
        progress_code=progress_code,
        language=language,
    )


def _days_line(r: ReceiptView) -> str:
    s = _strings(r.language)
    if r.processing_days == 0:
        return s["days_0"]
    if r.processing_days == 1 and "days_1" in s:
        return s["days_1"]
    return s["days"].format(n=r.processing_days)


def receipt_document(r: ReceiptView) -> PrintDocument:
    s = _strings(r.language)
    doc = PrintDocument(kind="bundle_receipt", language=r.language)
    doc.add(
        Text(r.center_name, Align.CENTER, bold=True),
        Text(s["title"], Align.CENTER),
        Text(r.bundle_title, Align.CENTER, bold=True, height=2),
        Rule(),
        Text(s["reference"], Align.CENTER),
        Text(r.reference, Align.CENTER, bold=True, height=2,
             width=2 if len(r.reference) <= _BIG_REFERENCE_MAX else 1),
        Rule(),
    )
    if r.masked_name:
        doc.add(KeyValue(s["name"], r.masked_name))
    doc.add(KeyValue(s["time"], r.submitted_at.strftime("%Y-%m-%d %H:%M")),
            Text(_days_line(r), bold=True), Rule())
    if r.to_bring:
        doc.add(Text(s["bring"], bold=True))
        doc.add(*(Text(f"{i}. {line}") for i, line in enumerate(r.to_bring, start=1)))
        doc.add(Text(s["bring_where"]))
    else:
        doc.add(Text(s["bring_none"], bold=True))
    if r.exempt:
        doc.add(Feed(1), Text(s["exempt"], bold=True))
        doc.add(*(Text(f"- {title}") for title in r.exempt))
    if r.next_steps:
        doc.add(Rule(), Text(s["next"], bold=True))
        doc.add(*(Text(f"{i}. {line}") for i, line in enumerate(r.next_steps, start=1)))
    doc.add(
        Feed(1),
        Qr(r.progress_code, module_size=5, ec_level="M"),
        Text(s["scan_phone" if is_web_address(r.progress_code) else "scan_here"], Align.CENTER),
        Rule(),
        Text(s["small"]),
        Cut(),
    )
    return doc
