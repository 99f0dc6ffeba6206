"""Checks that the devices a config names are there, before the kiosk relies on them.

Schema validation cannot know that `/dev/ttyUSB0` is missing on this terminal; a technician
who mistyped a device path should hear it at start, by file and key, not at the first ticket.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.config.loader import resolve
from kiosk.config.schema import (
    EmulatedCameraConfig,
    KioskConfig,
    OpenCVCameraConfig,
    read_device_token,
    read_metrics_token,
)


def resolved_camera(config: KioskConfig, config_dir: Path
                    ) -> EmulatedCameraConfig | OpenCVCameraConfig:
    """The camera section as the kiosk opens it: a relative `path` made absolute from the
    config file's folder, the one rule for every relative path in the config (docs/CONFIG.md),
    whatever folder the kiosk was started from. `device_problems` checks the same path."""
    camera = config.camera
    if camera.kind == "emulated" and camera.path:
        return camera.model_copy(update={"path": str(resolve(config_dir, camera.path))})
    return camera


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
        # The same path `resolved_camera` gives the camera, so the check and the run agree.
        target = resolve(config_dir, camera.path) if camera.path else None
        if camera.source == "images":
            what, there = "folder", target is not None and target.is_dir()
        else:
            what, there = "video file", target is not None and target.is_file()
        if not there:
            where = (f" ({target}; a relative path starts at the config file's folder)"
                     if target is not None else "")
            problems.append(("camera.path",
                             f"expected an existing {what} for source = {camera.source!r}{where}"))
    problems += id_card_problems(config)
    if config.qr.demo_signing_key:
        key = resolve(config_dir, config.qr.demo_signing_key)
        if not key.is_file():
            problems.append(("qr.demo_signing_key", f"key file {key} does not exist"))
    problems += backend_file_problems(config, config_dir)
    metrics = config.metrics
    if metrics.enabled and metrics.token_file:
        # `kiosk run` would only log it and run without metrics: the district's alert that
        # the terminal is not scraped would be the first to say so.
        try:
            read_metrics_token(resolve(config_dir, metrics.token_file))
        except ValueError as exc:
            problems.append(("metrics.token_file", str(exc)))
    catalog = resolve(config_dir, config.paths.catalog)
    if not catalog.is_file():
        problems.append(("paths.catalog", f"catalog file {catalog} does not exist"))
    if not config.qr.public_keys:
        problems.append(
            ("qr.public_keys", "expected at least one trusted key, or no code verifies")
        )
    return problems


def id_card_problems(config: KioskConfig) -> list[tuple[str, str]]:
    """The ID card reader's port. A kiosk of a hall may have a reader too: the hall then
    needs to be told (`kiosk hall set-id-card-reader NAME on`), which no check here can see;
    until it is, the kiosk tells a resident who places a card to show the 随申码 instead."""
    reader = config.id_card
    problems: list[tuple[str, str]] = []
    if reader.kind == "serial" and "://" not in reader.port and not Path(reader.port).exists():
        problems.append(("id_card.port", f"serial port {reader.port} does not exist (is the"
                         " reader plugged in? ls /dev/serial/by-id/)"))
    return problems


def backend_file_problems(config: KioskConfig, config_dir: Path) -> list[tuple[str, str]]:
    """A hall backend's token file, CA bundle and client certificate must be there and
    readable: a typo here would otherwise show only as "certificate refused" or "credential
    refused" at the first resident."""
    import ssl

    backend = config.backend
    if backend.kind != "http":
        return []
    problems: list[tuple[str, str]] = []
    try:
        read_device_token(resolve(config_dir, backend.token_file))
    except ValueError as exc:
        problems.append(("backend.token_file", str(exc)))
    if backend.ca_bundle:
        ca = resolve(config_dir, backend.ca_bundle)
        if not ca.is_file():
            problems.append(("backend.ca_bundle", f"CA file {ca} does not exist"))
        else:
            try:
                ssl.create_default_context(cafile=str(ca))
            except (ssl.SSLError, OSError, ValueError):
                problems.append(("backend.ca_bundle",
                                 f"{ca} holds no PEM certificate (expected the hall CA's .pem)"))
    if backend.client_cert:
        cert = resolve(config_dir, backend.client_cert)
        key = resolve(config_dir, backend.client_key)
        missing = [(k, p) for k, p in (("backend.client_cert", cert), ("backend.client_key", key))
                   if not p.is_file()]
        problems += [(k, f"file {p} does not exist") for k, p in missing]
        if not missing:
            try:
                ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(str(cert), str(key))
            except (ssl.SSLError, OSError):
                problems.append(("backend.client_cert",
                                 "certificate and key do not load as a pair (PEM, unencrypted)"))
    return problems
