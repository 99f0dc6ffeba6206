"""The maintenance PIN: slow salted hash, lockout after 5 wrong PINs that survives restarts."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.cli import main
from kiosk.cli.pin import hash_pin_command
from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_FAILED
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

PIN = "4803172659"
LEGACY_PIN = "480317"  # six digits were allowed with the scrypt hashes of before
NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def encoded() -> str:
    return hash_pin(PIN)


def legacy_hash(pin: str) -> str:
    """A hash exactly as `kiosk hash-pin` wrote it before Argon2id (scrypt, n=2**14)."""
    salt = b"\x07" * 16
    return pinmod.ScryptHash(2**14, 8, 1, salt, pinmod._scrypt(pin, 2**14, 8, 1, salt, 32)).encode()


# --- hashing -----------------------------------------------------------------------------

def test_hash_is_argon2id_salted_self_describing_and_verifies(encoded):
    assert encoded.startswith(
        f"argon2id$v=19,m={pinmod.ARGON2_MEMORY_KIB},t={pinmod.ARGON2_TIME},"
        f"p={pinmod.ARGON2_LANES}$")
    assert PIN not in encoded
    assert verify_pin(PIN, encoded)
    assert not verify_pin("4803172658", encoded)
    assert not verify_pin(PIN + "0", encoded)
    assert hash_pin(PIN) != encoded  # a new salt each time
    parsed = parse_hash(encoded)
    assert len(parsed.salt) == 16 and len(parsed.digest) == 32


def test_an_offline_search_of_every_allowed_pin_costs_years():
    # The figures behind it are measured by benchmarks/pin_cost.py (docs/PERFORMANCE.md);
    # here only what they rest on: at least 10**10 PINs of the shortest length, each
    # costing a memory-hard hash of at least 64 MiB and 3 passes.
    assert pinmod.PIN_MIN_DIGITS >= 10
    assert pinmod.ARGON2_MEMORY_KIB >= 64 * 1024 and pinmod.ARGON2_TIME >= 3
    with pytest.raises(ValueError, match="10"):
        hash_pin("480317")
    assert weak_pin_reason("480317")


def test_a_config_written_by_the_old_hash_pin_still_works(tmp_path, term):
    old = legacy_hash(LEGACY_PIN)
    cfg = KioskConfig.model_validate({"maintenance": {"pin_hash": old}})
    assert verify_pin(LEGACY_PIN, cfg.maintenance.pin_hash)
    assert not verify_pin("480318", old)
    g = guard(tmp_path, old, term)
    g.reset()
    assert g.try_pin(LEGACY_PIN).ok


def test_an_old_hash_is_named_for_the_technician(tmp_path, term, caplog):
    caplog.set_level("WARNING")
    guard(tmp_path, legacy_hash(LEGACY_PIN), term)
    assert "kiosk hash-pin" in caplog.text
    assert pinmod.hash_advice(legacy_hash(LEGACY_PIN))
    assert pinmod.hash_advice(hash_pin(PIN)) is None


def test_verify_uses_the_parameters_stored_in_the_hash():
    # An old hash with other parameters still verifies after the defaults change.
    salt = b"s" * 16
    digest = pinmod._scrypt(LEGACY_PIN, 2**10, 4, 2, salt, 24)
    old = pinmod.ScryptHash(2**10, 4, 2, salt, digest).encode()
    assert verify_pin(LEGACY_PIN, old)
    assert not verify_pin("000001", old)
    cheap = pinmod.Argon2Hash(8192, 2, 1, salt, pinmod._argon2(PIN, 8192, 2, 1, salt, 24))
    assert verify_pin(PIN, cheap.encode())


@pytest.mark.parametrize("bad", ["480317", "1234567890123", "12 4567890", "abcdefghij",
                                 "١٢٣٤٥٦٧٨٩٠", "", "4803172659\n", "³³³³³³³³³³"])
def test_new_pins_are_10_to_12_ascii_digits(bad, encoded):
    with pytest.raises(ValueError):
        hash_pin(bad)
    if bad != "480317":
        assert not verify_pin(bad, encoded)


ZEROS16 = "AAAAAAAAAAAAAAAAAAAAAA=="
ZEROS32 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "480317",
        "scrypt$n=16384,r=8,p=1$c2FsdA==",
        f"scrypt$n=16384,r=8,p=1${ZEROS16}${ZEROS32}\n",
        f"scrypt$n=16000,r=8,p=1${ZEROS16}${ZEROS32}",
        f"scrypt$n=1073741824,r=8,p=1${ZEROS16}${ZEROS32}",
        # a 4-byte salt
        f"scrypt$n=16384,r=8,p=1$c2FsdA==${ZEROS32}",
        f"scrypt$n=16384,r=8,p=1${ZEROS16}$!!!!",
        "bcrypt$2b$12$abcdefghijklmnopqrstuv",
        # 2**20 * 32 * 128 bytes = 4 GiB
        f"scrypt$n=1048576,r=32,p=1${ZEROS16}${ZEROS32}",
        f"argon2id$v=19,m=65536,t=3,p=1${ZEROS16}",
        f"argon2id$v=19,m=4194304,t=3,p=1${ZEROS16}${ZEROS32}",  # 4 GiB
        f"argon2id$v=19,m=65536,t=1000,p=1${ZEROS16}${ZEROS32}",
        f"argon2id$v=19,m=65536,t=3,p=0${ZEROS16}${ZEROS32}",
        f"argon2id$v=16,m=65536,t=3,p=1${ZEROS16}${ZEROS32}",
        f"argon2i$v=19,m=65536,t=3,p=1${ZEROS16}${ZEROS32}",
        f"argon2id$v=19,m=65536,t=3,p=1$c2FsdA==${ZEROS32}",
    ],
)
def test_malformed_hashes_are_refused(bad):
    with pytest.raises(ValueError):
        parse_hash(bad)
    assert not verify_pin(PIN, bad)


@pytest.mark.parametrize(
    "weak", ["0000000000", "999999999999", "1234567890", "0987654321", "7890123456",
             "1212121212", "123123123123", "909090909090", "1234512345"],
)
def test_weak_pins_are_named(weak):
    assert weak_pin_reason(weak)


@pytest.mark.parametrize("ok", [PIN, "2718281828", "90210777413", "135792468024"])
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

class Terminal:
    """A terminal's clocks: monotonic seconds since boot, a wall clock anyone with the
    network (NTP) or root can step, and the kernel's boot id."""

    def __init__(self) -> None:
        self.mono = 5_000.0
        self.wall = FakeClock(NOW)
        self.boot = "boot-1"

    def monotonic(self) -> float:
        return self.mono

    def boot_id(self) -> str:
        return self.boot

    def wait(self, seconds: float) -> None:
        self.mono += seconds
        self.wall.seconds += seconds

    def reboot(self, off_for: float = 3600) -> None:
        self.boot = f"boot-{int(self.mono)}"
        self.mono = 4.0  # monotonic time starts again near zero
        self.wall.seconds += off_for


