"""The 一件事 receipt: its contents in both languages, and (through the real ESC/POS writer
and renderer) that every shipped bundle's receipt prints readably and stays small."""

import dataclasses
import datetime as dt

import pytest

from kiosk.devtools.escpos_render import render_text
from kiosk.domain.bundles import LICENSE_KINDS, Bundle, load_bundles
from kiosk.domain.printdoc import Cut, KeyValue, Qr, Text
from kiosk.domain.receipt import ReceiptView, receipt_document, receipt_view
from kiosk.domain.wizard import StepKind, Wizard, prefill_values
from kiosk.hardware.printer.escpos_layout import PrinterProfile
from kiosk.hardware.printer.escpos_writer import encode_document
from tests.helpers.paths import BUNDLES_DIR

SHIPPED = load_bundles(BUNDLES_DIR, None).bundles
TODAY = dt.date(2025, 3, 15)
REFERENCE = "YJ2503150042"
CODE = "YW1.C.demo.1742000000.1749776000.Ab3dEf6hIj9k.YJ2503150042." + "s" * 86
CENTERS = {"zh": "浦东新区浦兴路街道社区事务受理服务中心",
           "en": "Puxing Road Community Affairs Acceptance Service Center"}
PROFILE_80 = PrinterProfile()
PROFILE_58 = PrinterProfile(columns=32, paper_dots=384)
MAX_BYTES = 2_500

VALUES = {"phone": "13912345678", "bank_card": "6222021234567890128",
          "id_number": "11010519491231002X", "digits": "200120",
          "other_id_number": "310104195003081173"}


def submitted(bundle: Bundle, licenses: set[str], pick: int) -> Wizard:
    """A wizard run to CONFIRM choosing option `pick` (clamped) wherever eligible."""
    w = Wizard(bundle, today=lambda: TODAY)
    w.identify(licenses=licenses, prefill_values=prefill_values(
        name="欧阳明华", id_number="11010519491231002X", phone="13912345678"))
    while w.current.kind is not StepKind.CONFIRM:
        step = w.current
        if step.kind is StepKind.QUESTION:
            q = bundle.question(step.ref)
            ok = [o for o in q.options if not (o.then and o.then.ineligible)]
            w.answer(q.id, ok[min(pick, len(ok) - 1)].id)
        elif step.kind is StepKind.FIELD:
            f = bundle.form_field(step.ref)
            value = TODAY.strftime("%Y%m%d") if f.kind == "date" else VALUES[f.kind]
            if f.kind == "digits":
                value = value[: f.max_len or len(value)]
            assert w.set_field(f.id, value) is None
            if f.kind == "other_id_number":  # the platform holds what the resident holds
                w.set_person_licenses(f.id, value, licenses)
        w.next()
    assert w.can_submit()
    return w


def view(w: Wizard, language: str) -> ReceiptView:
    return receipt_view(w, center_name=CENTERS[language], reference=REFERENCE,
                        submitted_at=dt.datetime(2025, 3, 15, 9, 41), progress_code=CODE,
                        language=language)


def squash(text: str) -> str:
    # The printer wraps long lines; compare words regardless of where lines break.
    return "".join(text.split())


CASES = [(b, lang, lic, pick) for b in SHIPPED for lang in ("zh", "en")
         for lic in ("none", "all") for pick in (0, 9)]


@pytest.mark.parametrize(("bundle", "language", "licenses", "pick"), CASES,
                         ids=lambda v: v.id if isinstance(v, Bundle) else str(v))
