"""The files the kiosk ships beside its code: the one place that finds them.

The repository keeps them in two top-level folders that stay where they are (the project's
design card puts them there): `assets/` (translations, sounds) and `config/` (the default
`kiosk.toml`, the service catalogue, the 一件事 bundles, the demo signing key). They are
package data, reached as `kiosk/_assets` and `kiosk/_defaults`: two symbolic links in the
checkout, which an editable install (`pip install -e .`) follows, and real folders in the
wheel that `pip install .` unpacks. pyproject.toml's `package-data` lists them.

Every path here is read through `importlib.resources`, and every one is a real `Path`
because its consumers need a file name, not a stream: QTranslator loads a file, the voice
worker is handed the sound's file name, a config names other files relative to its own
folder (its `data_dir` too, where SQLite writes). That holds for both kinds of install, which
unpack the package on disk; a package imported from a zip file is not supported and fails
here, at the first use, with that said. Nothing is extracted to a temporary copy
(`importlib.resources.as_file`), because a temporary copy of the default config would put
its data folder, and so the outbox, in a folder that vanishes.

Imports only the standard library (kiosk.common may be imported from every layer).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

ASSETS = "_assets"
DEFAULTS = "_defaults"


def package_folder(name: str) -> Path:
    """`kiosk/<name>` on disk (ASSETS or DEFAULTS), its links resolved.

    Resolved because a config names its data folder relative to its own (`../var`): through
    the link that is the checkout's `var/`, as before the files were package data, and not a
    `var/` inside the package folder.
    """
    found = files("kiosk") / name
    if not isinstance(found, Path):
        raise RuntimeError(
            f"the kiosk package is not on a file system ({found!r}); install it with pip "
            "(pip install . or pip install -e .), which unpacks it"
        )
    return found.resolve()


def asset(*parts: str) -> Path:
    """A file or folder under the repository's `assets/`, e.g. asset("sounds", "scan_ok.wav")."""
    return package_folder(ASSETS).joinpath(*parts)


def default(*parts: str) -> Path:
    """A file or folder under the repository's `config/`, e.g. default("catalog.yaml")."""
    return package_folder(DEFAULTS).joinpath(*parts)


def default_config() -> Path:
    """The shipped `kiosk.toml`: emulated devices, embedded backend."""
    return default("kiosk.toml")


def default_catalog() -> Path:
    return default("catalog.yaml")


def demo_signing_key() -> Path:
    """The public throwaway key of config/dev-keys (see its README): demos and tests only."""
    return default("dev-keys", "demo-issuer.pem")


def translations_dir() -> Path:
    return asset("translations")


def sounds_dir() -> Path:
    return asset("sounds")
