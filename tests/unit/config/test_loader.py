"""Config validation: each kind of mistake gets one message naming file, key and expectation;
randomly broken config files always get one."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.cli import main
from kiosk.config.checked import load_checked_config
from kiosk.config.loader import ConfigFileError, load_config
from tests.helpers.hostile_files import (
    HOSTILE_TOML,
    HUGE_HEX,
    LONG,
    mutated,
    rare_toml,
    toml_ish,
)
from tests.helpers.paths import CATALOG_FILE, SHIPPED_CONFIG

SHIPPED = SHIPPED_CONFIG


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "catalog.yaml").write_text((CATALOG_FILE).read_text("utf-8"),
                                            encoding="utf-8")
    return path


KEYS = '[qr.public_keys]\ndemo = "N6YcjELd+H9LtsqsRNYwqVp3VPZejQZv4N7LBDl5jHc="\n'


def check(path: Path, capsys) -> tuple[int, str]:
    code = main(["check-config", str(path)])
    err = capsys.readouterr().err
    return code, err


def test_shipped_config_is_valid(capsys):
    assert main(["check-config", str(SHIPPED)]) == 0
    cfg = load_config(SHIPPED)
    assert cfg.printer.kind == "emulated" and cfg.camera.kind == "emulated"
    assert cfg.backend.kind == "embedded"


def test_unknown_key_named(tmp_path, capsys):
    path = write(tmp_path, KEYS + "[printer]\nkind = 'emulated'\npaper_widht_mm = 80\n")
    code, err = check(path, capsys)
    assert code == 2
    assert str(path) in err
    assert "printer.paper_widht_mm: unknown key" in err


def test_wrong_type_named_with_what_was_expected(tmp_path, capsys):
    path = write(tmp_path, KEYS + "[session]\nidle_timeout_s = 'soon'\n[printer]\n"
                 "kind = 'emulated'\npaper_width_mm = 76\n")
    code, err = check(path, capsys)
    assert code == 2
    assert "session.idle_timeout_s" in err and "integer" in err
    assert "printer.paper_width_mm" in err and "58" in err and "80" in err
    assert "2 problem(s)" in err  # every problem at once


def test_unknown_kind_lists_the_kinds(tmp_path, capsys):
    path = write(tmp_path, KEYS + "[printer]\nkind = 'bluetooth'\n")
    code, err = check(path, capsys)
    assert code == 2
    assert "printer" in err and "'bluetooth'" in err and "usb" in err and "serial" in err


def test_missing_required_key(tmp_path, capsys):
    path = write(tmp_path, KEYS + "[printer]\nkind = 'network'\n")
    code, err = check(path, capsys)
    assert code == 2
    assert "printer.host: required key is missing" in err


def test_missing_device_named(tmp_path, capsys):
    path = write(tmp_path, KEYS + "[printer]\nkind = 'file'\npath = '/dev/usb/lp9-missing'\n"
                 "[camera]\nkind = 'opencv'\ndevice = '/dev/v4l/by-id/no-such-camera'\n")
    code, err = check(path, capsys)
    assert code == 2
    assert "printer.path: device /dev/usb/lp9-missing does not exist" in err
    assert "camera.device: camera /dev/v4l/by-id/no-such-camera does not exist" in err


def test_keys_of_the_kind_switched_from_are_named_as_such(tmp_path, capsys):
    """A serial printer moved to the network, its serial keys left in: spelt right, so
    "check the spelling" sent the technician hunting for a typo that was not there."""
    path = write(tmp_path, KEYS + "[printer]\nkind = 'network'\nhost = '192.0.2.10'\n"
                 "port = '/dev/ttyUSB0'\nbaudrate = 9600\nrtscts = false\n"
                 "[camera]\nkind = 'opencv'\ndevice = 0\nsource = 'video'\n")
    code, err = check(path, capsys)
    assert code == 2 and "4 problem(s)" in err
    assert ('printer.baudrate: `baudrate` belongs to printer kind "serial", not "network": '
            'delete it, or set kind = "serial" if that is the device') in err
    assert 'printer.rtscts: `rtscts` belongs to printer kind "serial", not "network"' in err
    assert ("printer.port: Input should be a valid integer, unable to parse string as an "
            "integer (found '/dev/ttyUSB0'); that is a `port` for printer kind \"serial\", but"
            ' this printer is kind "network"') in err
    assert 'camera.source: `source` belongs to camera kind "emulated", not "opencv"' in err
    assert "check the spelling" not in err


def test_a_misspelt_key_gets_the_key_it_is_closest_to(tmp_path, capsys):
    path = write(tmp_path, KEYS + "[printr]\nkind = 'emulated'\n[session]\nidle_timout_s = 90\n"
                 "[printer]\nkind = 'serial'\nport = '/dev/null'\nbaud_rate = 9600\n"
                 "[screen]\nwobble = 3\n")
    code, err = check(path, capsys)
    assert code == 2
    assert "printr: unknown key: did you mean `printer`?" in err
    assert "session.idle_timout_s: unknown key: did you mean `idle_timeout_s`?" in err
    assert "printer.baud_rate: unknown key: did you mean `baudrate`?" in err
    # Nothing close: the plain message, not a wild guess.
    assert "screen.wobble: unknown key (check the spelling; see docs/CONFIG.md" in err


@pytest.mark.parametrize("hotline", ['""', '"   "'])
def test_an_empty_hotline_is_refused(tmp_path, capsys, hotline):
    """Residents were told "或拨打 热线" with no number to dial."""
    path = write(tmp_path, KEYS + f"[center]\nhotline = {hotline}\n")
    code, err = check(path, capsys)
    assert code == 2
    assert 'center.hotline: expected the telephone number residents may call, e.g. "12345"' in err


def test_the_countdowns_are_checked_with_every_other_key(tmp_path, capsys):
    """Checked on the whole config, they were reported only once every other key was right."""
    path = write(tmp_path, KEYS + "[session]\nidle_timeout_s = 20\nidle_countdown_s = 30\n"
                 "[printer]\nkind = 'emulated'\npaper_width_mm = 76\n")
    code, err = check(path, capsys)
    assert code == 2 and "2 problem(s)" in err
    assert "session: idle_countdown_s must be shorter than idle_timeout_s" in err
    assert "printer.paper_width_mm" in err


@pytest.mark.parametrize("text", ["[printer\nkind = 'file'\n", KEYS + "[center]\nhotline = ''\n"])
def test_a_broken_file_is_never_said_to_be_ok(tmp_path, capsys, text):
    assert main(["check-config", str(write(tmp_path, text))]) == 2
    assert "OK" not in capsys.readouterr().out


def test_syntax_error_names_the_file(tmp_path, capsys):
    path = write(tmp_path, "[printer\nkind = 'file'\n")
    code, err = check(path, capsys)
    assert code == 2
    assert "TOML syntax error" in err and str(path) in err


def test_missing_device_kind(tmp_path, capsys):
    code, err = check(write(tmp_path, KEYS + "[printer]\npaper_width_mm = 58\n"), capsys)
    assert code == 2 and "printer: required key `kind` is missing" in err


def test_missing_file(tmp_path, capsys):
    code, err = check(tmp_path / "nope.toml", capsys)
    assert code == 2 and "file not found" in err


def test_bad_public_key(tmp_path, capsys):
    path = write(tmp_path, "[qr.public_keys]\ndemo = 'not base64!'\n")
    code, err = check(path, capsys)
    assert code == 2 and "qr.public_keys" in err and "base64" in err


def test_idle_countdown_must_fit_in_timeout(tmp_path, capsys):
    path = write(tmp_path, KEYS + "[session]\nidle_timeout_s = 20\nidle_countdown_s = 30\n")
    code, err = check(path, capsys)
    assert code == 2 and "idle_countdown_s" in err


def test_run_with_broken_config_exits_without_traceback(tmp_path):
    path = write(tmp_path, KEYS + "[printer]\nkind = 'serial'\nport = '/dev/ttyNOPE'\n"
                 "baudrate = 9601\n")
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "run", "--config", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "printer.baudrate" in proc.stderr and "9600" in proc.stderr


def test_load_config_raises_typed_error(tmp_path):
    path = write(tmp_path, "[camera]\nkind = 'opencv'\nfps = -1\n")
    with pytest.raises(ConfigFileError) as info:
        load_config(path)
    assert info.value.problems[0][0] == "camera.fps"


SHIPPED_TEXT = SHIPPED.read_text("utf-8")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_config_files_give_a_clear_message(tmp_path, data):
    """Random edits of the shipped file: valid, or a ConfigFileError naming the file."""
    lines = SHIPPED_TEXT.splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["delete", "garble", "truncate", "insert", "retype"]))
        if op == "delete":
            lines.pop(i)
        elif op == "garble":
            lines[i] = data.draw(st.text(max_size=40))
        elif op == "truncate":
            lines[i] = lines[i][: data.draw(st.integers(0, max(0, len(lines[i]))))]
        elif op == "insert":
            lines.insert(i, data.draw(st.sampled_from(
                ["foo = 1", "[printer]", "kind = 'usb'", "paper_width_mm = 'eighty'",
                 "idle_timeout_s = -5", "\x00", "port = 3", "[[camera]]", "baudrate = 9601"])))
        elif op == "retype" and "=" in lines[i]:
            key = lines[i].split("=")[0]
            lines[i] = key + "= " + data.draw(st.sampled_from(
                ["[]", "{}", "true", "-1", "1e999", '"x"', "2026-01-01", "'''"]))
    path = tmp_path / "kiosk.toml"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path)
    except ConfigFileError as e:
        assert str(path) in e.message() and e.problems


# ------------------------------------------------------------------ files that stopped the kiosk
# What each hostile file's message says (beside the file's name).
HOSTILE_TOML_PROBLEMS = {
    "too long an integer": f"{len(LONG)} digits",
    "huge hexadecimal integer": "digits",
    "deep arrays": "nested too deeply",
    "deep inline tables": "nested too deeply",
    "impossible date": "Invalid date",
    "null character in a path": "paths.catalog: holds a null character",
    "byte order mark and garbage": "TOML syntax error",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_TOML))
def test_a_hostile_config_file_is_refused_by_check_config(tmp_path, capsys, case):
    path = write(tmp_path, KEYS + HOSTILE_TOML[case])
    code, err = check(path, capsys)
    assert code == 2 and str(path) in err and "Traceback" not in err
    assert HOSTILE_TOML_PROBLEMS[case] in err


def test_a_too_long_number_is_named_with_its_line(tmp_path, capsys):
    path = write(tmp_path, KEYS + f"[session]\nidle_timeout_s = {LONG}\n")
    code, err = check(path, capsys)
    assert code == 2 and f"session.idle_timeout_s: at line 4: a number with {len(LONG)} digits" \
        in err


def test_a_huge_number_is_named_without_printing_it(tmp_path, capsys):
    path = write(tmp_path, KEYS + f"[session]\nidle_timeout_s = {HUGE_HEX}\n")
    code, err = check(path, capsys)
    assert code == 2 and "session.idle_timeout_s" in err and "digits" in err
    assert len(err) < 1000


@pytest.mark.parametrize("old, new, problem", [
    ("idle_timeout_s = 60", f"idle_timeout_s = {LONG}", f"{len(LONG)} digits"),
    ("rate = -0.2", "rate = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    ('data_dir = "../var"', 'data_dir = "../v\\u0000ar"', "paths.data_dir: holds a null"),
], ids=["too long a number", "deep arrays", "null character in a path"])
def test_run_refuses_a_config_the_parser_cannot_read_without_traceback(tmp_path, old, new,
                                                                       problem):
    """The shipped config (a demo, so nothing else is refused) with one edit that once ended
    `kiosk run` with a traceback and exit 1, which systemd restarts into the same end."""
    text = SHIPPED_TEXT.replace(old, new, 1)
    assert text != SHIPPED_TEXT
    path = _ConfigFolder(tmp_path).write(text)
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "run", "--config", str(path), "--exit-when-ready"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and str(path) in proc.stderr
    assert problem in proc.stderr
    assert not (tmp_path / "var").exists()  # refused before anything was started


class _ConfigFolder:
    """The shipped config folder copied once per test; each example rewrites kiosk.toml."""

    def __init__(self, tmp_path: Path) -> None:
        self.folder = tmp_path / "config"
        if not self.folder.exists():
            shutil.copytree(SHIPPED.parent, self.folder)
        self.path = self.folder / "kiosk.toml"

    def write(self, content: str | bytes) -> Path:
        if isinstance(content, bytes):
            self.path.write_bytes(content)
        else:
            self.path.write_text(content, encoding="utf-8", errors="surrogatepass")
        return self.path


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(content=st.one_of(mutated(SHIPPED_TEXT, st.one_of(toml_ish, rare_toml)),
                         mutated(SHIPPED_TEXT, rare_toml), toml_ish, st.binary(max_size=300)))
def test_fuzzed_config_files_are_checked_or_refused_never_a_traceback(tmp_path, content):
    """Everything `kiosk run` and `check-config` check (config, devices, catalog): a config
    or a ConfigFileError naming the file, never another exception."""
    path = _ConfigFolder(tmp_path).write(content)
    try:
        load_checked_config(path)
    except ConfigFileError as e:
        assert e.problems and str(e.path) in e.message()
