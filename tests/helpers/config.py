"""The shipped config made fit for a test: emulated camera showing nothing, a temporary data
folder, a window instead of full screen."""

from __future__ import annotations

from pathlib import Path

from kiosk.config.loader import load_config
from kiosk.config.schema import EmulatedCameraConfig, KioskConfig
from tests.helpers.paths import SHIPPED_CONFIG


def make_config(data_dir: Path, printer: dict | None = None, config_file: Path = SHIPPED_CONFIG,
                **screen: object) -> KioskConfig:
    base = load_config(config_file)
    return base.model_copy(
        update={
            "camera": EmulatedCameraConfig(source="blank"),
            "printer": base.printer.model_copy(update=printer or {}),
            "paths": base.paths.model_copy(update={"data_dir": str(data_dir)}),
            "screen": base.screen.model_copy(update={"fullscreen": False, **screen}),
        }
    )
