"""What a resident holds after printing: the ESC/POS bytes read back as text and QR codes."""

from __future__ import annotations

from dataclasses import dataclass

import zxingcpp
from PIL import Image

from kiosk.devtools.escpos_render import render_png, render_text


@dataclass
class Printed:
    data: bytes
    text: str
    qr_texts: list[str]


def read_printout(data: bytes, paper_dots: int = 576, columns: int = 48) -> Printed:
    """What the resident holds: the bytes rendered to text, and the QR decoded from the image."""
    text = render_text(data, columns=columns).text
    image: Image.Image = render_png(data, paper_dots=paper_dots)
    qr_texts = [r.text for r in zxingcpp.read_barcodes(image.convert("L"))]
    return Printed(data, text, qr_texts)
