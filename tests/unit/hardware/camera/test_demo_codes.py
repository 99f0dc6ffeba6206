"""Demo codes cross to the scan worker by pickling, without their signing key."""

from __future__ import annotations

import pickle
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.domain import payloads
from kiosk.hardware.camera.demo_codes import DemoCodes


def test_demo_codes_travel_without_their_key(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    key_file = tmp_path / "demo.pem"
    key_file.write_bytes(payloads.private_key_pem(key))
    codes = DemoCodes(key_file, "demo", "R0001").load()
    data = pickle.dumps(codes)
    assert b"PRIVATE KEY" not in data and payloads.private_key_pem(key) not in data
    copy = pickle.loads(data)
    verifier = payloads.Verifier(
        payloads.load_public_keys({"demo": payloads.public_key_b64(key)}),
        max_age_s=300, clock_skew_s=30)
    for text in (codes(), copy()):
        assert verifier.verify(text, payloads.Kind.RESIDENT).reference == "R0001"
