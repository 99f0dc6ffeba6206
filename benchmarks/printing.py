"""Bytes on the wire: our native ESC/POS ticket and bundle receipt against the same
documents rendered as one raster image (the anchor), 58 and 80 mm.

    python benchmarks/printing.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kiosk.domain.bundles import load_bundles
from kiosk.domain.receipt import receipt_view
from kiosk.domain.ticket import TicketView, ticket_document
from kiosk.domain.wizard import StepKind, Wizard, prefill_values
from kiosk.hardware.printer.escpos_layout import PrinterProfile
from kiosk.hardware.printer.escpos_writer import encode_document
from kiosk.hardware.printer.raster import encode_raster_document

ROOT = Path(__file__).resolve().parents[1]
CODE = "YW1.T.kiosk-emb.1795346141.1795363200.uFfxFOFeXoyT.TCEZKERHY2G45." + "A" * 86


def ticket() -> TicketView:
    return TicketView("徐汇区示范街道社区事务受理服务中心", "YA012", "社保", "age", 7, 19,
                      dt.datetime(2026, 11, 22, 10, 30), "李**", CODE)


def biggest_receipt():
    """The receipt with the most lines: every shipped bundle, nothing exempt."""
    ids = {"social_security", "medical_insurance", "civil_affairs", "household",
           "housing_fund", "residence_permit", "other"}
    best = None
    for bundle in load_bundles(ROOT / "config" / "bundles", ids).bundles:
        w = Wizard(bundle, today=lambda: dt.date(2026, 11, 22))
        w.identify(licenses=set(), prefill_values=prefill_values(name="李秀英"))
        for _ in range(60):
            step = w.current
            if step.kind is StepKind.QUESTION:
                q = bundle.question(step.ref)
                w.answer(q.id, next(o.id for o in q.options
                                    if not (o.then and o.then.ineligible)))
            elif step.kind is StepKind.CONFIRM:
                break
            w.next()
        view = receipt_view(w, center_name="徐汇区示范街道社区事务受理服务中心",
                            reference="YW20261122000123",
                            submitted_at=dt.datetime(2026, 11, 22, 10, 30),
                            progress_code=CODE.replace(".T.", ".C."))
        size = len(view.to_bring) + len(view.next_steps)
        if best is None or size > best[0]:
            best = (size, view, bundle.id)
    assert best is not None
    return best[1], best[2]


def main() -> None:
    from kiosk.domain.receipt import receipt_document

    receipt, bundle_id = biggest_receipt()
    for mm, profile in ((80, PrinterProfile()),
                        (58, PrinterProfile(columns=32, paper_dots=384))):
        t_native = len(encode_document(ticket_document(ticket()), profile))
        t_raster = len(encode_raster_document(ticket_document(ticket()), profile))
        r_native = len(encode_document(receipt_document(receipt), profile))
        r_raster = len(encode_raster_document(receipt_document(receipt), profile))
        print(f"{mm} mm: ticket {t_native} B native vs {t_raster} B raster "
              f"(ratio {t_native / t_raster:.3f}); receipt ({bundle_id}) {r_native} B native "
              f"vs {r_raster} B raster (ratio {r_native / r_raster:.3f})")
    print("reproduce: python benchmarks/printing.py")


if __name__ == "__main__":
    main()
