"""The commands a technician or reviewer types, run as real processes."""

from __future__ import annotations

import subprocess
import sys

import zxingcpp
from escpos.printer import Dummy
from PIL import Image

from kiosk.config.loader import load_config
from kiosk.domain import payloads
from tests.helpers.paths import BUNDLES_DIR, CATALOG_FILE, REPO_ROOT, SHIPPED_CONFIG

CONFIG = SHIPPED_CONFIG


def kiosk(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO_ROOT)


def test_receipt_render_reads_a_python_escpos_stream(tmp_path):
    p = Dummy()
    p.set(align="center", bold=True, double_height=True)
    p.text("TICKET A012\n")
    p.set(align="left")
    p.text("社保 前面等候 3 人\n")  # python-escpos sends GB18030 without FS &
    p.qr("YW1.T.demo.1.2.nonce1234567.T1", native=True, size=6)
    p.ln(2)  # the quiet zone a reader needs, on paper as on the PNG
    logo = Image.new("1", (64, 32), 1)
    logo.paste(0, (8, 8, 56, 24))
    p.image(logo)
    p.cut()
    stream = tmp_path / "escpos.bin"
    stream.write_bytes(p.output)
    text = kiosk("receipt-render", str(stream), "--text")
    assert text.returncode == 0, text.stderr
    assert "TICKET A012" in text.stdout and "社保 前面等候 3 人" in text.stdout
    assert "[QR] YW1.T.demo.1.2.nonce1234567.T1" in text.stdout
    png = tmp_path / "paper.png"
    drawn = kiosk("receipt-render", str(stream), "-o", str(png))
    assert drawn.returncode == 0, drawn.stderr
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(png).convert("L"))]
    assert found == ["YW1.T.demo.1.2.nonce1234567.T1"]


def test_receipt_render_reports_unknown_commands_and_bad_files(tmp_path):
    stream = tmp_path / "odd.bin"
    stream.write_bytes(b"\x1b@hello\n\x1b\x99\x01world\n\x1d")
    out = kiosk("receipt-render", str(stream), "--text")
    assert out.returncode == 0
    assert "hello" in out.stdout and "world" in out.stdout
    assert "unknown command" in out.stderr and "Traceback" not in out.stderr
    missing = kiosk("receipt-render", str(tmp_path / "none.bin"), "--text")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_make_code_renders_a_code_the_kiosk_accepts(tmp_path):
    png = tmp_path / "code.png"
    made = kiosk("make-code", "--resident", "R0002", "-o", str(png))
    assert made.returncode == 0, made.stderr
    [text] = [r.text for r in zxingcpp.read_barcodes(Image.open(png).convert("L"))]
    keys = payloads.load_public_keys(load_config(CONFIG).qr.public_keys)
    payload = payloads.Verifier(keys).verify(text, payloads.Kind.RESIDENT)
    assert payload.reference == "R0002"
    expired = tmp_path / "expired.png"
    made = kiosk("make-code", "--resident", "R0002", "--expired", "-o", str(expired))
    assert made.returncode == 0, made.stderr
    [old] = [r.text for r in zxingcpp.read_barcodes(Image.open(expired).convert("L"))]
    try:
        payloads.Verifier(keys).verify(old, payloads.Kind.RESIDENT)
    except payloads.PayloadRefused as refused:
        assert refused.problem is payloads.PayloadProblem.EXPIRED
    else:
        raise AssertionError("an expired code was accepted")


def test_demo_writes_every_screen_and_the_tickets(tmp_path):
    out = tmp_path / "demo"
    run = kiosk("demo", "--out", str(out), "--orientation", "portrait", timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    screens = sorted(out.glob("portrait-*.png"))
    names = " ".join(p.name for p in screens)
    for step in ("home", "scan", "category", "ticket", "expired-code", "idle-countdown"):
        assert step in names, step
    for shot in screens:
        if "paper" not in shot.name:
            with Image.open(shot) as image:  # reads only the header: the file stays open
                assert image.size == (1080, 1920), shot.name
    for step in ("bundle-list", "intro", "identify", "question", "materials", "review",
                 "field", "confirm", "bundle-result", "rating", "query-result",
                 "checkin-too-late", "help"):
        assert step in names, step
    bins = sorted(out.glob("*.bin"))
    assert len(bins) == 4  # three tickets and a bundle receipt
    for b in bins:
        limit = 2500 if "receipt" in b.name else 1500
        assert len(b.read_bytes()) < limit
        paper = b.with_name(b.stem + "-paper.png")
        assert [r.text for r in zxingcpp.read_barcodes(Image.open(paper).convert("L"))]


def test_check_bundles_reports_broken_files(tmp_path):
    ok = kiosk("check-bundles", str(BUNDLES_DIR))
    assert ok.returncode == 0 and "OK: 6 bundles" in ok.stdout
    folder = tmp_path / "bundles"
    folder.mkdir()
    (folder / "broken.yaml").write_text("id: broken\ntitle: {zh: 坏, en: bad}\nfoo: 1\n", "utf-8")
    bad = kiosk("check-bundles", str(folder), "--catalog", str(CATALOG_FILE))
    assert bad.returncode == 2
    assert "broken.yaml" in bad.stderr + bad.stdout and "foo" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr
