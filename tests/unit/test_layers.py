"""The layers stay in their lanes: the domain imports neither Qt nor hardware nor services;
hardware and backend are Qt-free and blocking; nothing below the UI imports the UI."""

import ast
from pathlib import Path

import pytest

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"

FORBIDDEN = {
    "domain": ("PySide6", "kiosk.ui", "kiosk.services", "kiosk.hardware", "kiosk.backend",
               "cv2", "escpos", "pyzbar", "zxingcpp", "usb", "serial"),
    "hardware": ("PySide6", "kiosk.ui", "kiosk.services", "kiosk.backend"),
    "backend": ("PySide6", "kiosk.ui", "kiosk.services", "kiosk.hardware"),
    "services": ("kiosk.ui", "PySide6.QtWidgets"),
    "config": ("PySide6", "kiosk.ui", "kiosk.services", "kiosk.hardware"),
}


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports(layer):
    files = list((KIOSK / layer).rglob("*.py"))
    assert files
    for path in files:
        for name in imports(path):
            for bad in FORBIDDEN[layer]:
                assert not (name == bad or name.startswith(bad + ".")), (
                    f"{path.relative_to(KIOSK)} imports {name} ({layer} must not import {bad})"
                )
