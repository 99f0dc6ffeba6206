"""Load the kiosk's config file (`kiosk.toml`), reporting every problem at once.

The reading and the messages are kiosk.common.datafiles's, shared with the catalog and the
bundles; this module adds what is particular to the config file.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.common.datafiles import SECRET_KEYS, ConfigFileError, load_model_file
from kiosk.config.schema import KioskConfig

__all__ = ["SECRET_KEYS", "ConfigFileError", "load_config", "resolve"]

# The config's tagged unions (device kinds): pydantic names them in error locations
# (printer.usb.port) where the technician wrote printer.port.
_DEVICE_KINDS = frozenset(
    {"emulated", "opencv", "usb", "serial", "network", "file", "embedded", "http"}
)


def load_config(path: Path) -> KioskConfig:
    return load_model_file(path, KioskConfig, _DEVICE_KINDS)


def resolve(base: Path, value: str) -> Path:
    """A path from the config: absolute as written, else relative to `base`."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)
