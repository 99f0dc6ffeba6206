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
    from kiosk.common.datafiles import ConfigFileError
    from kiosk.config.schema import KioskConfig, PathsConfig
    from kiosk.domain.bundles import BundleSet

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
    problems += demo_key_problems(config, path.resolve().parent)
    if problems:
        raise ConfigFileError(path, problems)
    load_catalog(resolve(path.resolve().parent, config.paths.catalog))
    return config


def check_config_files(path: Path) -> tuple[KioskConfig | None, list[ConfigFileError],
                                            BundleSet | None]:
    """Everything `kiosk check-config` checks without opening a device, every problem of every
    file at once: the config file (keys, device paths, keys to trust), the catalog, and each
    bundle file. Returns the config (None when the file itself is broken), the broken files,
    and the bundles the kiosk would offer (None without a config).

    `kiosk run` refuses the first two; a broken bundle file is only left out (and logged at
    start), but a technician checking a terminal must hear of it: residents will not see
    that 一件事."""
    from kiosk.config.devices import device_problems
    from kiosk.config.loader import ConfigFileError, load_config, resolve
    from kiosk.domain.bundles import load_bundles
    from kiosk.domain.catalog import load_catalog

    config_dir = path.resolve().parent
    errors: list[ConfigFileError] = []
    config: KioskConfig | None = None
    try:
        config = load_config(path)
    except ConfigFileError as e:
        errors.append(e)
        paths = _paths_section(path)
        if paths is None:
            return None, errors, None
    else:
        paths = config.paths
        problems = device_problems(config, config_dir) + demo_key_problems(config, config_dir)
        if problems:
            errors.append(ConfigFileError(path, problems))
    catalog_ids: set[str] | None = None
    catalog_file = resolve(config_dir, paths.catalog)
    if catalog_file.is_file():  # a missing one is among device_problems
        try:
            catalog_ids = {c.id for c in load_catalog(catalog_file).categories}
        except ConfigFileError as e:
            errors.append(e)
    bundles = load_bundles(resolve(config_dir, paths.bundles), catalog_ids)
    errors += bundles.errors
    return config, errors, bundles


def _paths_section(path: Path) -> PathsConfig | None:
    """The `[paths]` of a config file that failed its checks, if that table itself is fine:
    the catalog and bundles it names are checked too, so that every file's mistakes come at
    once rather than one file per round."""
    from pydantic import ValidationError

    from kiosk.common.datafiles import read_data_file
    from kiosk.config.loader import ConfigFileError
    from kiosk.config.schema import PathsConfig

    try:
        data = read_data_file(path)
        table = data.get("paths", {}) if isinstance(data, dict) else None
        return PathsConfig.model_validate(table) if isinstance(table, dict) else None
    except (ConfigFileError, ValidationError):
        return None


def demo_mode_reasons(config: KioskConfig) -> list[str]:
    """Why this config is not a demo terminal; empty for a demo.

    A demo names its signing key (`qr.demo_signing_key`: the emulated phone signs codes
    with it) and has no real device: an emulated camera and printer, no scan engine. The
    shipped config is one; a terminal in service has real devices, or had the key removed.
    """
    reasons = []
    if not config.qr.demo_signing_key:
        reasons.append("qr.demo_signing_key is empty")
    if config.camera.kind != "emulated":
        reasons.append(f'camera.kind = "{config.camera.kind}" is a real camera')
    if config.printer.kind != "emulated":
        reasons.append(f'printer.kind = "{config.printer.kind}" is a real printer')
    if config.scan_engine.port:
        reasons.append("scan_engine.port names a real scan engine")
    if config.id_card.kind == "serial":
        reasons.append('id_card.kind = "serial" is a real ID card reader')
    return reasons


def demo_key_problems(config: KioskConfig, config_dir: Path) -> list[tuple[str, str]]:
    """A trusted key whose private half is public (the repository's demo key, or the config's
    own `qr.demo_signing_key`) on a terminal that is not a demo: anyone could sign personal
    codes (and take priority tickets) with it."""
    import base64

    from kiosk.config.loader import resolve
    from kiosk.domain.payloads import load_private_key, public_key_b64

    demo_files = [resources.demo_signing_key()]
    if config.qr.demo_signing_key:
        demo_files.insert(0, resolve(config_dir, config.qr.demo_signing_key))
    demo_keys: dict[bytes, Path] = {}
    for pem in demo_files:
        try:
            public = public_key_b64(load_private_key(pem.read_bytes()))
        except (OSError, ValueError, TypeError):
            continue  # a missing key file is device_problems' to report
        demo_keys.setdefault(base64.b64decode(public), pem)
    trusted = [(kid, demo_keys[raw]) for kid, raw in
               ((kid, base64.b64decode(b64)) for kid, b64 in config.qr.public_keys.items())
               if raw in demo_keys]
    reasons = demo_mode_reasons(config) if trusted else []
    if not reasons:
        return []
    return [(
        f"qr.public_keys.{kid}",
        f"trusts the DEMO key of {pem}, whose private half is public (anyone can sign"
        f" personal codes with it), on a terminal that is not a demo ({'; '.join(reasons)})."
        f" Replace `{kid}` with the 随申办 platform's public key and leave"
        " qr.demo_signing_key empty (config/dev-keys/README.md); a demo keeps"
        " qr.demo_signing_key with the emulated camera and printer.",
    ) for kid, pem in trusted]


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
