"""The hall server's systemd unit runs the hall package's own virtual environment with its
settings, agrees with what setup.sh sets up, and systemd itself reads it without a
complaint."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.paths import REPO_ROOT

SYSTEMD = REPO_ROOT / "packaging" / "systemd"
UNIT = SYSTEMD / "kiosk-hall.service"
SETUP = REPO_ROOT / "packaging" / "setup.sh"
ENV_FILE = "/etc/kiosk-hall/hall.env"


def unit_settings(path: Path, section: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    current = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("["):
            current = line
        elif line and not line.startswith("#") and current == f"[{section}]":
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def service() -> dict[str, list[str]]:
    return unit_settings(UNIT, "Service")


def test_serves_the_hall_from_its_package_with_its_settings() -> None:
    [command] = service()["ExecStart"]
    program, *args = shlex.split(command)
    assert program == "/opt/venvs/shanghai-kiosk-hall/bin/kiosk"
    assert args[:2] == ["hall", "serve"]
    assert args[args.index("--settings") + 1] == "/etc/kiosk-hall/hall-server.toml"


def test_reads_the_dsn_from_the_file_setup_writes() -> None:
    assert service()["EnvironmentFile"] == [ENV_FILE]
    script = SETUP.read_text(encoding="utf-8")
    assert "/etc/kiosk-hall" in script and "hall.env" in script
    assert "KIOSK_HALL_DSN=" in script


def test_starts_after_postgresql_without_stopping_with_it() -> None:
    unit = unit_settings(UNIT, "Unit")
    after = " ".join(unit["After"]).split()
    wants = " ".join(unit.get("Wants", [])).split()
    assert "postgresql.service" in after and "postgresql.service" in wants
    # A database restart must not take the hall down with it.
    for key in ("Requires", "BindsTo", "PartOf"):
        assert "postgresql.service" not in " ".join(unit.get(key, [])).split()


def test_restarted_and_allowed_thousands_of_connections() -> None:
    s = service()
    assert s["Restart"] == ["always"]
    [limit] = s["LimitNOFILE"]
    soft = limit.split(":")[0]
    assert soft == "infinity" or int(soft) >= 65536


def test_runs_unprivileged_and_confined() -> None:
    s = service()
    assert s.get("DynamicUser") == ["yes"] or s.get("User", ["root"])[-1] not in ("root", "0")
    assert s["CapabilityBoundingSet"] == [""]
    assert s["NoNewPrivileges"] == ["yes"]
    assert s["ProtectSystem"] == ["strict"]
    assert "ReadWritePaths" not in s  # everything the server keeps is in PostgreSQL
    assert s["LimitCORE"] == ["0"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_reads_it_without_a_complaint(tmp_path: Path) -> None:
    # verify refuses an ExecStart= program that does not exist, and the venv is not at
    # /opt/kiosk here: the copy runs a stand-in. Unknown keys and bad values are only
    # warnings (status 0), so any line about the unit fails the test too.
    program = shlex.split(service()["ExecStart"][0])[0]
    stand_in = tmp_path / "kiosk"
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(program, str(stand_in)),
                    encoding="utf-8")
    run = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                         capture_output=True, text=True, timeout=60)
    complaints = [line for line in (run.stdout + run.stderr).splitlines()
                  if UNIT.name in line]
    assert run.returncode == 0, run.stdout + run.stderr
    assert complaints == []
