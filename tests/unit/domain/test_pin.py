"""The maintenance PIN: slow salted hash, lockout after 5 wrong PINs that survives restarts."""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.cli.pin import hash_pin_command
from kiosk.config.schema import KioskConfig
from kiosk.domain import pin as pinmod
from kiosk.domain.pin import (
    PinGuard,
    PinStatus,
    hash_pin,
    parse_hash,
    verify_pin,
    weak_pin_reason,
)
from tests.helpers.clock import FakeClock
from tests.helpers.paths import SHIPPED_CONFIG

PIN = "480317"
NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def encoded() -> str:
    return hash_pin(PIN)


def guard(tmp_path: Path, encoded: str, clock: FakeClock) -> PinGuard:
    # A new guard per call stands for a restart of the kiosk: only the file carries over.
    return PinGuard(tmp_path / "state" / "pin-state.json", encoded, clock.time)


# --- hashing -----------------------------------------------------------------------------

def test_hash_is_salted_self_describing_and_verifies(encoded):
    assert encoded.startswith(f"scrypt$n={pinmod.SCRYPT_N},r=8,p=1$")
    assert PIN not in encoded
    assert verify_pin(PIN, encoded)
    assert not verify_pin("480318", encoded)
    assert not verify_pin(PIN + "0", encoded)
    assert hash_pin(PIN) != encoded  # a new salt each time
    parsed = parse_hash(encoded)
    assert len(parsed.salt) == 16 and len(parsed.digest) == 32


def test_hash_costs_tens_of_milliseconds(encoded):
    started = time.perf_counter()
    verify_pin(PIN, encoded)
    elapsed = time.perf_counter() - started
    assert 0.01 < elapsed < 1.0, elapsed  # slow for a guesser, quick for a technician


def test_verify_uses_the_parameters_stored_in_the_hash():
    # An old hash with other parameters still verifies after the defaults change.
    salt = b"s" * 16
    digest = pinmod._scrypt(PIN, 2**10, 4, 2, salt, 24)
    old = pinmod.ScryptHash(2**10, 4, 2, salt, digest).encode()
    assert verify_pin(PIN, old)
    assert not verify_pin("000001", old)


@pytest.mark.parametrize("bad", ["12345", "1234567890123", "12 456", "abcdef", "١٢٣٤٥٦", "",
                                 "123456\n", "³³³³³³"])
def test_pins_are_6_to_12_ascii_digits(bad, encoded):
    with pytest.raises(ValueError):
        hash_pin(bad)
    assert not verify_pin(bad, encoded)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "480317",
        "scrypt$n=16384,r=8,p=1$c2FsdA==",
        "scrypt$n=16384,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "scrypt$n=16000,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$n=1073741824,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        # a 4-byte salt
        "scrypt$n=16384,r=8,p=1$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$n=16384,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$!!!!",
        "bcrypt$2b$12$abcdefghijklmnopqrstuv",
        # 2**20 * 32 * 128 bytes = 4 GiB
        "scrypt$n=1048576,r=32,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ],
)
def test_malformed_hashes_are_refused(bad):
    with pytest.raises(ValueError):
        parse_hash(bad)
    assert not verify_pin(PIN, bad)


@pytest.mark.parametrize(
    "weak", ["000000", "999999999", "123456", "654321", "7890123", "3210987", "121212",
             "123123", "909090909090"],
)
def test_weak_pins_are_named(weak):
    assert weak_pin_reason(weak)


@pytest.mark.parametrize("ok", [PIN, "271828", "90210777", "135792468"])
def test_ordinary_pins_pass(ok):
    assert weak_pin_reason(ok) is None


# --- config ------------------------------------------------------------------------------

def test_config_takes_a_hash_or_nothing(encoded):
    assert KioskConfig().maintenance.pin_hash == ""
    assert KioskConfig().maintenance.lock_after == 5
    assert KioskConfig().maintenance.lock_minutes == 15
    cfg = KioskConfig.model_validate({"maintenance": {"pin_hash": encoded}})
    assert cfg.maintenance.pin_hash == encoded
    with pytest.raises(ValidationError, match="hash-pin"):
        KioskConfig.model_validate({"maintenance": {"pin_hash": PIN}})
    with pytest.raises(ValidationError):
        KioskConfig.model_validate({"maintenance": {"pin": PIN}})


# --- the guard ---------------------------------------------------------------------------

