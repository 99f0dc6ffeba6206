"""Command-line entry points: `kiosk run`, `demo`, `receipt-render`, `make-code`, ...

Every command turns expected failures (a broken config, a missing file) into one clear
message and a non-zero exit code; a technician never reads a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

START = time.monotonic()

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "kiosk.toml"

EXIT_CONFIG = 2


def _config_path(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("KIOSK_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def load_checked_config(path: Path):
    """Validate the config file and its devices; raises ConfigFileError with every problem."""
    from kiosk.config.devices import device_problems
    from kiosk.config.loader import ConfigFileError, load_config
    from kiosk.domain.catalog import load_catalog

    config = load_config(path)
    problems = device_problems(config, path.resolve().parent)
    if problems:
        raise ConfigFileError(path, problems)
    from kiosk.config.loader import resolve

    load_catalog(resolve(path.resolve().parent, config.paths.catalog))
    return config


class ConfigRefused(Exception):
    """The config file is broken; its message has been printed for the technician."""


def config_or_message(path: Path, *, devices: bool = True):
    """The validated config, or every problem printed to stderr and ConfigRefused."""
    from kiosk.config.loader import ConfigFileError, load_config

    try:
        return load_checked_config(path) if devices else load_config(path)
    except ConfigFileError as e:
        print(e.message(), file=sys.stderr)
        raise ConfigRefused from None


def cmd_check_config(args: argparse.Namespace) -> int:
    from kiosk.config.loader import ConfigFileError

    path = _config_path(args.path)
    try:
        load_checked_config(path)
    except ConfigFileError as e:
        print(e.message(), file=sys.stderr)
        return EXIT_CONFIG
    print(f"{path}: OK")
    return 0


def setup_logging(data_dir: Path | None, verbose: bool = False) -> None:
    from logging.handlers import RotatingFileHandler

    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if data_dir is not None:
        (data_dir / "logs").mkdir(parents=True, exist_ok=True)
        handlers.append(
            RotatingFileHandler(
                data_dir / "logs" / "kiosk.log", maxBytes=5_000_000, backupCount=5,
                encoding="utf-8",
            )
        )
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def cmd_run(args: argparse.Namespace) -> int:
    path = _config_path(args.config)
    config = config_or_message(path)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            or os.environ.get("QT_QPA_PLATFORM")):
        print(
            "kiosk: no display (DISPLAY and WAYLAND_DISPLAY are unset), so no window can open.\n"
            "kiosk: start it from the kiosk's graphical session, or see every screen offscreen"
            " with: kiosk demo --out demo-out",
            file=sys.stderr,
        )
        return 3
    from PySide6.QtWidgets import QApplication

    from kiosk.app import Paths, build

    paths = Paths.from_config(config, path)
    setup_logging(paths.data_dir, args.verbose)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    kiosk_mode = config.screen.fullscreen and not args.windowed
    # The heap is frozen after the deferred start-up work (camera 0.3 s, voice 2.3 s, the
    # ticket libraries 0.5 s, screens warmed), before anyone can have reached the kiosk.
    kiosk = build(config, path, kiosk_mode=kiosk_mode, start_camera=False, defer_camera_ms=300,
                  freeze_heap_after_ms=4000)
    kiosk.present(kiosk_mode=kiosk_mode)
    app.aboutToQuit.connect(kiosk.shutdown)
    from PySide6.QtCore import QTimer

    from kiosk.services.watchdog import SystemdNotifier, WatchdogPinger

    notifier = SystemdNotifier()
    # Pinged from the GUI thread: a frozen event loop stops the pings and systemd restarts us.
    pinger = WatchdogPinger(notifier, parent=kiosk.window)

    def _ready() -> None:  # queued: READY=1 only once the event loop runs
        notifier.ready("kiosk ready")
        pinger.start()
        logging.getLogger("kiosk").info("kiosk ready")
        if args.exit_when_ready:
            # For start-up measurements: Home is painted and the event loop takes touches.
            from kiosk.devtools.simulate import rss_mb

            print(f"ready {time.monotonic() - START:.3f} rss_mb {rss_mb():.1f}", flush=True)
            kiosk.window.allow_close = True
            app.quit()

    QTimer.singleShot(0, _ready)
    app.aboutToQuit.connect(notifier.stopping)
    return app.exec()


def cmd_demo(args: argparse.Namespace) -> int:
    path = _config_path(args.config)
    config = config_or_message(path)
    from kiosk.devtools.demo import run_demo

    out = Path(args.out)
    setup_logging(None, args.verbose)
    written = run_demo(config, path, out, orientation=args.orientation)
    for p in written:
        print(p)
    print(f"demo: wrote {len(written)} files to {out}")
    return 0


def cmd_receipt_render(args: argparse.Namespace) -> int:
    from kiosk.devtools.escpos_render import main_render_command

    paper_dots = 384 if args.paper == 58 else 576
    columns = args.columns or (32 if args.paper == 58 else 48)
    return main_render_command(
        args.file,
        text=args.text or not args.output,
        out=args.output,
        columns=columns,
        paper_dots=paper_dots,
        chinese_default=not args.no_chinese_default,
    )


def cmd_make_code(args: argparse.Namespace) -> int:
    from kiosk.config.loader import resolve
    from kiosk.devtools.codes import make_code

    path = _config_path(args.config)
    config = config_or_message(path, devices=False)
    key_file = args.key or (
        str(resolve(path.resolve().parent, config.qr.demo_signing_key))
        if config.qr.demo_signing_key
        else ""
    )
    if not key_file:
        print("make-code: no signing key: pass --key PEM or set qr.demo_signing_key",
              file=sys.stderr)
        return EXIT_CONFIG
    return make_code(
        resident=args.resident,
        out=Path(args.output),
        key_file=Path(key_file),
        key_id=args.key_id or config.qr.demo_key_id,
        variant=args.variant,
        lifetime_s=args.lifetime,
    )


def _database_path(config_arg: str | None) -> Path:
    """The embedded backend's database file named by the config (for staff commands)."""
    from kiosk.config.loader import ConfigFileError, load_config, resolve

    path = _config_path(config_arg)
    config = load_config(path)
    if config.backend.kind != "embedded":
        # The kiosk keeps no database of its own then: staff tools run where it lives.
        raise ConfigFileError(path, [(
            "backend.kind",
            f"{config.backend.kind!r}: this kiosk uses a hall backend; run the command on the"
            " hall backend's machine, with the config `kiosk backend serve` uses")])
    data_dir = resolve(path.resolve().parent, config.paths.data_dir)
    return resolve(data_dir, config.backend.database)


