"""The shipped files, found through the package (installed or a checkout's editable install)."""

from __future__ import annotations

from kiosk.common import resources
from tests.helpers.paths import REPO_ROOT


def test_every_shipped_file_is_found():
    for path in (resources.default_config(), resources.default_catalog(),
                 resources.demo_signing_key(), resources.translations_dir() / "kiosk_en.qm",
                 resources.sounds_dir() / "scan_ok.wav"):
        assert path.is_file(), path
    assert len(list(resources.default("bundles").glob("*.yaml"))) >= 6


def test_in_a_checkout_they_are_the_repositorys_own_folders():
    # The links are resolved, so a config's `../var` is the checkout's var/ as it always was.
    assert resources.default_config() == (REPO_ROOT / "config" / "kiosk.toml").resolve()
    assert resources.asset("sounds") == (REPO_ROOT / "assets" / "sounds").resolve()
