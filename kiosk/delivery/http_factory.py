"""The backend a config names: the embedded one (a kiosk's own) or the client of the hall
server (`kiosk hall serve`).

Qt-free, so staff tools and benchmarks make exactly the backend the kiosk makes, from the
same keys and files, without loading the GUI.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.backend.embedded import EmbeddedBackend
from kiosk.common.clock import Clock, shanghai_now
from kiosk.config.loader import resolve
from kiosk.config.schema import EmbeddedBackendConfig, HttpBackendConfig, read_device_token
from kiosk.domain import payloads
from kiosk.domain.catalog import Catalog

if TYPE_CHECKING:
    from kiosk.delivery.http_client import HttpBackend

BACKEND_KEY_ID = "kiosk-emb"
# The hall's code-signing keys as last fetched, so a kiosk that starts while the
# backend is unreachable still verifies the receipts and tickets it printed.
KEYS_CACHE_NAME = "backend-trusted-keys.json"


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The embedded backend's signing key for ticket and receipt codes, made on first start."""
    if path.exists():
        return payloads.load_private_key(path.read_bytes())
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(payloads.private_key_pem(key))
    tmp.chmod(0o600)
    tmp.replace(path)
    return key


def make_embedded(
    backend: EmbeddedBackendConfig,
    data_dir: Path,
    catalog: Catalog,
    *,
    clock: Clock = shanghai_now,
) -> EmbeddedBackend:
    return EmbeddedBackend(
        resolve(data_dir, backend.database),
        catalog,
        signing_key=load_or_create_key(data_dir / "backend-signing-key.pem"),
        key_id=BACKEND_KEY_ID,
        seed=backend.seed_demo_data,
        clock=clock,
    )


def make_http(
    backend: HttpBackendConfig,
    config_dir: Path,
    data_dir: Path | None,
    *,
    fetch_keys_on_demand: bool = True,
) -> HttpBackend:
    # Imported here: requests is loaded only by kiosks that talk to a hall backend.
    from kiosk.delivery.http_client import HttpBackend

    def path(value: str) -> Path | None:
        return resolve(config_dir, value) if value else None

    try:
        token = read_device_token(resolve(config_dir, backend.token_file))
    except ValueError as exc:
        # `kiosk check-config` reports the same (kiosk.config.devices); this is for a
        # caller that skipped it, and says which key to fix.
        raise ValueError(f"backend.token_file: {exc}") from None
    return HttpBackend(
        backend.url,
        token=token,
        ca_bundle=path(backend.ca_bundle),
        client_cert=path(backend.client_cert),
        client_key=path(backend.client_key),
        connect_timeout_s=backend.connect_timeout_s,
        read_timeout_s=backend.read_timeout_s,
        keys_cache=data_dir / KEYS_CACHE_NAME if data_dir is not None else None,
        fetch_keys_on_demand=fetch_keys_on_demand,
    )
