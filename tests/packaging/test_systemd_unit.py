"""The systemd unit agrees with the exit codes and notifications the kiosk uses."""

from __future__ import annotations

from kiosk.common import exitcodes
from kiosk.common.exitcodes import EXIT_LEFT_KIOSK_MODE, EXIT_RESTART
from tests.helpers.paths import REPO_ROOT

UNIT = REPO_ROOT / "packaging" / "systemd" / "kiosk.service"


def service_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
        elif line and not line.startswith("#") and section == "[Service]":
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_supervised_and_restarted() -> None:
    s = service_settings()
    assert s["Type"] == ["notify"] and s["Restart"] == ["always"]
    assert int(s["WatchdogSec"][0]) >= 20


def test_a_technician_exit_stays_closed_and_a_restart_request_does_not() -> None:
    prevented = {int(code) for value in service_settings().get("RestartPreventExitStatus", [])
                 for code in value.split()}
    assert EXIT_LEFT_KIOSK_MODE in prevented
    assert EXIT_RESTART not in prevented and 0 not in prevented


def test_no_other_exit_status_stays_closed() -> None:
    prevented = {int(code) for value in service_settings().get("RestartPreventExitStatus", [])
                 for code in value.split()}
    named = {name for name, value in vars(exitcodes).items()
             if name.startswith("EXIT_") and value in prevented}
    assert named == {"EXIT_LEFT_KIOSK_MODE"}
