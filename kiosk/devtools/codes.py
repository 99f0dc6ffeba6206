"""Development tools: codes for fictional residents that a person can hold to a camera."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_OK
from kiosk.domain import payloads

VARIANTS = ("valid", "expired", "future", "bad-signature", "wrong-kind", "garbage")


def code_text(
    key: Ed25519PrivateKey,
    key_id: str,
    resident: str,
    variant: str = "valid",
    *,
    now: float | None = None,
    lifetime_s: int = 60,
) -> str:
    """The text of a personal code, valid or broken in one named way (for tests)."""
    t = int(time.time() if now is None else now)
    if variant == "garbage":
        return "HELLO-THIS-IS-NOT-A-SUISHENMA-0123456789"
    if variant == "expired":
        return payloads.sign(key, key_id, payloads.Kind.RESIDENT, resident,
                             issued_at=t - 3600, lifetime_s=lifetime_s)
    if variant == "future":
        return payloads.sign(key, key_id, payloads.Kind.RESIDENT, resident,
                             issued_at=t + 3600, lifetime_s=lifetime_s)
    if variant == "wrong-kind":
        return payloads.sign(key, key_id, payloads.Kind.TICKET, resident, issued_at=t,
                             lifetime_s=lifetime_s)
    text = payloads.sign(key, key_id, payloads.Kind.RESIDENT, resident, issued_at=t,
                         lifetime_s=lifetime_s)
    if variant == "bad-signature":
        # Flip one character of the signature: still well-formed, no longer authentic.
        last = text[-2]
        text = text[:-2] + ("A" if last != "A" else "B") + text[-1]
    return text


def make_code(
    *,
    resident: str,
    out: Path,
    key_file: Path,
    key_id: str,
    variant: str,
    lifetime_s: int,
) -> int:
    from kiosk.hardware.camera.qrimage import save_qr_png

    try:
        key = payloads.load_private_key(key_file.read_bytes())
    except (OSError, ValueError) as e:
        print(f"make-code: cannot read key {key_file}: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        text = code_text(key, key_id, resident, variant, lifetime_s=lifetime_s)
    except ValueError as e:
        print(f"make-code: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    caption = f"演示随申码 {resident} ({variant}) — 有效 {lifetime_s} 秒"
    save_qr_png(text, out, caption=caption)
    print(f"make-code: wrote {out} ({variant}, {len(text)} characters)")
    return EXIT_OK
