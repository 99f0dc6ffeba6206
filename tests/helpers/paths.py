"""Where the checkout's files are, computed once so no test counts parent folders itself."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"
SHIPPED_CONFIG = CONFIG_DIR / "kiosk.toml"
CATALOG_FILE = CONFIG_DIR / "catalog.yaml"
BUNDLES_DIR = CONFIG_DIR / "bundles"
