"""A bundle file staff broke never stops the terminal: that file is skipped and reported, the
kiosk starts, and a resident can use every other bundle."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.hostile_files import LONG
from tests.helpers.paths import BUNDLES_DIR, CONFIG_DIR
from tests.helpers.waits import HANG_GUARD_S

SHIPPED = sorted(p.stem for p in BUNDLES_DIR.glob("*.yaml"))
BROKEN = "birth"

# What staff typed, each once the end of `kiosk run` (exit 1 and a traceback, again at each
# restart by systemd): an unquoted impossible date, and a number Python refuses to read.
EDITS = {
    "impossible date": "effective_from: 2026-02-30",
    "too long a number": f"trips_saved: {LONG}",
}


def config_with_broken_bundle(tmp_path: Path, line: str) -> Path:
    """The shipped config folder, its birth.yaml with `line` added after `order:`."""
    folder = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, folder)
    path = folder / "bundles" / f"{BROKEN}.yaml"
    lines = path.read_text("utf-8").splitlines()
    at = next(i for i, text in enumerate(lines) if text.startswith("order:"))
    path.write_text("\n".join([*lines[: at + 1], line, *lines[at + 1:]]) + "\n",
                    encoding="utf-8")
    return folder / "kiosk.toml"


def edited_line() -> int:
    """The line number `config_with_broken_bundle` gives the edit (the line after order:)."""
    lines = (BUNDLES_DIR / f"{BROKEN}.yaml").read_text("utf-8").splitlines()
    return next(i for i, text in enumerate(lines) if text.startswith("order:")) + 2


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_the_other_bundles_work_for_a_resident(kiosk_factory, resident_at, tmp_path, caplog,
                                               edit):
    config_file = config_with_broken_bundle(tmp_path, EDITS[edit])
    with caplog.at_level(logging.ERROR, logger="kiosk"):
        kiosk = kiosk_factory(config_file=config_file)
    skipped = [r.getMessage() for r in caplog.records if "bundle file skipped" in r.getMessage()]
    assert len(skipped) == 1 and f"{BROKEN}.yaml" in skipped[0]
    assert f"line {edited_line()}" in skipped[0]

    resident = resident_at(kiosk)
    resident.tap(kiosk.controller.home.service_buttons["bundles"])
    resident.wait_screen("bundles")
    buttons = kiosk.bundle_controller.list.buttons
    assert sorted(buttons) == [b for b in SHIPPED if b != BROKEN]
    resident.tap(buttons["retirement"])
    resident.wait_screen("wizard")
    assert kiosk.bundle_controller.wizard is not None
    assert kiosk.bundle_controller.wizard.bundle.id == "retirement"


@pytest.mark.parametrize("line", [EDITS["impossible date"],
                                  "x_notes: " + "[" * 100_000 + "]" * 100_000],
                         ids=["impossible date", "nesting that crashed libyaml"])
def test_kiosk_run_starts_with_a_broken_bundle_file(tmp_path, line):
    """The real start-up path (`kiosk run`, as systemd starts it): ready, and the skipped
    file in the journal with what is wrong in it."""
    config_file = config_with_broken_bundle(tmp_path, line)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "run", "--config", str(config_file), "--windowed",
         "--exit-when-ready"],
        capture_output=True, text=True, timeout=HANG_GUARD_S * 2, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("ready")
    assert "Traceback" not in proc.stderr
    assert "bundle file skipped" in proc.stderr and f"{BROKEN}.yaml" in proc.stderr
    # Said so that a technician reading the journal knows what it means and what to run.
    assert "residents are not offered it" in proc.stderr
    assert "`kiosk check-config` lists every problem" in proc.stderr
    assert f"1 bundle file(s) skipped, {len(SHIPPED) - 1} bundle(s) offered" in proc.stderr


def test_check_config_names_the_broken_bundle_file_the_kiosk_would_skip(tmp_path):
    """It used to say OK: the kiosk started, and residents silently lost that 一件事."""
    config_file = config_with_broken_bundle(tmp_path, EDITS["impossible date"])
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "check-config", str(config_file)],
        capture_output=True, text=True, timeout=HANG_GUARD_S * 2,
    )
    assert proc.returncode == 2, proc.stdout
    broken = config_file.parent / "bundles" / f"{BROKEN}.yaml"
    assert f"{broken}: 1 problem(s) in this file:" in proc.stderr
    assert f"effective_from: at line {edited_line()}" in proc.stderr
    assert "not a real date" in proc.stderr
    assert "Traceback" not in proc.stderr
