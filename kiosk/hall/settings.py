"""The hall server's settings: one TOML file (config/hall-server.toml) and the database DSN
from the environment, validated once at start; a problem names the file, the key and what
was expected."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from kiosk.common import resources
from kiosk.common.clock import shanghai_now
from kiosk.common.datafiles import ConfigFileError, load_model_file
from kiosk.hall.rules.config import HallRules, load_hall_rules

DSN_VARIABLE = "KIOSK_HALL_DSN"
SETTINGS_VARIABLE = "KIOSK_HALL_SETTINGS"
# The bearer token of GET /metrics, for a hall that keeps its secrets in the environment
# (/etc/kiosk-hall/hall.env) rather than in the file `metrics_token_file` names.
METRICS_TOKEN_VARIABLE = "KIOSK_HALL_METRICS_TOKEN"
METRICS_TOKEN_MIN = 16
# What server.py hands its worker processes for their metrics (kiosk.hall.metrics): the
# folder of prometheus_client's multiprocess mode (the library reads it once, at its
# import), and the server's start, the same for every worker and for one uvicorn restarted.
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
STARTED_VARIABLE = "KIOSK_HALL_STARTED"


class SettingsError(ValueError):
    """The settings file or the environment is wrong; the message says where and how."""


class _SettingsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_url: str = Field(pattern=r"^https?://[^/\s]+(/[^\s]*)?$")
    rules: str = "hall.yaml"
    calendar: str = "hall-calendar.yaml"
    seed_demo_residents: bool = False
    issuers: dict[str, str] = Field(default_factory=dict)
    metrics_token_file: str = ""


@dataclass(frozen=True)
class HallSettings:
    # Out of the repr: a DSN may hold the database's password, and a settings object ends up
    # in tracebacks and debug logs.
    dsn: str = field(repr=False)
    rules: HallRules
    issuer_keys: dict[str, Ed25519PublicKey]
    public_url: str
    seed_demo_residents: bool = False
    clock: Callable[[], dt.datetime] = shanghai_now
    pool_max: int = 16
    extra: dict[str, str] = field(default_factory=dict)
    # GET /metrics answers only a scrape that sends it; "" = no /metrics (404).
    metrics_token: str = field(default="", repr=False)


def default_settings_file() -> Path:
    """$KIOSK_HALL_SETTINGS, else the shipped config/hall-server.toml. The Debian package's
    /usr/bin/kiosk-hall sets the variable to /etc/kiosk-hall/hall-server.toml, the hall's own
    settings; the shipped file inside the package is only the example they started from."""
    env = os.environ.get(SETTINGS_VARIABLE)
    return Path(env) if env else resources.default("hall-server.toml")


def _public_key(path: Path, key_id: str, text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise SettingsError(
            f"{path}: issuers.{key_id}: expected the base64 of a 32-byte Ed25519 public key"
        ) from None


def _metrics_token(path: Path, key: str, environment: dict[str, str]) -> str:
    """The bearer token of GET /metrics from `metrics_token_file` (relative to the settings
    file) or KIOSK_HALL_METRICS_TOKEN; "" when neither is set. Never quotes the token."""
    variable = environment.get(METRICS_TOKEN_VARIABLE, "").strip()
    if key and variable:
        raise SettingsError(f"{path}: metrics_token_file: set it or {METRICS_TOKEN_VARIABLE},"
                            " not both (which token would a scrape need?)")
    if key:
        where = f"{path}: metrics_token_file"
        file = path.parent / key
        try:
            token = file.read_text("ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{where}: token file {file} cannot be read"
                                f" ({type(exc).__name__})") from None
    elif variable:
        where, token = METRICS_TOKEN_VARIABLE, variable
    else:
        return ""
    if len(token) < METRICS_TOKEN_MIN or not all("!" <= c <= "~" for c in token):
        raise SettingsError(f"{where}: expected a token of at least {METRICS_TOKEN_MIN}"
                            " printable ASCII characters without spaces, e.g. the output of"
                            " `openssl rand -hex 32`")
    return token


def load_settings(path: Path | None = None, dsn: str | None = None) -> HallSettings:
    path = path or default_settings_file()
    try:
        data = load_model_file(path, _SettingsFile)
    except ConfigFileError as exc:  # already names the file and keys
        raise SettingsError(str(exc)) from None
    if dsn is None:
        dsn = os.environ.get(DSN_VARIABLE)
    if dsn is None:
        raise SettingsError(
            f"{DSN_VARIABLE} is not set: the hall's PostgreSQL address, e.g. "
            "postgresql://kiosk_hall:PASSWORD@localhost/kiosk_hall "
            "(bash packaging/setup.sh hall writes it to /etc/kiosk-hall/hall.env)"
        )
    rules = load_hall_rules(path.parent / data.rules, path.parent / data.calendar)
    keys = {kid: _public_key(path, kid, text) for kid, text in data.issuers.items()}
    return HallSettings(dsn=dsn, rules=rules, issuer_keys=keys,
                        public_url=data.public_url.rstrip("/"),
                        seed_demo_residents=data.seed_demo_residents,
                        metrics_token=_metrics_token(path, data.metrics_token_file,
                                                     dict(os.environ)))
