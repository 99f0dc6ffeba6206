"""What the paper says under its QR code, on a ticket (and on a 一件事 receipt): a hall's
link opens a page on the resident's phone ("用手机扫码…"); the embedded backend's signed
code is read only by this kiosk's 办件查询, so its paper says that and promises no phone
page. Checked on the paper itself (the real ESC/POS writer, rendered back to text, the QR
code decoded from the picture), on 80 mm and 58 mm, in both languages; an English paper
stays ASCII."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from kiosk.domain.printdoc import Text
from kiosk.domain.receipt import ReceiptView, receipt_document
from kiosk.domain.ticket import TicketView, ticket_document
from kiosk.hardware.printer.escpos_layout import PrinterProfile
from kiosk.hardware.printer.escpos_writer import encode_document
from tests.helpers.printout import read_printout

SIGNED_TICKET = "YW1.T.demo.1765072800.1765123200.Ab3dEf6hIj9k.TABCDEFGHIJKL." + "s" * 86
SIGNED_RECEIPT = "YW1.C.demo.1765072800.1765123200.Ab3dEf6hIj9k.YW20261207000001." + "s" * 86
TICKET_LINK = "https://hall.example/t/tk_8dF3kQ2mZp9xW1vBq7Lm"
RECEIPT_LINK = "https://hall.example/a/ap-Xy7Qm2Lk9Pz4Rt8W"
PAPERS = {"80": PrinterProfile(), "58": PrinterProfile(columns=32, paper_dots=384)}

CAPTIONS = {
    ("ticket", "zh", True): "用手机扫码查看排队进度",
    ("ticket", "zh", False): "请在本机「办件查询」扫描此码查看进度",
    ("ticket", "en", True): "Scan with your phone to follow the queue",
    ("ticket", "en", False): 'Scan this code at "Check progress" on this kiosk',
    ("receipt", "zh", True): "用手机扫码查看办理进度",
    ("receipt", "zh", False): "请在本机「办件查询」扫描此码查看办理进度",
    ("receipt", "en", True): "Scan with your phone to follow your application",
    ("receipt", "en", False): 'Scan this code at "Check progress" on this kiosk',
}
PHONE_WORDS = ("手机", "phone")


def ticket(code: str, language: str) -> TicketView:
    return TicketView(
        center_name="示范中心" if language == "zh" else "Demo Center", number="A012",
        category_title="社保" if language == "zh" else "Social security", priority_reason="",
        ahead=3, estimated_wait_min=24, issued_at=dt.datetime(2026, 12, 7, 10, 0),
        masked_name="", tracking_code=code, language=language)


def receipt(code: str, language: str) -> ReceiptView:
    return ReceiptView(
        center_name="示范中心" if language == "zh" else "Demo Center",
        bundle_title="退休一件事" if language == "zh" else "Retirement",
        reference="YW20261207000001", submitted_at=dt.datetime(2026, 12, 7, 10, 5),
        masked_name="", to_bring=(), exempt=(), next_steps=(), processing_days=5,
        progress_code=code, language=language)


def document(what: str, code: str, language: str):
    if what == "ticket":
        return ticket_document(ticket(code, language))
    return receipt_document(receipt(code, language))


def flat(text: str) -> str:
    """Paper text with its line breaks and the spaces around them gone (a caption wraps)."""
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("paper", sorted(PAPERS))
@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("what, link, signed", [
    ("ticket", TICKET_LINK, SIGNED_TICKET), ("receipt", RECEIPT_LINK, SIGNED_RECEIPT)])
def test_the_paper_says_what_its_code_is_for(what, link, signed, language, paper):
    profile = PAPERS[paper]
    for code, is_link in ((link, True), (signed, False)):
        doc = document(what, code, language)
        printed = read_printout(encode_document(doc, profile), paper_dots=profile.paper_dots,
                                columns=profile.columns)
        caption = CAPTIONS[(what, language, is_link)]
        assert flat(caption) in flat(printed.text), printed.text
        other = CAPTIONS[(what, language, not is_link)]
        assert flat(other) not in flat(printed.text)
        # The code on paper is the one the backend gave: a phone opens the link.
        assert printed.qr_texts == [code]
        promises_a_phone = any(w in caption for w in PHONE_WORDS)
        assert promises_a_phone is is_link
        if language == "en":
            words = [b.text for b in doc.blocks if isinstance(b, Text)]
            assert all(w.isascii() for w in words), words


def test_a_ticket_issued_offline_has_no_code_and_no_caption():
    doc = ticket_document(dataclasses.replace(ticket("", "zh"), offline=True))
    words = [b.text for b in doc.blocks if isinstance(b, Text)]
    assert not any(c in words for c in CAPTIONS.values())
