"""The config a kiosk runs with: which file it is, and loading it with every check.

`load_config` (kiosk.config.loader) checks the file's keys and types; a kiosk also needs its
devices to make sense and its catalog to load, and a technician wants all of that reported
at once, before the window opens. The CLI (`kiosk run`, `check-config`, ...) and the
maintenance screen's "check the config file" both use `load_checked_config`, so the two can
never disagree about whether a file is good.

Imports kiosk.common, kiosk.config and kiosk.domain (the catalog), never the UI or the CLI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.common import resources

if TYPE_CHECKING:  # pydantic stays unloaded until a config is read: `kiosk --help` is quick
    from kiosk.config.schema import KioskConfig

DEFAULT_CONFIG = resources.default_config()


def config_path(arg: str | None) -> Path:
    """The config file named on the command line, else $KIOSK_CONFIG, else the shipped one."""
    if arg:
        return Path(arg)
    env = os.environ.get("KIOSK_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def load_checked_config(path: Path) -> KioskConfig:
    """Validate the config file and its devices; raises ConfigFileError with every problem."""
    from kiosk.config.devices import device_problems
    from kiosk.config.loader import ConfigFileError, load_config, resolve
    from kiosk.domain.catalog import load_catalog

    config = load_config(path)
    problems = device_problems(config, path.resolve().parent)
    if problems:
        raise ConfigFileError(path, problems)
    load_catalog(resolve(path.resolve().parent, config.paths.catalog))
    return config


class ConfigRefused(Exception):
    """The config file is broken; its message has been printed for the technician."""


def config_or_message(path: Path, *, devices: bool = True) -> KioskConfig:
    """The validated config, or every problem printed to stderr and ConfigRefused."""
    from kiosk.config.loader import ConfigFileError, load_config

    try:
        return load_checked_config(path) if devices else load_config(path)
    except ConfigFileError as e:
        print(e.message(), file=sys.stderr)
        raise ConfigRefused from None