def test_every_bundle_receipt_prints(bundle, language, licenses, pick):
    w = submitted(bundle, set(LICENSE_KINDS) if licenses == "all" else set(), pick)
    r = view(w, language)
    doc = receipt_document(r)
    for profile in (PROFILE_80, PROFILE_58):
        data = encode_document(doc, profile)
        assert len(data) <= MAX_BYTES, (bundle.id, language, profile.columns, len(data))
        text = render_text(data, columns=profile.columns).text
        flat = squash(text)
        assert REFERENCE in flat
        assert squash(bundle.title.get(language)) in flat
        for m in w.to_bring():
            assert squash(m.title.get(language)) in flat, m.id
        for m in w.exempt():
            assert squash(m.title.get(language)) in flat, m.id
        assert "欧阳明华" not in text and "欧阳**" in text
        # Another person's ID number (the deceased's) is never on paper, whole or masked.
        other = VALUES["other_id_number"]
        assert other not in flat and other[-4:] not in flat
        assert "[QR] " + CODE in text
        # Fits the paper: no line wider than the columns (Hanzi count two cells).
        for line in text.splitlines():
            if not line.startswith("[QR]"):
                cells = sum(2 if ord(c) > 0x2E80 else 1 for c in line)
                assert cells <= profile.columns, line


def sample_view(**changes) -> ReceiptView:
    base = ReceiptView(
        center_name="测试中心", bundle_title="退休一件事", reference=REFERENCE,
        submitted_at=dt.datetime(2025, 3, 15, 9, 41), masked_name="张**",
        to_bring=("劳动能力鉴定结论书：劳动能力鉴定委员会出具",),
        exempt=("居民身份证", "社会保障卡"), next_steps=("人社部门审核退休条件",),
        processing_days=15, progress_code=CODE, language="zh")
    return dataclasses.replace(base, **changes)


def texts(doc) -> list[str]:
    return [b.text for b in doc.blocks if isinstance(b, Text)]


def test_chinese_receipt_contents():
    doc = receipt_document(sample_view())
    words = texts(doc)
    assert "一件事办理回执" in words and "还需提交的材料" in words
    assert "1. 劳动能力鉴定结论书：劳动能力鉴定委员会出具" in words
    assert "已免于提交（电子证照）" in words and "- 居民身份证" in words
    assert "预计办结时间 15 个工作日" in words
    assert "请在本机「办件查询」扫描此码查看办理进度" in words  # a signed code: no phone page
    assert any("示例" in t and "不构成法律意见" in t for t in words)
    ref = next(b for b in doc.blocks if isinstance(b, Text) and b.text == REFERENCE)
    assert ref.bold and ref.width == 2 and ref.height == 2
    assert KeyValue("申请人", "张**") in doc.blocks
    assert next(b for b in doc.blocks if isinstance(b, Qr)).data == CODE
    assert isinstance(doc.blocks[-1], Cut) and doc.kind == "bundle_receipt"


def test_everything_exempt():
    words = texts(receipt_document(sample_view(to_bring=())))
    assert "所需材料均已免于提交" in words and "还需提交的材料" not in words


def test_english_receipt_contents():
    words = texts(receipt_document(sample_view(language="en", processing_days=1)))
    assert "One-Stop Application Receipt" in words
    assert "Expected processing time: 1 working day" in words
    assert any("not legal advice" in t for t in words)
    words = texts(receipt_document(sample_view(language="en", to_bring=(), exempt=())))
    assert "All materials are exempt from submission" in words
    assert "Exempt (electronic licenses)" not in words


def test_same_day_and_long_reference():
    doc = receipt_document(sample_view(processing_days=0, reference="R" * 20, masked_name=""))
    assert "预计当场办结" in texts(doc)
    ref = next(b for b in doc.blocks if isinstance(b, Text) and b.text == "R" * 20)
    assert ref.width == 1  # double width would not fit 58 mm paper
    assert not any(isinstance(b, KeyValue) and b.label == "申请人" for b in doc.blocks)


def test_progress_code_must_be_ascii():
    with pytest.raises(ValueError, match="ASCII"):
        sample_view(progress_code="办件C0001")


def test_receipt_view_from_a_wizard():
    bundle = next(b for b in SHIPPED if b.id == "retirement")
    w = submitted(bundle, {"id_card"}, 0)
    r = view(w, "zh")
    assert r.bundle_title == "退休一件事" and r.masked_name == "欧阳**"
    assert r.exempt == ("居民身份证",)
    assert r.to_bring[0] == "居民户口簿" and r.processing_days == bundle.processing_days
    assert r.next_steps == tuple(s.zh for s in bundle.next_steps)
