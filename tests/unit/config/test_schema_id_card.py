"""[id_card]: chosen by `kind` like the camera, checked like the printer's serial port, and
accepted with either backend (a hall takes the card of a kiosk it was told has a reader)."""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.cli import main
from kiosk.config.checked import demo_mode_reasons
from kiosk.config.devices import device_problems
from kiosk.config.loader import load_config
from tests.helpers.paths import CATALOG_FILE, SHIPPED_CONFIG

KEYS = '[qr.public_keys]\ndemo = "N6YcjELd+H9LtsqsRNYwqVp3VPZejQZv4N7LBDl5jHc="\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(KEYS + text, encoding="utf-8")
    (tmp_path / "catalog.yaml").write_text(CATALOG_FILE.read_text("utf-8"), encoding="utf-8")
    return path


def check(path: Path, capsys) -> tuple[int, str]:
    code = main(["check-config", str(path)])
    return code, capsys.readouterr().err


def test_no_reader_unless_configured():
    assert load_config(SHIPPED_CONFIG).id_card.kind == "none"


def id_card_problems(path: Path) -> list[tuple[str, str]]:
    return [p for p in device_problems(load_config(path), path.parent)
            if p[0].startswith("id_card")]


def test_emulated_reader_accepted(tmp_path):
    path = write(tmp_path, '[id_card]\nkind = "emulated"\n')
    assert load_config(path).id_card.kind == "emulated"
    assert id_card_problems(path) == []


def test_serial_reader_on_an_existing_port(tmp_path):
    master, slave = os.openpty()
    try:
        port = os.ttyname(slave)
        path = write(tmp_path, f'[id_card]\nkind = "serial"\nport = "{port}"\n')
        assert id_card_problems(path) == []
        reader = load_config(path).id_card
        assert (reader.kind, reader.port, reader.baudrate) == ("serial", port, 115200)
        assert 'id_card.kind = "serial" is a real ID card reader' in demo_mode_reasons(
            load_config(path))
    finally:
        os.close(master)
        os.close(slave)


def test_unknown_kind_lists_the_kinds(tmp_path, capsys):
    code, err = check(write(tmp_path, '[id_card]\nkind = "usb"\n'), capsys)
    assert code == 2 and "id_card" in err and "'usb'" in err
    assert "none" in err and "emulated" in err and "serial" in err


def test_serial_reader_needs_its_port(tmp_path, capsys):
    code, err = check(write(tmp_path, '[id_card]\nkind = "serial"\n'), capsys)
    assert code == 2 and "id_card.port: required key is missing" in err


def test_a_baud_rate_the_reader_does_not_offer(tmp_path, capsys):
    path = write(tmp_path, '[id_card]\nkind = "serial"\nport = "/dev/null"\nbaudrate = 4800\n')
    code, err = check(path, capsys)
    assert code == 2 and "id_card.baudrate" in err and "115200" in err


def test_a_missing_port_is_named(tmp_path, capsys):
    path = write(tmp_path, '[id_card]\nkind = "serial"\nport = "/dev/ttyUSB-no-reader"\n')
    code, err = check(path, capsys)
    assert code == 2
    assert "id_card.port: serial port /dev/ttyUSB-no-reader does not exist" in err


def test_a_reader_on_a_kiosk_of_a_hall_is_accepted(tmp_path, capsys):
    (tmp_path / "token").write_text("dev_" + "a" * 43 + "\n")
    path = write(tmp_path, '[backend]\nkind = "http"\nurl = "https://hall.example/"\n'
                 'token_file = "token"\n[id_card]\nkind = "emulated"\n')
    assert id_card_problems(path) == []
    # Other keys of this minimal file have problems of their own; the reader is not one.
    _, err = check(path, capsys)
    assert "id_card" not in err and "backend." not in err


def test_a_hall_kiosks_reader_still_needs_its_port(tmp_path, capsys):
    (tmp_path / "token").write_text("dev_" + "a" * 43 + "\n")
    path = write(tmp_path, '[backend]\nkind = "http"\nurl = "https://hall.example/"\n'
                 'token_file = "token"\n[id_card]\nkind = "serial"\n'
                 'port = "/dev/ttyUSB-no-reader"\n')
    code, err = check(path, capsys)
    assert code == 2
    assert "id_card.port: serial port /dev/ttyUSB-no-reader does not exist" in err
