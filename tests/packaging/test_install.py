"""`pip install .` (not editable) into a fresh virtual environment, then the kiosk runs from
another folder with its assets and default config read from the installed package.

The dependencies are not downloaded again: once the kiosk is installed (`--no-deps`), a
`.pth` file lets the new environment see the site-packages of the interpreter running the
tests, after its own, so `kiosk` itself can only come from the fresh install. The `.pth` file
is written after pip has run, so that pip never sees (nor offers to touch) the editable
install of the environment the tests run in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.helpers.paths import REPO_ROOT

pytestmark = pytest.mark.slow

# What setuptools needs to build the wheel: the sources, not the checkout's venv or caches.
SOURCES = ("pyproject.toml", "README.md", "kiosk", "assets", "config")


def _copy_sources(dest: Path) -> None:
    dest.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        src = REPO_ROOT / name
        if src.is_dir():
            # symlinks=True keeps kiosk/_assets and kiosk/_defaults the links they are.
            shutil.copytree(src, dest / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the kiosk installed from a copy of the sources."""
    root = tmp_path_factory.mktemp("install")
    source = root / "src"
    _copy_sources(source)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--disable-pip-version-check", "-q", str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    deps = Path(sysconfig.get_paths()["purelib"])
    (_site_packages(venv) / "zz_kiosk_test_dependencies.pth").write_text(f"{deps}\n")
    shutil.rmtree(source)  # nothing may be read from the sources any more
    return venv


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KIOSK_CONFIG")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def test_the_package_and_its_files_come_from_the_new_environment(installed, tmp_path):
    python = installed / "bin" / "python"
    probe = ("import kiosk\n"
             "from kiosk.common import resources as r\n"
             "for p in (kiosk.__file__, r.default_config(), r.default_catalog(),\n"
             "          r.demo_signing_key(), r.translations_dir() / 'kiosk_en.qm',\n"
             "          r.sounds_dir() / 'scan_ok.wav', r.default('bundles')):\n"
             "    print(p)\n")
    run = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                         cwd=tmp_path, env=_env(), timeout=60)
    assert run.returncode == 0, run.stderr
    site = _site_packages(installed).resolve()
    paths = [Path(line) for line in run.stdout.splitlines()]
    assert len(paths) == 7
    for path in paths:
        assert path.resolve().is_relative_to(site / "kiosk"), path
        assert not path.resolve().is_relative_to(REPO_ROOT.resolve()), path
        assert path.exists(), path
    assert len(list(paths[-1].glob("*.yaml"))) >= 6  # every bundle file shipped


def test_kiosk_demo_runs_from_another_folder(installed, tmp_path):
    out = tmp_path / "out"
    # One orientation: the other reads the same files and would only double the time.
    run = subprocess.run([str(installed / "bin" / "kiosk"), "demo", "--out", str(out),
                          "--orientation", "landscape"],
                         capture_output=True, text=True, cwd=tmp_path, env=_env(), timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    screens = [p for p in out.glob("*.png") if not p.name.endswith("-paper.png")]
    assert any("home" in p.name for p in screens) and any("ticket" in p.name for p in screens)
    tickets = sorted(out.glob("*.bin"))
    assert tickets
    for ticket in tickets:
        assert ticket.stat().st_size > 0
        assert ticket.with_name(ticket.stem + "-paper.png").is_file()
