"""The modules of a QR code, for every place that draws one: the ticket card on screen, the
printer's raster mode and its size check, the emulated camera's phone scenes and the
developer tools' ESC/POS renderer.

One function, so that every drawing of the same text at the same settings is the same code.
Callers differ only in the settings they pass (a printed code keeps the standard quiet zone,
the screen a narrower one and a fixed mask); whoever needs a cache keeps their own, because
what may stay in memory (a resident's code) is the caller's decision.
"""

from __future__ import annotations

#: Rows of modules, top to bottom; True is a dark module. The quiet zone is included.
QrMatrix = tuple[tuple[bool, ...], ...]

#: The quiet zone the QR standard asks for, in modules.
STANDARD_BORDER = 4


def qr_matrix(data: str | bytes, *, ec_level: str = "M", border: int = STANDARD_BORDER,
              mask_pattern: int | None = None) -> QrMatrix:
    """The modules of the QR code for `data` (text is encoded as UTF-8), with `border` light
    modules on every side and error correction `ec_level` ("L", "M", "Q" or "H").

    `mask_pattern` None lets the encoder try all eight masks and keep the best; a fixed one
    (0-7) skips that search, which is most of the encoding time, and any mask reads fine
    from a lit screen. Pure Python and slow enough that callers on the GUI thread compute
    it ahead on a worker thread (see docs/PERFORMANCE.md).
    """
    # Imported here: qrcode brings PIL with it, and a kiosk showing Home needs neither.
    import qrcode
    import qrcode.constants

    levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
              "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
    if ec_level not in levels:
        raise ValueError(f"QR error correction must be L, M, Q or H, not {ec_level!r}")
    code = qrcode.QRCode(error_correction=levels[ec_level], border=border,
                         mask_pattern=mask_pattern)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(bool(dark) for dark in row) for row in code.get_matrix())