def test_right_pin_opens_and_resets_the_count(tmp_path, encoded):
    clock = FakeClock(NOW)
    g = guard(tmp_path, encoded, clock)
    assert g.try_pin("111119").remaining == 4
    assert g.try_pin(PIN).status is PinStatus.OK
    assert g.attempts_left() == 5
    r = g.try_pin("111119")
    assert r.status is PinStatus.WRONG and r.remaining == 4


def test_five_wrong_lock_for_15_minutes_even_for_the_right_pin(tmp_path, encoded):
    clock = FakeClock(NOW)
    g = guard(tmp_path, encoded, clock)
    remaining = [g.try_pin("000001").remaining for _ in range(4)]
    assert remaining == [4, 3, 2, 1]
    locked = g.try_pin("000001")
    assert locked.status is PinStatus.LOCKED and locked.until == NOW + 900
    clock.seconds += 14 * 60 + 59
    assert g.try_pin(PIN).status is PinStatus.LOCKED
    assert g.attempts_left() == 0
    clock.seconds = NOW + 900
    assert g.locked_until() is None
    assert g.try_pin(PIN).ok


def test_a_restart_does_not_reset_the_count_or_the_lock(tmp_path, encoded):
    clock = FakeClock(NOW)
    for expected in (4, 3, 2):
        assert guard(tmp_path, encoded, clock).try_pin("000001").remaining == expected
    g = guard(tmp_path, encoded, clock)
    assert g.attempts_left() == 2
    g.try_pin("000001")
    assert guard(tmp_path, encoded, clock).try_pin("000001").status is PinStatus.LOCKED
    clock.seconds += 60
    restarted = guard(tmp_path, encoded, clock)
    assert restarted.try_pin(PIN).status is PinStatus.LOCKED
    assert restarted.locked_until() == NOW + 900


def test_the_attempt_is_counted_before_the_check(tmp_path, encoded, monkeypatch):
    # A kill (or power cut) while scrypt runs must not hand out a free attempt.
    g = guard(tmp_path, encoded, FakeClock(NOW))

    def killed(*_a: object) -> bool:
        raise SystemExit("power cut")

    monkeypatch.setattr(pinmod, "verify_pin", killed)
    with pytest.raises(SystemExit):
        g.try_pin("000001")
    monkeypatch.undo()
    assert guard(tmp_path, encoded, FakeClock(NOW)).attempts_left() == 4


def test_a_lock_lost_in_a_crash_is_restored(tmp_path, encoded):
    state = tmp_path / "state" / "pin-state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"failures": 5, "locked_until": None}))
    assert guard(tmp_path, encoded, FakeClock(NOW)).try_pin(PIN).status is PinStatus.LOCKED


@pytest.mark.parametrize("content", ["", "{", "[]", '{"failures": "x", "locked_until": null}',
                                     '{"failures": -1, "locked_until": null}', "\x00\xff"])
def test_a_damaged_state_file_fails_closed(tmp_path, encoded, content):
    state = tmp_path / "state" / "pin-state.json"
    state.parent.mkdir()
    state.write_text(content, "latin-1")
    clock = FakeClock(NOW)
    r = guard(tmp_path, encoded, clock).try_pin(PIN)
    assert r.status is PinStatus.LOCKED and r.until == NOW + 900
    clock.seconds += 900
    assert guard(tmp_path, encoded, clock).try_pin(PIN).ok  # and it recovers on its own


def test_a_clock_set_back_cannot_stretch_the_lock(tmp_path, encoded):
    clock = FakeClock(NOW)
    g = guard(tmp_path, encoded, clock)
    for _ in range(5):
        g.try_pin("000001")
    clock.seconds -= 365 * 86400  # someone (or a dead RTC battery) set the clock a year back
    assert g.locked_until() == clock.seconds + 900
    clock.seconds += 900
    assert g.try_pin(PIN).ok


def test_state_file_is_replaced_atomically_and_private(tmp_path, encoded):
    g = guard(tmp_path, encoded, FakeClock(NOW))
    g.try_pin("000001")
    assert json.loads(g.state_file.read_text()) == {"failures": 1, "locked_until": None}
    assert g.state_file.stat().st_mode & 0o077 == 0
    assert [p.name for p in g.state_file.parent.iterdir()] == ["pin-state.json"]  # no temps
    assert PIN not in g.state_file.read_text()


def test_settings_come_from_the_config(tmp_path, encoded):
    clock = FakeClock(NOW)
    g = PinGuard(tmp_path / "s.json", encoded, clock.time, lock_after=2, lock_minutes=1)
    g.try_pin("000001")
    assert g.try_pin("000001").until == NOW + 60


