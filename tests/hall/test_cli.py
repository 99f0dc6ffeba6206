"""`kiosk hall …` against a real database, as an operator and packaging/setup.sh run it: what
a script reads is the last line on stdout; a mistake is one line on stderr and an exit
status, never a traceback."""

from __future__ import annotations

import io
import secrets
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from kiosk.cli import main
from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from kiosk.hall import migrate
from kiosk.hall.settings import DSN_VARIABLE
from tests.helpers.hall import RunningHall, admin_execute, free_port, server_dsn

Capture = pytest.CaptureFixture[str]


def kiosk(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    """Run `kiosk hall ARGV…`; (exit status, stdout, stderr)."""
    code = main(["hall", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def take_number(hall: RunningHall, who: str) -> int:
    r = hall.session(who).post(f"{hall.url}/v1/tickets", json={"category": "social_security"},
                               headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    return r.status_code


@contextmanager
def empty_database() -> Iterator[str]:
    name = f"hall_cli_{secrets.token_hex(6)}"
    admin_execute(f"CREATE DATABASE {name}")
    try:
        yield server_dsn(name)
    finally:
        admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_device_takes_numbers_until_it_is_revoked(hall: RunningHall, capsys: Capture) -> None:
    code, out, err = kiosk(capsys, "add-device", "--dsn", hall.dsn, "--center", hall.center,
                           "--kind", "kiosk", "kiosk-9")
    assert code == EXIT_OK, err
    token = out.splitlines()[-1]
    assert token.startswith("dev_") and token not in err
    hall.tokens["kiosk-9"] = token
    assert take_number(hall, "kiosk-9") == 200

    code, out, _ = kiosk(capsys, "list-devices", "--dsn", hall.dsn)
    assert code == EXIT_OK
    [row] = [line.split() for line in out.splitlines() if line.startswith("kiosk-9 ")]
    assert row[:3] == ["kiosk-9", "kiosk", hall.center] and row[-1] == "active"
    assert token not in out

    code, _, err = kiosk(capsys, "revoke-device", "--dsn", hall.dsn, "kiosk-9")
    assert code == EXIT_OK, err
    assert take_number(hall, "kiosk-9") == 401
    assert take_number(hall, "kiosk-1") == 200  # the others' tokens still work
    _, out, _ = kiosk(capsys, "list-devices", "--dsn", hall.dsn)
    assert [line.split()[-1] for line in out.splitlines() if line.startswith("kiosk-9 ")] == [
        "revoked"]

    code, _, err = kiosk(capsys, "revoke-device", "--dsn", hall.dsn, "kiosk-9")
    assert code == EXIT_BAD_INPUT
    assert "no active device named 'kiosk-9'" in one_line(err)


def test_a_counter_screen_names_a_counter_of_its_center(hall: RunningHall,
                                                        capsys: Capture) -> None:
    code, _, err = kiosk(capsys, "add-device", "--dsn", hall.dsn, "--center", hall.center,
                         "--kind", "counter", "--counter", "99", "counter-99")
    assert code == EXIT_BAD_INPUT
    assert "no counter 99" in one_line(err)
    code, out, err = kiosk(capsys, "add-device", "--dsn", hall.dsn, "--center", hall.center,
                           "--kind", "counter", "--counter", "2", "counter-2")
    assert code == EXIT_OK, err
    assert out.splitlines()[-1].startswith("dev_")
    assert hall.sql("SELECT kind, counter_no FROM device WHERE name = 'counter-2'") == [
        ("counter", 2)]


def test_staff_sign_in_with_the_printed_password_until_disabled(
        hall: RunningHall, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = kiosk(capsys, "add-staff", "--dsn", hall.dsn, "--center", hall.center,
                           "--role", "clerk", "clerk9")
    assert code == EXIT_OK, err
    password = out.splitlines()[-1]
    assert len(password) >= 10 and password not in err
    hall.sign_in("clerk9", password)
    assert hall.session("clerk9").get(f"{hall.url}/v1/staff/me", timeout=30).json()[
        "role"] == "clerk"

    monkeypatch.setattr(sys, "stdin", io.StringIO("chosen-password-42\n"))
    code, out, err = kiosk(capsys, "add-staff", "--dsn", hall.dsn, "--center", hall.center,
                           "--role", "supervisor", "--password-stdin", "boss2")
    assert code == EXIT_OK, err
    assert "chosen-password-42" not in out + err
    hall.sign_in("boss2", "chosen-password-42")

    code, out, _ = kiosk(capsys, "count", "--dsn", hall.dsn, "--what", "staff")
    assert (code, out.splitlines()[-1]) == (EXIT_OK, "4")  # the fixture's two, and these

    code, _, err = kiosk(capsys, "disable-staff", "--dsn", hall.dsn, "clerk9")
    assert code == EXIT_OK, err
    assert hall.session("clerk9").get(f"{hall.url}/v1/staff/me", timeout=30).status_code == 401
    r = hall.session(None).post(f"{hall.url}/v1/staff/sessions", timeout=30,
                                json={"username": "clerk9", "password": password})
    assert r.status_code == 401


def test_an_unknown_center_is_refused(hall: RunningHall, capsys: Capture) -> None:
    devices = hall.sql("SELECT count(*) FROM device")[0][0]
    code, _, err = kiosk(capsys, "add-device", "--dsn", hall.dsn, "--center", "nowhere",
                         "--kind", "kiosk", "kiosk-x")
    assert code == EXIT_BAD_INPUT
    line = one_line(err)
    assert "no center 'nowhere'" in line and hall.center in line
    code, _, err = kiosk(capsys, "add-staff", "--dsn", hall.dsn, "--center", "nowhere",
                         "--role", "clerk", "clerk-x")
    assert code == EXIT_BAD_INPUT
    assert "no center 'nowhere'" in one_line(err)
    assert hall.sql("SELECT count(*) FROM device")[0][0] == devices
    code, out, _ = kiosk(capsys, "count", "--dsn", hall.dsn, "--what", "devices")
    assert out.splitlines()[-1] == str(devices)


@pytest.mark.parametrize("argv", [
    ["count", "--what", "devices"],
    ["migrate"],
    ["add-device", "--center", "main", "--kind", "board", "board-9"],
    ["serve"],
])
def test_without_a_database_address_it_says_where_to_give_one(
        capsys: Capture, monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    monkeypatch.delenv(DSN_VARIABLE, raising=False)
    code, out, err = kiosk(capsys, *argv)
    assert code == EXIT_BAD_INPUT
    assert DSN_VARIABLE in one_line(err) and out == ""


def test_an_unreachable_database_is_one_line(capsys: Capture) -> None:
    port = free_port()  # nothing listens there
    dsn = f"host=127.0.0.1 port={port} dbname=hall user=hall password=s3cret"
    for argv in (["count", "--what", "staff"], ["migrate"], ["serve"]):
        code, _, err = kiosk(capsys, *argv, "--dsn", dsn)
        assert code == EXIT_FAILED
        line = one_line(err)
        assert f"cannot reach PostgreSQL at 127.0.0.1:{port}" in line
        assert "bash packaging/setup.sh hall starts it" in line and "s3cret" not in line


def test_migrate_upgrades_downgrades_and_upgrades_again(capsys: Capture) -> None:
    with empty_database() as dsn:
        code, _, err = kiosk(capsys, "count", "--dsn", dsn, "--what", "staff")
        assert code == EXIT_FAILED
        assert "run `kiosk hall migrate` first" in one_line(err)
        code, _, err = kiosk(capsys, "serve", "--dsn", dsn)
        assert code == EXIT_FAILED
        assert "run `kiosk hall migrate` first" in one_line(err)

        assert kiosk(capsys, "migrate", "--dsn", dsn)[0] == EXIT_OK
        assert migrate.current(dsn) == migrate.HEAD
        assert kiosk(capsys, "count", "--dsn", dsn, "--what", "devices")[1] == "0\n"

        assert kiosk(capsys, "migrate", "--dsn", dsn, "--downgrade", "base")[0] == EXIT_OK
        assert migrate.current(dsn) is None

        code, _, err = kiosk(capsys, "migrate", "--dsn", dsn)
        assert code == EXIT_OK
        assert migrate.current(dsn) == migrate.HEAD
        assert f"at revision {migrate.HEAD}" in one_line(err)

        code, _, err = kiosk(capsys, "migrate", "--dsn", dsn, "--downgrade", "nonesuch")
        assert code == EXIT_BAD_INPUT
        assert "nonesuch" in one_line(err)


def _card_request(hall: RunningHall, who: str) -> int:
    """A card this kiosk's reader read, sent to the hall: the status it answers."""
    name, id_number = hall.sql("SELECT name, id_number FROM resident ORDER BY resident_id")[0]
    r = hall.session(who).post(f"{hall.url}/v1/kiosk/residents/id-card",
                               json={"id_number": id_number, "name": name},
                               headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
    return r.status_code


def _reader_column(capsys: Capture, hall: RunningHall, name: str) -> str:
    code, out, _ = kiosk(capsys, "list-devices", "--dsn", hall.dsn)
    assert code == EXIT_OK
    header = out.splitlines()[0].split("  ")
    assert "ID CARD" in [h.strip() for h in header if h.strip()]
    [row] = [line.split() for line in out.splitlines() if line.startswith(f"{name} ")]
    return row[3] if row[1] != "counter" else row[4]


def test_a_kiosk_with_an_id_card_reader_is_marked_and_unmarked(
    hall: RunningHall, capsys: Capture,
) -> None:
    code, out, err = kiosk(capsys, "add-device", "--dsn", hall.dsn, "--center", hall.center,
                           "--kind", "kiosk", "--id-card-reader", "kiosk-card")
    assert code == EXIT_OK, err
    assert "ID card reader" in err
    hall.tokens["kiosk-card"] = out.splitlines()[-1]
    assert _reader_column(capsys, hall, "kiosk-card") == "reader"
    assert _reader_column(capsys, hall, "kiosk-1") == "-"
    assert _card_request(hall, "kiosk-card") == 200
    assert _card_request(hall, "kiosk-1") == 403

    code, _, err = kiosk(capsys, "set-id-card-reader", "--dsn", hall.dsn, "kiosk-card", "off")
    assert code == EXIT_OK, err
    assert "no longer" in one_line(err)
    assert _reader_column(capsys, hall, "kiosk-card") == "-"
    assert _card_request(hall, "kiosk-card") == 403

    code, _, err = kiosk(capsys, "set-id-card-reader", "--dsn", hall.dsn, "kiosk-1", "on")
    assert code == EXIT_OK, err
    assert _reader_column(capsys, hall, "kiosk-1") == "reader"
    assert _card_request(hall, "kiosk-1") == 200


def test_only_a_live_kiosk_gets_an_id_card_reader(hall: RunningHall, capsys: Capture) -> None:
    code, out, err = kiosk(capsys, "add-device", "--dsn", hall.dsn, "--center", hall.center,
                           "--kind", "board", "--id-card-reader", "board-9")
    assert code == EXIT_BAD_INPUT and out == ""
    assert "only a kiosk has a resident ID card reader" in one_line(err)
    code, _, err = kiosk(capsys, "set-id-card-reader", "--dsn", hall.dsn, "counter-3", "on")
    assert code == EXIT_BAD_INPUT
    assert "counter-3 is a counter" in one_line(err)
    code, _, err = kiosk(capsys, "set-id-card-reader", "--dsn", hall.dsn, "kiosk-nonesuch", "on")
    assert code == EXIT_BAD_INPUT
    assert "no active device named 'kiosk-nonesuch'" in one_line(err)
    assert kiosk(capsys, "revoke-device", "--dsn", hall.dsn, "kiosk-2")[0] == EXIT_OK
    code, _, err = kiosk(capsys, "set-id-card-reader", "--dsn", hall.dsn, "kiosk-2", "on")
    assert code == EXIT_BAD_INPUT
    assert "no active device named 'kiosk-2'" in one_line(err)
    assert hall.sql("SELECT count(*) FROM device WHERE reads_id_cards")[0][0] == 0


def test_a_deployed_hall_migrates_to_id_card_readers_and_back(capsys: Capture) -> None:
    import psycopg

    with empty_database() as dsn:
        migrate.upgrade(dsn, "0001")
        assert migrate.current(dsn) == "0001"
        # Devices registered before the upgrade, as in a hall that is running (by SQL: this
        # version's add-device writes the new column).
        with psycopg.connect(dsn) as conn:
            conn.execute("INSERT INTO device (center_id, kind, name, counter_no, token_hash) "
                         "VALUES ('c', 'kiosk', 'old-kiosk', NULL, '\\x01'), "
                         "('c', 'counter', 'old-counter', 1, '\\x02')")
        assert kiosk(capsys, "migrate", "--dsn", dsn)[0] == EXIT_OK
        assert migrate.current(dsn) == "0002"
        with psycopg.connect(dsn) as conn:
            rows = conn.execute("SELECT name, reads_id_cards FROM device ORDER BY name").fetchall()
            assert rows == [("old-counter", False), ("old-kiosk", False)]
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute("UPDATE device SET reads_id_cards = true WHERE kind = 'counter'")
        assert kiosk(capsys, "migrate", "--dsn", dsn, "--downgrade", "0001")[0] == EXIT_OK
        assert migrate.current(dsn) == "0001"
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT count(*) FROM information_schema.columns WHERE "
                                "table_name = 'device' AND column_name = 'reads_id_cards'"
                                ).fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM device").fetchone() == (2,)
