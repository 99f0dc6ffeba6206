"""The demo signing key is public: a config that trusts it is refused unless the terminal is
a demo (the demo signing key configured, camera and printer emulated)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config.checked import load_checked_config
from kiosk.config.loader import ConfigFileError
from tests.helpers.paths import CONFIG_DIR, SHIPPED_CONFIG

SIGNING_LINE = re.compile(r'^demo_signing_key = .*$', re.MULTILINE)


def shipped_copy(tmp_path: Path, edit=lambda text: text) -> Path:
    """The shipped config folder (catalog, bundles, dev keys) with an edited kiosk.toml."""
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder)
    path = folder / "kiosk.toml"
    path.write_text(edit(path.read_text("utf-8")), encoding="utf-8")
    return path


def without_signing_key(text: str) -> str:
    edited = SIGNING_LINE.sub("", text)
    assert edited != text
    return edited


def with_real_camera(text: str) -> str:
    edited = text.replace('kind = "emulated"             # emulated camera',
                          'kind = "opencv"\ndevice = 0 #', 1)
    edited = re.sub(r'^(source|resident|interval_s) = .*$', "", edited, flags=re.MULTILINE)
    assert 'kind = "opencv"' in edited
    return edited


def refusal(path: Path, capsys) -> str:
    assert main(["check-config", str(path)]) == 2
    return capsys.readouterr().err


def test_the_shipped_demo_config_is_accepted(capsys):
    assert main(["check-config", str(SHIPPED_CONFIG)]) == 0
    assert load_checked_config(SHIPPED_CONFIG).qr.demo_signing_key


def test_demo_key_trusted_without_the_demo_signing_key_is_refused(tmp_path, capsys):
    """The technician removed `demo_signing_key` as the README says, but not the key."""
    err = refusal(shipped_copy(tmp_path, without_signing_key), capsys)
    assert "qr.public_keys.demo" in err  # the key, by name
    assert "demo-issuer.pem" in err  # the file whose private half is public
    assert "dev-keys/README.md" in err  # what to do
    assert "Traceback" not in err


def test_demo_key_on_a_terminal_with_real_hardware_is_refused(tmp_path, capsys):
    err = refusal(shipped_copy(tmp_path, with_real_camera), capsys)
    assert "qr.public_keys.demo" in err and "demo-issuer.pem" in err
    assert "camera" in err  # why this is not a demo


def test_own_demo_key_pair_counts_as_a_demo_key(tmp_path):
    """Not only the shipped key: any key whose private half is in the config folder."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.domain.payloads import private_key_pem, public_key_b64

    key = Ed25519PrivateKey.generate()
    path = shipped_copy(tmp_path, lambda t: with_real_camera(t).replace(
        "dev-keys/demo-issuer.pem", "dev-keys/mine.pem").replace(
        'demo = "N6YcjELd+H9LtsqsRNYwqVp3VPZejQZv4N7LBDl5jHc="',
        f'mine = "{public_key_b64(key)}"'))
    (path.parent / "dev-keys" / "mine.pem").write_bytes(private_key_pem(key))
    with pytest.raises(ConfigFileError) as info:
        load_checked_config(path)
    assert [k for k, _ in info.value.problems] == ["qr.public_keys.mine"]


def test_production_keys_without_demo_key_are_accepted(tmp_path, capsys):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.domain.payloads import public_key_b64

    platform = public_key_b64(Ed25519PrivateKey.generate())
    path = shipped_copy(tmp_path, lambda t: with_real_camera(without_signing_key(t)).replace(
        'demo = "N6YcjELd+H9LtsqsRNYwqVp3VPZejQZv4N7LBDl5jHc="', f'platform = "{platform}"'))
    assert main(["check-config", str(path)]) == 0, capsys.readouterr().err


def test_kiosk_run_refuses_the_demo_key_outside_demo_mode(tmp_path):
    path = shipped_copy(tmp_path, without_signing_key)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "run", "--config", str(path), "--exit-when-ready"],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "qr.public_keys.demo" in proc.stderr and "demo-issuer.pem" in proc.stderr
    assert not (tmp_path / "var").exists()  # refused before anything was started