def test_no_pin_configured_means_disabled_and_a_broken_hash_is_an_error(tmp_path):
    g = PinGuard(tmp_path / "s.json", "", FakeClock(NOW).time)
    assert g.try_pin(PIN).status is PinStatus.DISABLED
    assert not (tmp_path / "s.json").exists()
    with pytest.raises(ValueError):
        PinGuard(tmp_path / "s.json", "scrypt$nonsense", FakeClock(NOW).time)


def test_log_never_holds_the_pin(tmp_path, encoded, caplog):
    caplog.set_level("DEBUG")
    g = guard(tmp_path, encoded, FakeClock(NOW))
    for attempt in ("000001", "000002", "000003", "000004", "000005", PIN):
        g.try_pin(attempt)
    assert caplog.records
    for attempt in ("000001", "000005", PIN):
        assert attempt not in caplog.text


# --- kiosk hash-pin ----------------------------------------------------------------------

def answers(*texts: str):
    it = iter(texts)
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return next(it)

    return read, prompts


def test_hash_pin_prints_the_config_lines(tmp_path, capsys):
    read, prompts = answers(PIN, PIN)
    assert hash_pin_command(tmp_path / "kiosk.toml", read_secret=read) == 0  # no such file
    assert len(prompts) == 2
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "[maintenance]"
    assert lines[1].startswith('pin_hash = "scrypt$') and PIN not in out + err
    cfg = KioskConfig.model_validate(
        {"maintenance": {"pin_hash": lines[1].split('"')[1]}}
    )
    assert verify_pin(PIN, cfg.maintenance.pin_hash)
    assert "kiosk.toml" in err


def test_hash_pin_says_when_it_replaces_a_pin(tmp_path, capsys, encoded):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[maintenance]\npin_hash = "{encoded}"\n')
    read, _ = answers(PIN, PIN)
    assert hash_pin_command(config, print_only=True, read_secret=read) == 0
    assert "replace" in capsys.readouterr().err


def test_hash_pin_writes_the_shipped_config_keeping_its_comments(tmp_path, capsys):
    shipped = SHIPPED_CONFIG
    config = tmp_path / "kiosk.toml"
    config.write_text(shipped.read_text("utf-8"), "utf-8")
    config.chmod(0o640)
    read, _ = answers(PIN, PIN)
    assert hash_pin_command(config, read_secret=read) == 0
    out, err = capsys.readouterr()
    assert out == "" and PIN not in err and str(config) in err
    text = config.read_text("utf-8")
    assert PIN not in text
    before, after = shipped.read_text("utf-8").splitlines(), text.splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1 and changed[0][0] == 'pin_hash = ""'  # only that line
    from kiosk.config.loader import load_config

    assert verify_pin(PIN, load_config(config).maintenance.pin_hash)
    assert config.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("text", [
    "",
    '[screen]\nwidth = 1920\n',
    '[maintenance]\n# a comment\n\n[printer]\nkind = "emulated"\n',
    '[maintenance]  # ours\nidle_timeout_s = 60\npin_hash = "old"\n[printer.profile]\nx = 1\n',
])
def test_pin_hash_goes_into_any_layout(tmp_path, capsys, text):
    config = tmp_path / "kiosk.toml"
    config.write_text(text)
    read, _ = answers(PIN, PIN)
    assert hash_pin_command(config, read_secret=read) == 0
    data = tomllib.loads(config.read_text())
    assert verify_pin(PIN, data["maintenance"]["pin_hash"])
    for section, value in tomllib.loads(text).items():  # nothing else changed
        if section != "maintenance":
            assert data[section] == value


def test_hash_pin_leaves_a_file_it_cannot_read_back_alone(tmp_path, capsys):
    config = tmp_path / "kiosk.toml"
    broken = "[maintenance\npin_hash = 1\n"
    config.write_text(broken)
    read, _ = answers(PIN, PIN)
    assert hash_pin_command(config, read_secret=read) == 1
    assert config.read_text() == broken and "--print" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [config]  # no temporary file left behind


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [(PIN, "480318", "differ"), ("111111", "111111", "same"), ("123456", "123456", "count"),
     ("1234", "1234", "digits")],
)
def test_hash_pin_refuses(first, second, why, capsys):
    read, _ = answers(first, second)
    assert hash_pin_command(None, read_secret=read) == 1
    out, err = capsys.readouterr()
    assert out == "" and why in err


def test_hash_pin_cancelled(capsys):
    def read(_prompt: str) -> str:
        raise KeyboardInterrupt

    assert hash_pin_command(None, read_secret=read) == 1
    assert capsys.readouterr().out == ""