@pytest.fixture(scope="module")
def quick() -> str:
    """A hash of PIN at Argon2id's lowest accepted cost: the guard's rules do not depend on
    the cost, and five wrong PINs at the real one take seconds per test."""
    salt = b"\x01" * 16
    return pinmod.Argon2Hash(8192, 1, 1, salt, pinmod._argon2(PIN, 8192, 1, 1, salt, 32)).encode()


def guard(tmp_path: Path, quick: str, term: Terminal, **kwargs: float) -> PinGuard:
    # A new guard per call stands for a restart of the kiosk: only the file carries over.
    return PinGuard(tmp_path / "state" / "pin-state.json", quick, term.monotonic,
                    wall=term.wall.time, boot_id=term.boot_id, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def term() -> Terminal:
    return Terminal()


@pytest.fixture
def ready(tmp_path: Path, quick: str, term: Terminal) -> PinGuard:
    """A guard whose state `kiosk hash-pin` / `kiosk reset-pin-lock` has written."""
    g = guard(tmp_path, quick, term)
    g.reset()
    return g


def lock_out(g: PinGuard) -> None:
    for _ in range(g.lock_after):
        g.try_pin("0000000001")


def test_right_pin_opens_and_resets_the_count(ready):
    g = ready
    assert g.try_pin("1111111119").remaining == 4
    assert g.try_pin(PIN).status is PinStatus.OK
    assert g.attempts_left() == 5
    r = g.try_pin("1111111119")
    assert r.status is PinStatus.WRONG and r.remaining == 4


def test_five_wrong_lock_for_15_minutes_even_for_the_right_pin(ready, term):
    g = ready
    remaining = [g.try_pin("0000000001").remaining for _ in range(4)]
    assert remaining == [4, 3, 2, 1]
    locked = g.try_pin("0000000001")
    assert locked.status is PinStatus.LOCKED and locked.until == NOW + 900  # shown as wall time
    term.wait(14 * 60 + 59)
    assert g.try_pin(PIN).status is PinStatus.LOCKED
    assert g.attempts_left() == 0
    term.wait(1)
    assert g.locked_until() is None
    assert g.try_pin(PIN).ok


def test_a_restart_does_not_reset_the_count_or_the_lock(ready, tmp_path, quick, term):
    for expected in (4, 3, 2):
        assert guard(tmp_path, quick, term).try_pin("0000000001").remaining == expected
    g = guard(tmp_path, quick, term)
    assert g.attempts_left() == 2
    g.try_pin("0000000001")
    assert guard(tmp_path, quick, term).try_pin("0000000001").status is PinStatus.LOCKED
    term.wait(60)
    restarted = guard(tmp_path, quick, term)
    assert restarted.try_pin(PIN).status is PinStatus.LOCKED
    assert restarted.locked_until() == NOW + 900


def test_the_attempt_is_counted_before_the_check(ready, tmp_path, quick, term, monkeypatch):
    # A kill (or power cut) while the hash runs must not hand out a free attempt.
    def killed(*_a: object) -> bool:
        raise SystemExit("power cut")

    monkeypatch.setattr(pinmod, "verify_pin", killed)
    with pytest.raises(SystemExit):
        ready.try_pin("0000000001")
    monkeypatch.undo()
    assert guard(tmp_path, quick, term).attempts_left() == 4


def test_a_deleted_state_file_locks_instead_of_giving_fresh_attempts(ready, term):
    g = ready
    for _ in range(4):
        g.try_pin("0000000001")
    g.state_file.unlink()
    r = g.try_pin(PIN)
    assert r.status is PinStatus.LOCKED and r.until == NOW + 900
    g.state_file.unlink()  # again, while locked: the lock does not end
    assert g.locked_until() is not None
    term.wait(900)
    assert g.try_pin(PIN).ok  # a full lock later it opens by itself (or: reset-pin-lock)


def test_a_missing_state_at_the_first_start_locks_until_reset(tmp_path, quick, term):
    g = guard(tmp_path, quick, term)
    assert g.try_pin(PIN).status is PinStatus.LOCKED
    g.reset()  # what `kiosk reset-pin-lock` does
    assert g.try_pin(PIN).ok


def test_a_rewritten_state_file_locks(ready, tmp_path, quick, term):
    g = ready
    lock_out(g)
    data = json.loads(g.state_file.read_text())
    data["failures"] = 0
    data["lock_left_s"] = None
    g.state_file.write_text(json.dumps(data))
    assert g.try_pin(PIN).status is PinStatus.LOCKED
    # The old format, as anyone could write it before, is no better.
    g.state_file.write_text('{"failures": 0, "locked_until": null}')
    assert guard(tmp_path, quick, term).try_pin(PIN).status is PinStatus.LOCKED


def test_an_old_state_file_copied_back_locks(ready, term):
    g = ready
    saved = g.state_file.read_bytes()  # valid, with 0 failures
    lock_out(g)
    g.state_file.write_bytes(saved)
    assert g.try_pin(PIN).status is PinStatus.LOCKED


def test_a_wall_clock_step_does_not_shorten_the_lock(ready, term):
    g = ready
    lock_out(g)
    term.wall.seconds += 15 * 60  # NTP (or anyone with root) steps the clock
    assert g.try_pin(PIN).status is PinStatus.LOCKED
    term.wall.seconds += 365 * 86400
    assert g.try_pin(PIN).status is PinStatus.LOCKED
    term.wall.seconds -= 2 * 365 * 86400  # or back: the lock is not stretched either
    term.wait(900)
    assert g.try_pin(PIN).ok


def test_a_reboot_does_not_unlock_early(ready, tmp_path, quick, term):
    g = ready
    lock_out(g)
    term.wait(300)
    assert g.locked_until() is not None  # 10 minutes left, written down
    term.reboot(off_for=86400)  # monotonic time starts again; the hours off do not count
    after = guard(tmp_path, quick, term)
    assert after.try_pin(PIN).status is PinStatus.LOCKED
    term.wait(599)
    assert after.try_pin(PIN).status is PinStatus.LOCKED
    term.wait(1)
    assert after.try_pin(PIN).ok


@pytest.mark.parametrize("content", ["", "{", "[]", '{"failures": "x", "locked_until": null}',
                                     '{"failures": -1, "locked_until": null}', "\x00\xff",
                                     '{"failures": 5, "locked_until": NaN}',
                                     '{"failures": 5, "locked_until": Infinity}',
                                     '{"failures": 5, "locked_until": 1e999}',
                                     '{"failures": 5, "locked_until": -Infinity}'])
def test_a_damaged_state_file_fails_closed_for_one_lock_period(tmp_path, quick, term,
                                                                content):
    state = tmp_path / "state" / "pin-state.json"
    state.parent.mkdir()
    state.write_text(content, "latin-1")
    r = guard(tmp_path, quick, term).try_pin(PIN)
    assert r.status is PinStatus.LOCKED and r.until == NOW + 900
    term.wait(900)
    assert guard(tmp_path, quick, term).try_pin(PIN).ok  # and it recovers on its own


@pytest.mark.parametrize("field", ["lock_left_s", "mono"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_even_with_a_valid_mac(ready, tmp_path, quick, term,
                                                              field, value):
    g = ready
    lock_out(g)
    raw = json.loads(g.state_file.read_text())
    raw[field] = value
    raw.pop("mac")
    raw["mac"] = pinmod._mac(pinmod._state_key(quick), raw)
    g.state_file.write_text(json.dumps(raw))  # json.dumps writes NaN / Infinity
    r = guard(tmp_path, quick, term).try_pin(PIN)
    assert r.status is PinStatus.LOCKED and r.until == NOW + 900
    term.wait(900)
    assert guard(tmp_path, quick, term).try_pin(PIN).ok  # never locked for good


def test_state_file_is_replaced_atomically_and_private(ready):
    g = ready
    g.try_pin("0000000001")
    data = json.loads(g.state_file.read_text())
    assert data["failures"] == 1 and data["lock_left_s"] is None
    assert g.state_file.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in g.state_file.parent.iterdir()] == ["pin-state.json"]  # no temps
    assert PIN not in g.state_file.read_text()


def test_settings_come_from_the_config(tmp_path, quick, term):
    g = guard(tmp_path, quick, term, lock_after=2, lock_minutes=1)
    g.reset()
    g.try_pin("0000000001")
    assert g.try_pin("0000000001").until == NOW + 60


def test_no_pin_configured_means_disabled_and_a_broken_hash_is_an_error(tmp_path, term):
    g = PinGuard(tmp_path / "s.json", "", term.monotonic)
    assert g.try_pin(PIN).status is PinStatus.DISABLED
    assert not (tmp_path / "s.json").exists()
    with pytest.raises(ValueError):
        PinGuard(tmp_path / "s.json", "argon2id$nonsense", term.monotonic)


def test_log_never_holds_the_pin(ready, caplog):
    caplog.set_level("DEBUG")
    attempts = ("0000000001", "0000000002", "0000000003", "0000000004", "0000000005", PIN)
    for attempt in attempts:
        ready.try_pin(attempt)
    assert caplog.records
    for attempt in attempts:
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
    assert len(prompts) == 2 and "10-12" in prompts[0]
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "[maintenance]"
    assert lines[1].startswith('pin_hash = "argon2id$') and PIN not in out + err
    cfg = KioskConfig.model_validate(
        {"maintenance": {"pin_hash": lines[1].split('"')[1]}}
    )
    assert verify_pin(PIN, cfg.maintenance.pin_hash)
    assert "kiosk.toml" in err and "reset-pin-lock" in err


def test_hash_pin_says_when_it_replaces_a_pin(tmp_path, capsys, encoded):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[maintenance]\npin_hash = "{encoded}"\n')
    read, _ = answers(PIN, PIN)
    assert hash_pin_command(config, print_only=True, read_secret=read) == 0
    assert "replace" in capsys.readouterr().err


def shipped_copy(tmp_path: Path, mode: int = 0o644) -> Path:
    """The shipped kiosk.toml in tmp_path/config, so that its data_dir (../var) is
    tmp_path/var."""
    config = tmp_path / "config" / "kiosk.toml"
    config.parent.mkdir()
    config.write_text(SHIPPED_CONFIG.read_text("utf-8"), "utf-8")
    config.chmod(mode)
    return config


def test_hash_pin_writes_the_shipped_config_keeping_its_comments(tmp_path, capsys):
    config = shipped_copy(tmp_path, 0o640)
    read, _ = answers(PIN, PIN)
    assert hash_pin_command(config, read_secret=read) == 0
    out, err = capsys.readouterr()
    assert out == "" and PIN not in err and str(config) in err
    text = config.read_text("utf-8")
    assert PIN not in text
    before, after = SHIPPED_CONFIG.read_text("utf-8").splitlines(), text.splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1 and changed[0][0] == 'pin_hash = ""'  # only that line
    from kiosk.config.loader import load_config

    assert verify_pin(PIN, load_config(config).maintenance.pin_hash)
    # 0640 is a deliberate "root writes, the kiosk's group reads": kept.
    assert config.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("mode", [0o644, 0o666, 0o664, 0o600, 0o755])
def test_hash_pin_leaves_the_config_readable_by_nobody_else(tmp_path, capsys, mode):
    config = shipped_copy(tmp_path, mode)
    read, _ = answers(PIN, PIN)
    assert hash_pin_command(config, read_secret=read) == 0
    assert config.stat().st_mode & 0o777 == 0o600


def test_hash_pin_starts_the_new_pin_with_a_fresh_count(tmp_path, capsys, term):
    config = shipped_copy(tmp_path)
    (tmp_path / "var").mkdir()  # the kiosk has run here before
    read, _ = answers(PIN, PIN)
    assert hash_pin_command(config, read_secret=read) == 0
    from kiosk.config.loader import load_config

    encoded = load_config(config).maintenance.pin_hash
    state = tmp_path / "var" / pinmod.STATE_FILE_NAME
    assert state.stat().st_mode & 0o777 == 0o600
    g = PinGuard(state, encoded, term.monotonic, wall=term.wall.time, boot_id=term.boot_id)
    assert g.try_pin(PIN).ok


def config_with_hash(tmp_path: Path, encoded: str) -> Path:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[maintenance]\npin_hash = "{encoded}"\n'
                      f'[paths]\ndata_dir = "{tmp_path / "var"}"\n')
    return config


def test_reset_pin_lock_opens_a_locked_screen_at_once(tmp_path, encoded, capsys):
    config = config_with_hash(tmp_path, encoded)
    state = tmp_path / "var" / pinmod.STATE_FILE_NAME
    running = PinGuard(state, encoded)  # the kiosk, running all along
    for _ in range(5):
        running.try_pin("0000000001")
    assert running.try_pin(PIN).status is PinStatus.LOCKED
    assert main(["reset-pin-lock", "--config", str(config)]) == 0
    assert "reset" in capsys.readouterr().err
    assert running.try_pin(PIN).ok  # no restart needed
    state.unlink()
    assert running.try_pin(PIN).status is PinStatus.LOCKED
    assert main(["reset-pin-lock", "--config", str(config)]) == 0
    assert running.try_pin(PIN).ok


@pytest.mark.parametrize(
    ("text", "why"),
    [('[maintenance]\npin_hash = ""\n', "hash-pin"), ("[maintenance\n", "kiosk.toml"),
     ('[maintenance]\npin_hash = "x"\n', "pin_hash")],
)
def test_reset_pin_lock_explains_what_it_cannot_do(tmp_path, capsys, text, why):
    config = tmp_path / "kiosk.toml"
    config.write_text(text)
    assert main(["reset-pin-lock", "--config", str(config)]) in (EXIT_FAILED, EXIT_BAD_INPUT)
    out, err = capsys.readouterr()
    assert why in err and "Traceback" not in out + err


@pytest.mark.parametrize("text", [
    "",
    '[screen]\norientation = "landscape"\n',
    '[maintenance]\n# a comment\n\n[printer]\nkind = "emulated"\n',
    '[maintenance]  # ours\nlock_after = 6\npin_hash = "old"\n[printer.profile]\nx = 1\n',
])
def test_pin_hash_goes_into_any_layout(tmp_path, capsys, text):
    config = tmp_path / "config" / "kiosk.toml"
    config.parent.mkdir()
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
    [(PIN, "4803172658", "differ"), ("1111111111", "1111111111", "same"),
     ("1234567890", "1234567890", "count"), ("480317", "480317", "digits")],
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
