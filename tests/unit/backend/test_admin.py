"""The staff commands (`kiosk backend advance`, `call-next`) on the hall's database."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.backend import admin
from kiosk.backend.embedded import EmbeddedBackend
from kiosk.backend.interface import ApplicationStatus, TicketRequest
from kiosk.cli import backend as staff_cli
from kiosk.common.clock import shanghai_now
from kiosk.domain.payloads import private_key_pem, public_key_b64
from tests.helpers.backend import OpenBackend, submit


def test_advance_command_prints_the_timeline(
    backend: EmbeddedBackend, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = submit(backend)
    assert staff_cli.advance_command(db, ref, "accepted", "") == 0
    assert staff_cli.advance_command(db, ref, "需补正", "缺户口簿原件") == 0
    out = capsys.readouterr().out
    assert ref in out and "受理中" in out and "缺户口簿原件" in out
    assert out.rstrip().splitlines()[-1].split()[2] == "needs_more"
    summary = backend.application(ref)
    assert summary is not None and summary.status is ApplicationStatus.NEEDS_MORE


def test_advance_command_mistakes_exit_2_with_a_message(
    backend: EmbeddedBackend, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = submit(backend)
    assert staff_cli.advance_command(db, ref, "archived", "") == 2
    err = capsys.readouterr().err
    assert "archived" in err
    assert all(s.value in err for s in ApplicationStatus)
    assert staff_cli.advance_command(db, "YW20240603999999", "done", "") == 2
    assert "no application" in capsys.readouterr().err
    assert staff_cli.advance_command(db, ref, "needs_more", "") == 2
    assert "missing" in capsys.readouterr().err
    assert staff_cli.advance_command(db, ref, "done", "") == 0
    assert staff_cli.advance_command(db, ref, "accepted", "") == 2
    assert "final" in capsys.readouterr().err
    missing = tmp_path / "nowhere" / "kiosk.sqlite3"
    assert staff_cli.advance_command(missing, ref, "done", "") == 2
    assert not missing.exists()  # a typo in the path creates no database


def test_staff_commands_use_the_kiosk_key_when_present(
    db: Path, key: Ed25519PrivateKey, open_backend: OpenBackend,
    capsys: pytest.CaptureFixture[str],
) -> None:
    throwaway = admin._signing_key(db)
    assert public_key_b64(throwaway) != public_key_b64(key)
    (db.parent / admin.SIGNING_KEY_FILE).write_bytes(private_key_pem(key))
    assert public_key_b64(admin._signing_key(db)) == public_key_b64(key)
    backend = open_backend(clock=shanghai_now)  # call-next works on today's queue
    request = TicketRequest("household", False, "", None, "K01")
    backend.issue_ticket(request, "t-1")
    backend.issue_ticket(TicketRequest("household", True, "age", None, "K01"), "t-2")
    assert staff_cli.call_next_command(db, "household") == 0
    assert staff_cli.call_next_command(db, "household") == 0
    assert staff_cli.call_next_command(db, "household") == 0
    assert capsys.readouterr().out.splitlines() == ["YD001", "D001",
                                                    "no one is waiting for household"]
    assert staff_cli.call_next_command(db, "passports") == 2
    err = capsys.readouterr().err
    assert "passports" in err and "social_security" in err
    assert backend.queue_figures()["household"].waiting == 0