def _catalog_path(config_arg: str | None) -> Path:
    from kiosk.config.loader import load_config, resolve

    path = _config_path(config_arg)
    return resolve(path.resolve().parent, load_config(path).paths.catalog)


def _staff_command(args: argparse.Namespace, run) -> int:
    from kiosk.config.loader import ConfigFileError

    try:
        db, catalog = _database_path(args.config), _catalog_path(args.config)
    except ConfigFileError as e:
        print(e.message(), file=sys.stderr)
        return EXIT_CONFIG
    return int(run(db, catalog))


def cmd_check_bundles(args: argparse.Namespace) -> int:
    from kiosk.cli.bundles import check_bundles_command

    return check_bundles_command(args.folder, args.catalog)


def cmd_backend_advance(args: argparse.Namespace) -> int:
    from kiosk.backend.admin import advance_command

    return _staff_command(args, lambda db, cat: advance_command(
        db, args.reference, args.status, args.note, catalog_path=cat))


def cmd_backend_call_next(args: argparse.Namespace) -> int:
    from kiosk.backend.admin import call_next_command

    return _staff_command(args, lambda db, cat: call_next_command(db, args.category,
                                                                  catalog_path=cat))


def cmd_backend_serve(args: argparse.Namespace) -> int:
    from kiosk.config.loader import resolve
    from kiosk.config.schema import is_loopback_host

    path = _config_path(args.config)
    config = config_or_message(path, devices=False)
    if config.backend.kind != "embedded":
        print(f"{path}: backend.kind is {config.backend.kind!r}; the hall backend serves its own"
              " embedded database: give it a config with kind = \"embedded\"", file=sys.stderr)
        return EXIT_CONFIG
    if bool(args.cert) != bool(args.key):
        print("backend serve: --cert and --key go together", file=sys.stderr)
        return EXIT_CONFIG
    if args.client_ca and not args.cert:
        print("backend serve: --client-ca (mutual TLS) needs --cert and --key", file=sys.stderr)
        return EXIT_CONFIG
    if not args.cert and not is_loopback_host(args.host):
        # Kiosks refuse http:// to another machine anyway; serving it would only leak data.
        print(f"backend serve: plain http only on 127.0.0.1/localhost; to serve on {args.host}"
              " give --cert and --key (see docs/TECHNICIAN.md)", file=sys.stderr)
        return EXIT_CONFIG
    import ssl

    from kiosk.backend.http_server import BackendHTTPServer, run_until_stopped, tls_context
    from kiosk.delivery.http_factory import make_embedded
    from kiosk.domain.catalog import load_catalog

    setup_logging(None, args.verbose)
    config_dir = path.resolve().parent
    data_dir = resolve(config_dir, config.paths.data_dir)
    try:
        tls = (tls_context(Path(args.cert), Path(args.key),
                           Path(args.client_ca) if args.client_ca else None)
               if args.cert else None)
    except (OSError, ssl.SSLError) as exc:
        print(f"backend serve: cannot load the TLS certificate or key: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    catalog = load_catalog(resolve(config_dir, config.paths.catalog))
    backend = make_embedded(config.backend, data_dir, catalog)
    try:
        try:
            server = BackendHTTPServer((args.host, args.port), backend, tls=tls)
        except OSError as exc:
            print(f"backend serve: cannot listen on {args.host}:{args.port}: {exc.strerror}",
                  file=sys.stderr)
            return 1
        mtls = ", client certificates required" if args.client_ca else ""
        print(f"backend serve: {server.url}{mtls}; database {backend.db_path}; Ctrl-C stops",
              flush=True)
        run_until_stopped(server)
    finally:
        backend.close()
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from kiosk.backend.stats import stats_command

    return _staff_command(args, lambda db, _cat: stats_command(
        db, args.date_from, args.date_to, args.csv))


def cmd_simulate(args: argparse.Namespace) -> int:
    path = _config_path(args.config)
    config = config_or_message(path)
    from kiosk.devtools.simulate import run_simulation

    logging.basicConfig(level=logging.ERROR)
    rows = run_simulation(config, path, args.sessions, args.every, args.seed)
    if len(rows) >= 2:
        # Growth is judged after warm-up (the first 500 sessions) when the run is long enough.
        warm = 500 if rows[-1]["sessions"] >= 1000 else rows[0]["sessions"]
        base = next(r for r in rows if r["sessions"] >= warm)
        last = rows[-1]
        print(f"simulate: RSS {base['rss_mb']} MB after {base['sessions']} sessions -> "
              f"{last['rss_mb']} MB after {last['sessions']} "
              f"(+{last['rss_mb'] - base['rss_mb']:.1f} MB); camera worker "
              f"{base['worker_rss_mb']} -> {last['worker_rss_mb']} MB; fds {base['fds']} -> "
              f"{last['fds']}; threads {base['threads']} -> {last['threads']}; QObjects "
              f"{base['qobjects']} -> {last['qobjects']}")
        print(f"reproduce: kiosk simulate --sessions {args.sessions} --every {args.every}"
              f" --seed {args.seed}")
    return 0


def cmd_hash_pin(args: argparse.Namespace) -> int:
    from kiosk.cli.pin import hash_pin_command

    return hash_pin_command(_config_path(args.config), print_only=args.print_only)


def cmd_scan_bench(args: argparse.Namespace) -> int:
    from kiosk.devtools.scanbench import scan_bench_command

    return scan_bench_command(args.folder, args.compare, args.decoder, verbose=args.verbose)


def cmd_make_bench(args: argparse.Namespace) -> int:
    from kiosk.devtools.scanbench import make_bench_command

    return make_bench_command(args.folder, args.count, args.seed)


def cmd_config_reference(args: argparse.Namespace) -> int:
    from kiosk.config.reference import config_reference

    text = config_reference()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="一网通办 24-hour self-service kiosk"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="start the kiosk")
    p.add_argument("--config", help=f"config file (default {DEFAULT_CONFIG} or $KIOSK_CONFIG)")
    p.add_argument("--windowed", action="store_true", help="a normal window, not kiosk mode")
    p.add_argument("--exit-when-ready", action="store_true",
                   help="quit as soon as Home accepts touches (start-up benchmark)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="scripted resident sessions offscreen; writes PNGs")
    p.add_argument("--out", required=True, help="folder for the screenshots and ticket files")
    p.add_argument("--config", help="config file")
    p.add_argument("--orientation", choices=["landscape", "portrait", "both"], default="both")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("receipt-render", help="show what an ESC/POS stream prints")
    p.add_argument("file", help="raw ESC/POS bytes (.bin)")
    p.add_argument("--text", action="store_true", help="print the text a person would read")
    p.add_argument("-o", "--output", help="write a paper-like PNG")
    p.add_argument("--paper", type=int, choices=[58, 80], default=80)
    p.add_argument("--columns", type=int, default=0, help="characters per line (font A)")
    p.add_argument("--no-chinese-default", action="store_true",
                   help="the printer starts in single-byte mode (not Chinese mode)")
    p.set_defaults(func=cmd_receipt_render)

    p = sub.add_parser("make-code", help="render a personal code for a demo resident")
    p.add_argument("--resident", required=True, help="resident id, e.g. R0001")
    p.add_argument("-o", "--output", required=True, help="PNG file to write")
    p.add_argument("--config", help="config file (for the demo key)")
    p.add_argument("--key", help="PEM private key (default: qr.demo_signing_key)")
    p.add_argument("--key-id", help="key id (default: qr.demo_key_id)")
    p.add_argument("--lifetime", type=int, default=60, help="seconds the code is valid")
    group = p.add_mutually_exclusive_group()
    for variant in ("expired", "future", "bad-signature", "wrong-kind", "garbage"):
        group.add_argument(f"--{variant}", dest="variant", action="store_const",
                           const=variant, help=f"a {variant.replace('-', ' ')} code, for tests")
    p.set_defaults(func=cmd_make_code, variant="valid")

    p = sub.add_parser("check-bundles", help="validate a folder of 一件事 bundle files")
    p.add_argument("folder", help="e.g. config/bundles")
    p.add_argument("--catalog", help="catalog.yaml (default: beside the folder)")
    p.set_defaults(func=cmd_check_bundles)

    p = sub.add_parser("stats", help="export usage statistics (服务指数); no personal data")
    p.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, help="last day, YYYY-MM-DD")
    p.add_argument("--csv", action="store_true", help="CSV (section,key,subkey,value)")
    p.add_argument("--config", help="config file (for the database)")
    p.set_defaults(func=cmd_stats)

    backend = sub.add_parser(
        "backend", help="staff tools and the hall server for the embedded backend")
    bsub = backend.add_subparsers(dest="backend_command", required=True)
    p = bsub.add_parser("advance", help="move an application to a new status")
    p.add_argument("reference", help="办件编号, e.g. YW20261122000001")
    p.add_argument("status", help="accepted | needs_more | done (or 受理中 / 需补正 / 已办结)")
    p.add_argument("--note", default="", help="for needs_more: what is still missing")
    p.add_argument("--config", help="config file (for the database)")
    p.set_defaults(func=cmd_backend_advance)
    p = bsub.add_parser("call-next", help="call the next waiting ticket of a category")
    p.add_argument("category", help="catalog id, e.g. social_security")
    p.add_argument("--config", help="config file (for the database)")
    p.set_defaults(func=cmd_backend_call_next)
    p = bsub.add_parser("serve", help="serve the embedded backend to a hall's kiosks (HTTPS)")
    p.add_argument("--config", help="config file (backend.kind = embedded: its database)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8443, help="TCP port (default 8443)")
    p.add_argument("--cert", help="PEM server certificate (chain); without it plain http,"
                   " on 127.0.0.1/localhost only")
    p.add_argument("--key", help="PEM private key of --cert")
    p.add_argument("--client-ca", help="mutual TLS: accept only kiosks whose client"
                   " certificate this CA signed")
    p.set_defaults(func=cmd_backend_serve)

    p = sub.add_parser("simulate", help="random resident sessions offscreen; leak figures")
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--every", type=int, default=100, help="report every N sessions")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--config", help="config file")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("scan-bench", help="QR decoding benchmark: images + .txt beside them")
    p.add_argument("folder", help="name.png / name.jpg, each with name.txt (its exact text)")
    p.add_argument("--compare", action="store_true",
                   help="also pyzbar, zxing and opencv alone on the same images, same run")
    p.add_argument("--decoder", choices=["pyzbar", "zxing", "opencv", "combined"],
                   default="combined", help="the pipeline under test (default: combined)")
    p.set_defaults(func=cmd_scan_bench)

    p = sub.add_parser("make-bench", help="write a QR benchmark set of phone-screen frames")
    p.add_argument("folder", help="folder to write (earlier scan-NNNN files are replaced)")
    p.add_argument("--count", type=int, default=200, help="number of frames (default 200)")
    p.add_argument("--seed", type=int, default=1, help="random seed: same seed, same set")
    p.set_defaults(func=cmd_make_bench)

    p = sub.add_parser("hash-pin",
                       help="set the maintenance PIN: writes its hash into the config")
    p.add_argument("--config", help="the config file to write (default: the kiosk's config)")
    p.add_argument("--print", dest="print_only", action="store_true",
                   help="print the config lines instead of writing them")
    p.set_defaults(func=cmd_hash_pin)

    p = sub.add_parser("config-reference", help="every config key with default and meaning")
    p.add_argument("-o", "--output", help="write Markdown here (docs/CONFIG.md)")
    p.set_defaults(func=cmd_config_reference)

    p = sub.add_parser("check-config", help="validate a config file and its devices")
    p.add_argument("path", nargs="?", help="config file")
    p.set_defaults(func=cmd_check_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    from kiosk.services.memory import tune_allocator

    tune_allocator()  # before the first thread and the first large buffer
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigRefused:
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
