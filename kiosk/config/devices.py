"""Checks that the devices a config names are there, before the kiosk relies on them.

Schema validation cannot know that `/dev/ttyUSB0` is missing on this terminal; a technician
who mistyped a device path should hear it at start, by file and key, not at the first ticket.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.config.loader import resolve
from kiosk.config.schema import KioskConfig


def device_problems(config: KioskConfig, config_dir: Path) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    printer = config.printer
    if printer.kind == "file" and not Path(printer.path).exists():
        problems.append(
            ("printer.path", f"device {printer.path} does not exist (is the printer plugged in?)")
        )
    if printer.kind == "serial" and "://" not in printer.port and not Path(printer.port).exists():
        problems.append(
            ("printer.port", f"serial port {printer.port} does not exist (check the cable/adapter)")
        )
    camera = config.camera
    if (camera.kind == "opencv" and isinstance(camera.device, str)
            and not Path(camera.device).exists()):
        problems.append(
            ("camera.device", f"camera {camera.device} does not exist (ls /dev/v4l/by-id/)")
        )
    if camera.kind == "emulated" and camera.source in ("images", "video"):
        target = resolve(config_dir, camera.path) if camera.path else None
        if target is None or not target.exists():
            what = "folder" if camera.source == "images" else "video file"
            problems.append(
                ("camera.path", f"expected an existing {what} for source = {camera.source!r}")
            )
    if config.qr.demo_signing_key:
        key = resolve(config_dir, config.qr.demo_signing_key)
        if not key.is_file():
            problems.append(("qr.demo_signing_key", f"key file {key} does not exist"))
    catalog = resolve(config_dir, config.paths.catalog)
    if not catalog.is_file():
        problems.append(("paths.catalog", f"catalog file {catalog} does not exist"))
    if not config.qr.public_keys:
        problems.append(
            ("qr.public_keys", "expected at least one trusted key, or no code verifies")
        )
    return problems
