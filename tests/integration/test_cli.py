"""The commands a technician or reviewer types, run as real processes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import tomlkit
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from escpos.printer import Dummy
from PIL import Image

from kiosk.config.loader import load_config
from kiosk.domain import payloads
from tests.helpers.escpos_peers import pty_printer, refused_port, tcp_printer
from tests.helpers.paths import BUNDLES_DIR, CATALOG_FILE, CONFIG_DIR, REPO_ROOT, SHIPPED_CONFIG
from tests.helpers.waits import HANG_GUARD_MS, HANG_GUARD_S
from tests.unit.delivery.fake_hall import TOKEN, FakeHall, tls_context
from tests.unit.delivery.test_http_client_tls import ThrowawayCA

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
    assert len(bins) == 5  # four tickets (one for an ID card) and a bundle receipt
    for b in bins:
        limit = 2500 if "receipt" in b.name else 1500
        assert len(b.read_bytes()) < limit
        paper = b.with_name(b.stem + "-paper.png")
        assert [r.text for r in zxingcpp.read_barcodes(Image.open(paper).convert("L"))]


def test_check_bundles_reports_broken_files(tmp_path):
    ok = kiosk("check-bundles", str(BUNDLES_DIR))
    assert ok.returncode == 0 and "OK: 7 bundles" in ok.stdout
    folder = tmp_path / "bundles"
    folder.mkdir()
    (folder / "broken.yaml").write_text("id: broken\ntitle: {zh: 坏, en: bad}\nfoo: 1\n", "utf-8")
    bad = kiosk("check-bundles", str(folder), "--catalog", str(CATALOG_FILE))
    assert bad.returncode == 2
    assert "broken.yaml" in bad.stderr + bad.stdout and "foo" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr
    # The bundle authors' reference, not the technicians' config reference.
    assert "docs/BUNDLES.md" in bad.stderr and "docs/CONFIG.md" not in bad.stderr


# --------------------------------------------------------------------------- check-config
# What a technician types before leaving a terminal: plain check-config reads every file the
# kiosk reads (config, catalog, each bundle); --devices opens every device and the backend.


def check_config(config: Path, *extra: str, cwd: Path = REPO_ROOT
                 ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", "check-config", str(config), *extra],
                          capture_output=True, text=True, timeout=HANG_GUARD_S * 2, cwd=cwd)


def terminal_config(tmp_path: Path, **tables: dict[str, object]) -> Path:
    """The shipped config folder made a terminal's (the platform's signing key trusted, no
    demo key), with `tables` replacing whole tables of its kiosk.toml."""
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder)
    path = folder / "kiosk.toml"
    doc = tomlkit.parse(path.read_text("utf-8"))
    qr = doc["qr"]
    assert isinstance(qr, dict)
    del qr["demo_signing_key"]
    qr["public_keys"] = {"platform": payloads.public_key_b64(Ed25519PrivateKey.generate())}
    doc["camera"] = {"kind": "emulated", "source": "blank"}
    for name, table in tables.items():
        doc[name] = table
    path.write_text(tomlkit.dumps(doc), "utf-8")
    return path


def device_line(proc: subprocess.CompletedProcess[str], device: str) -> str:
    [line] = [x.strip() for x in (proc.stdout + proc.stderr).splitlines()
              if x.strip().startswith(f"{device} (")]
    return line


def test_check_config_names_every_broken_bundle_file(tmp_path):
    """Both files used to be skipped at start while check-config said OK."""
    config = terminal_config(tmp_path)
    bundles = config.parent / "bundles"
    birth = bundles / "birth.yaml"
    text = birth.read_text("utf-8")
    assert "\norder: 20\n" in text
    # A colon in unquoted text, YAML's commonest trap.
    birth.write_text(text.replace("\norder: 20\n", "\norder: 20 排序: 靠前\n", 1), "utf-8")
    retirement = bundles / "retirement.yaml"
    text = retirement.read_text("utf-8")
    assert "\nticket_category: " in text
    retirement.write_text(re.sub(r"\nticket_category: \S+", "\nticket_category: pensions", text),
                          "utf-8")
    proc = check_config(config)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "OK" not in proc.stdout
    err = proc.stderr
    assert f"{birth}: 1 problem(s)" in err and "YAML syntax error at line" in err
    assert f"{retirement}: 1 problem(s)" in err
    assert "ticket_category: unknown service category 'pensions', expected one of" in err
    assert "2 bundle file(s) broken: the kiosk starts, but residents are not offered them" in err
    assert "Traceback" not in err


def test_check_config_reports_bundles_with_the_config_and_catalog_all_at_once(tmp_path):
    config = terminal_config(tmp_path, center={"hotline": ""})
    catalog = config.parent / "catalog.yaml"
    text = catalog.read_text("utf-8")
    catalog.write_text(text.replace("prefix: B", "prefix: A", 1)
                       .replace("minutes_per_ticket: 8", "minutes_per_ticket: 0", 1), "utf-8")
    (config.parent / "bundles" / "broken.yaml").write_text("id: broken\nfoo: [\n", "utf-8")
    proc = check_config(config)
    assert proc.returncode == 2
    err = proc.stderr
    assert "center.hotline: expected the telephone number residents may call" in err
    assert "minutes_per_ticket: Input should be greater than 0" in err
    assert "categories: duplicate prefix A (each category needs its own prefix)" in err
    assert "broken.yaml: 1 problem(s)" in err


@pytest.mark.parametrize(("printer", "ok", "says"), [
    ("ready", True, "connected; the printer reports it is ready"),
    ("silent", False, "connected, but the printer does not answer status queries (DLE EOT)"),
    ("silent, realtime_status = false", True,
     "connected; its status is not asked (realtime_status = false), so the kiosk cannot know "
     "when the paper runs out"),
    ("refused", False, "nothing listens on 127.0.0.1:{port} (connection refused)"),
    ("unknown host", False, "host 'printer.invalid' does not resolve"),
])
def test_check_config_devices_opens_the_network_printer(tmp_path, printer, ok, says):
    with tcp_printer(answers=printer == "ready") as peer:
        port = refused_port() if printer == "refused" else peer.port
        host = "printer.invalid" if printer == "unknown host" else "127.0.0.1"
        table: dict[str, object] = {"kind": "network", "host": host, "port": port,
                                    "timeout_s": 2.0}
        if "realtime_status" in printer:
            table["realtime_status"] = False
        config = terminal_config(tmp_path, printer=table)
        plain = check_config(config)
        assert plain.returncode == 0, plain.stderr  # the file is right: only opening tells
        proc = check_config(config, "--devices", "--timeout", "3")
        line = device_line(proc, "printer")
        assert line.startswith(f"printer (network {host}:{port}): {'OK' if ok else 'PROBLEM'}: ")
        assert says.format(port=port) in line
        assert proc.returncode == (0 if ok else 1), proc.stdout + proc.stderr
        if not ok:
            assert "not working (printer)" in proc.stderr
        # Asked for its status at most: not a byte of paper used by a check.
        assert peer.data().replace(b"\x10\x04\x01", b"").replace(b"\x10\x04\x02", b"") \
            .replace(b"\x10\x04\x04", b"") == b""


@pytest.mark.parametrize(("printer", "ok", "says"), [
    ("ready", True, "connected; the printer reports it is ready"),
    ("silent", False, "does not answer status queries"),
    ("missing", False, "serial port /dev/ttyNOPE0 does not exist"),
])
def test_check_config_devices_opens_the_serial_printer(tmp_path, printer, ok, says):
    with pty_printer(answers=printer == "ready") as peer:
        port = "/dev/ttyNOPE0" if printer == "missing" else peer.port
        config = terminal_config(tmp_path, printer={"kind": "serial", "port": port,
                                                    "baudrate": 115200, "timeout_s": 2.0})
        proc = check_config(config, "--devices")
        line = device_line(proc, "printer")
        assert line.startswith(f"printer (serial {port}, 115200 baud): "
                               f"{'OK' if ok else 'PROBLEM'}: "), line
        assert says in line
        # A missing port is also a mistake in the file (exit 2), as `kiosk run` refuses it.
        assert proc.returncode == {"ready": 0, "silent": 1, "missing": 2}[printer]


def test_check_config_devices_says_when_the_serial_port_is_not_the_kiosks_to_open(tmp_path):
    """The kiosk's user is not in the 'dialout' group: run as such a user (nobody)."""
    with pty_printer() as peer:
        folder = Path(tempfile.mkdtemp(prefix="kiosk-perm-"))
        try:
            config = terminal_config(folder, printer={"kind": "serial", "port": peer.port})
            for path in [folder, *folder.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            argv = [sys.executable, "-m", "kiosk", "check-config", str(config), "--devices"]
            if os.geteuid() == 0:
                argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
            else:
                os.chmod(peer.port, 0)
            proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO_ROOT,
                                  timeout=HANG_GUARD_S * 2,
                                  env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        finally:
            shutil.rmtree(folder)
    line = device_line(proc, "printer")
    assert (f"PROBLEM: permission denied on {peer.port}: add the kiosk user to the 'dialout' "
            "group") in line, proc.stderr
    assert proc.returncode == 1


def test_check_config_devices_reports_a_usb_printer_that_is_not_there(tmp_path):
    config = terminal_config(tmp_path, printer={"kind": "usb", "vendor_id": 0x0416,
                                                "product_id": 0x5011})
    proc = check_config(config, "--devices")
    line = device_line(proc, "printer")
    assert line.startswith("printer (USB 0416:5011): PROBLEM: cannot open USB 0416:5011")
    assert proc.returncode == 1


@pytest.fixture(scope="module")
def hall_pki(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("pki")
    hall = ThrowawayCA(folder, "Hall CA")
    return {"hall": hall, "other": ThrowawayCA(folder, "Other CA"),
            "server": hall.issue("server", ips=("127.0.0.1",))}


FIGURES = [{"category": "social_security", "waiting": 2, "priority_waiting": 0,
            "minutes_per_ticket": 8.0, "open": True, "opens_at": None, "closes_at": None,
            "remaining_today": None}]


@pytest.mark.parametrize(("backend", "ok", "says"), [
    ("hall", True, "the hall answers and accepts this kiosk's token (1 service categories)"),
    ("wrong CA", False, "certificate verify failed: the hall's certificate is not signed by the "
                        "CA in backend.ca_bundle ({ca})"),
    ("wrong port", False, "nothing listens on 127.0.0.1:{port} (connection refused): check the "
                          "port in backend.url"),
    ("not the hall", False, "something answers at https://127.0.0.1:{port}/, but not the hall "
                            "server's API: HTTP 404"),
])
def test_check_config_devices_reaches_the_hall(tmp_path, hall_pki, backend, ok, says):
    server_cert = hall_pki["server"]
    replies = {} if backend == "not the hall" else {("GET", "/v1/queue"): (200, FIGURES)}
    hall = FakeHall(replies, tls=tls_context(server_cert.cert, server_cert.key))
    try:
        port = refused_port() if backend == "wrong port" else hall.port
        ca = hall_pki["other" if backend == "wrong CA" else "hall"].pem
        config = terminal_config(tmp_path, backend={
            "kind": "http", "url": f"https://127.0.0.1:{port}/", "token_file": "hall-token",
            "ca_bundle": str(ca)})
        (config.parent / "hall-token").write_text(TOKEN + "\n", "ascii")
        assert check_config(config).returncode == 0
        proc = check_config(config, "--devices")
    finally:
        hall.close()
    line = device_line(proc, "backend")
    assert line.startswith(f"backend (https://127.0.0.1:{port}/): {'OK' if ok else 'PROBLEM'}")
    assert says.format(ca=ca, port=port) in line
    assert proc.returncode == (0 if ok else 1)
    assert "Traceback" not in proc.stderr and "ERROR" not in proc.stderr


def hall_video(path: Path) -> None:
    """A short video as the emulated camera plays it (MJPG in AVI: OpenCV writes and reads
    it everywhere)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (320, 240))
    assert writer.isOpened()
    for shade in range(0, 250, 25):
        writer.write(np.full((240, 320, 3), shade, np.uint8))
    writer.release()


def test_a_relative_camera_path_starts_at_the_config_folder_for_the_check_and_the_kiosk(
        tmp_path, qtbot, monkeypatch):
    """docs/CONFIG.md: relative paths are relative to the config file's folder. The check
    always read it so; the kiosk read it from its working directory, and a camera the check
    had passed stayed dark."""
    config = terminal_config(tmp_path, camera={"kind": "emulated", "source": "video",
                                               "path": "clips/hall.avi"})
    hall_video(config.parent / "clips" / "hall.avi")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = check_config(config, "--devices", cwd=elsewhere)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "camera (emulated, video clips/hall.avi): OK: " in proc.stdout
    assert "a 1280x720 picture" in proc.stdout

    from kiosk.app import build

    monkeypatch.chdir(elsewhere)
    kiosk = build(load_config(config), config, kiosk_mode=False)
    try:
        qtbot.waitUntil(lambda: kiosk.scanner.state == "running", timeout=HANG_GUARD_MS)
        frames: list[object] = []
        kiosk.scanner.frameReady.connect(frames.append)
        qtbot.waitUntil(lambda: len(frames) > 0, timeout=HANG_GUARD_MS)
        assert kiosk.scanner.last_error == ""
    finally:
        kiosk.shutdown()


@pytest.mark.parametrize("reader", ["silent", "missing"])
def test_check_config_devices_asks_the_id_card_reader(tmp_path, reader):
    with pty_printer(answers=False) as peer:  # a serial port where no reader answers
        port = "/dev/ttyNOPE1" if reader == "missing" else peer.port
        config = terminal_config(tmp_path, id_card={"kind": "serial", "port": port})
        proc = check_config(config, "--devices")
    line = device_line(proc, "ID card reader")
    assert line.startswith(f"ID card reader (serial {port}, 115200 baud): PROBLEM: "), line
    assert ("does not exist" if reader == "missing" else "no ID card reader answers") in line
    assert proc.returncode == (2 if reader == "missing" else 1)  # missing: the file is wrong too
