"""The layers stay in their lanes (docs/ARCHITECTURE.md draws the same picture).

Each part of kiosk/ may import only the kiosk packages listed for it, and none of the
libraries forbidden to it: the domain is pure Python (no Qt, no hardware, not even the
config); hardware, backend and delivery are Qt-free and blocking; nothing below the UI
imports the UI; the UI never imports the composition root or the command line; and nothing
that runs on a terminal imports the developer tools.
"""

from __future__ import annotations

import pytest

from tests.architecture.import_graph import modules, raw_imports

# Which kiosk packages each part may import (besides itself). Read top to bottom, this is
# the order of the layers: a part may only use the parts above it.
ALLOWED: dict[str, set[str]] = {
    "kiosk.common": set(),
    "kiosk.domain": {"kiosk.common"},
    "kiosk.config": {"kiosk.common", "kiosk.domain"},
    "kiosk.hardware": {"kiosk.common", "kiosk.domain", "kiosk.config"},
    "kiosk.backend": {"kiosk.common", "kiosk.domain", "kiosk.config"},
    "kiosk.delivery": {"kiosk.common", "kiosk.domain", "kiosk.config", "kiosk.backend"},
    "kiosk.services": {"kiosk.common", "kiosk.domain", "kiosk.config", "kiosk.hardware",
                       "kiosk.backend", "kiosk.delivery"},
    "kiosk.workers": {"kiosk.common", "kiosk.domain", "kiosk.config", "kiosk.hardware",
                      "kiosk.services"},
    "kiosk.ui": {"kiosk.common", "kiosk.domain", "kiosk.config", "kiosk.hardware",
                 "kiosk.backend", "kiosk.delivery", "kiosk.services"},
    "kiosk.app": {"kiosk.common", "kiosk.domain", "kiosk.config", "kiosk.hardware",
                  "kiosk.backend", "kiosk.delivery", "kiosk.services", "kiosk.ui"},
    "kiosk.devtools": {"kiosk.common", "kiosk.domain", "kiosk.config", "kiosk.hardware",
                       "kiosk.backend", "kiosk.delivery", "kiosk.services", "kiosk.ui",
                       "kiosk.app"},
    # The hall server: a process of its own on a server, never on a terminal. It shares the
    # rules and records with the kiosk, nothing of the kiosk's screens, devices or outbox.
    "kiosk.hall": {"kiosk.common", "kiosk.domain", "kiosk.backend"},
    # The command line is the one place that starts anything, developer tools included
    # (lazily, inside the command that needs them).
    "kiosk.cli": {"kiosk.common", "kiosk.domain", "kiosk.config", "kiosk.hardware",
                  "kiosk.backend", "kiosk.delivery", "kiosk.services", "kiosk.ui",
                  "kiosk.app", "kiosk.devtools", "kiosk.hall"},
    "kiosk.__main__": {"kiosk.cli"},
    "kiosk": set(),
}

QT = ("PySide6", "shiboken6")
HARDWARE_LIBRARIES = ("cv2", "escpos", "pyzbar", "zxingcpp", "usb", "serial")
# The [hall] extra: a terminal does not install it, so nothing a terminal runs may import it.
HALL_LIBRARIES = ("fastapi", "starlette", "uvicorn", "psycopg", "psycopg_pool", "alembic",
                  "sqlalchemy")

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "kiosk.common": QT + HARDWARE_LIBRARIES + HALL_LIBRARIES,
    "kiosk.domain": (*QT, *HARDWARE_LIBRARIES, *HALL_LIBRARIES, "numpy", "PIL", "requests",
                     "sqlite3"),
    "kiosk.config": QT + HARDWARE_LIBRARIES + HALL_LIBRARIES,
    "kiosk.hardware": QT + HALL_LIBRARIES,
    "kiosk.backend": QT + HARDWARE_LIBRARIES + HALL_LIBRARIES,
    "kiosk.delivery": QT + HARDWARE_LIBRARIES + HALL_LIBRARIES,
    "kiosk.services": ("PySide6.QtWidgets", *HALL_LIBRARIES),
    "kiosk.workers": ("PySide6.QtWidgets", *HALL_LIBRARIES),
    "kiosk.ui": HALL_LIBRARIES,
    "kiosk.app": HALL_LIBRARIES,
    "kiosk.devtools": HALL_LIBRARIES,
    # The command line reaches the hall's libraries only in kiosk.cli.hall (EXCEPTIONS), and
    # lazily there, so that every other command runs on a terminal without the extra
    # (tests/unit/cli/test_hall.py runs them with the hall's libraries hidden).
    "kiosk.cli": HALL_LIBRARIES,
    "kiosk.hall": (*QT, *HARDWARE_LIBRARIES, "sqlite3"),
}


# Modules allowed what their part is not, each with the reason above.
EXCEPTIONS: dict[str, tuple[str, ...]] = {"kiosk.cli.hall": HALL_LIBRARIES}


def part_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_every_module_belongs_to_a_part():
    stray = sorted(m for m in modules() if part_of(m) not in ALLOWED)
    assert not stray, f"modules outside every part of docs/ARCHITECTURE.md: {stray}"


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_part_imports_only_what_it_may(part):
    broken: list[str] = []
    for module, path in modules().items():
        if part_of(module) != part:
            continue
        for name in sorted(raw_imports(path)):
            if name.split(".")[0] == "kiosk" and name != "kiosk":
                target = part_of(name)
                if target != part and target not in ALLOWED[part]:
                    broken.append(f"{module} imports {name} ({part} may not import {target})")
            for bad in FORBIDDEN.get(part, ()):
                if matches(name, bad) and bad not in EXCEPTIONS.get(module, ()):
                    broken.append(f"{module} imports {name} ({part} must not import {bad})")
    assert not broken, "\n".join(broken)


def test_the_rules_catch_a_broken_import(tmp_path, monkeypatch):
    """The test itself can fail: a domain module importing the config is reported."""
    from tests.architecture import import_graph

    fake = tmp_path / "kiosk" / "domain"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from kiosk.config.schema import KioskConfig\n"
                                 "import PySide6.QtCore\n", "utf-8")
    monkeypatch.setattr(import_graph, "KIOSK", tmp_path / "kiosk")
    found = raw_imports(fake / "bad.py")
    assert "kiosk.config.schema" in found and "PySide6.QtCore" in found
