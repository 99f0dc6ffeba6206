"""`kiosk run`: start the kiosk, and the logging set-up the long-running commands share.

Qt and the application are imported inside the command, after the config has been checked
and a display found: a broken config is reported in well under a second, without loading Qt.
`kiosk run` tells systemd READY=1 once the event loop runs and pings its watchdog from the
GUI thread (kiosk.services.watchdog).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.common.exitcodes import EXIT_NO_DISPLAY
from kiosk.config.checked import DEFAULT_CONFIG, config_or_message, config_path

if TYPE_CHECKING:
    from kiosk.config.schema import KioskConfig

# Start-up is timed from here (`--exit-when-ready`): this module is imported while the
# command line is parsed, before any heavy import.
START = time.monotonic()


def setup_logging(data_dir: Path | None, verbose: bool = False, *,
                  config: KioskConfig | None = None) -> str:
    """Where the log goes: "journal" or "stderr".

    Under systemd (stderr is a stream into the journal, kiosk.services.journal_log says how
    that is told) each record becomes one journal entry with the fields CENTER, KIOSK and
    EVENT (from `config`, when given), and nothing else is written: not stderr, which would
    put every record in the journal twice, nor a file on the terminal's disk. Elsewhere (a
    technician's shell, the tests, the demo) as always: stderr and, with a data dir, rotating
    files in its logs/.
    """
    from kiosk.services import journal_log

    level = logging.DEBUG if verbose else logging.INFO
    handlers: list[logging.Handler]
    if journal_log.use_journal():
        center = config.center if config is not None else None
        handlers = [journal_log.KioskJournalHandler(
            center=center.name if center else None,
            kiosk=center.kiosk_id if center else None)]
        target = "journal"
    else:
        from logging.handlers import RotatingFileHandler

        text = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        handlers = [logging.StreamHandler(sys.stderr)]
        if data_dir is not None:
            (data_dir / "logs").mkdir(parents=True, exist_ok=True)
            handlers.append(
                RotatingFileHandler(
                    data_dir / "logs" / "kiosk.log", maxBytes=5_000_000, backupCount=5,
                    encoding="utf-8",
                )
            )
        for handler in handlers:
            handler.setFormatter(text)
        target = "stderr"
    logging.basicConfig(level=level, handlers=handlers, force=True)
    return target


def cmd_run(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    config = config_or_message(path)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            or os.environ.get("QT_QPA_PLATFORM")):
        print(
            "kiosk: no display (DISPLAY and WAYLAND_DISPLAY are unset), so no window can open.\n"
            "kiosk: start it from the kiosk's graphical session, or see every screen offscreen"
            " with: kiosk demo --out demo-out",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY
    from PySide6.QtWidgets import QApplication

    from kiosk.app import Paths, build

    paths = Paths.from_config(config, path)
    target = setup_logging(paths.data_dir, args.verbose, config=config)
    logging.getLogger("kiosk").info(
        "logging to %s", "the journal (journalctl -t kiosk)" if target == "journal"
        else f"stderr and {paths.data_dir / 'logs' / 'kiosk.log'}")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    kiosk_mode = config.screen.fullscreen and not args.windowed
    # The heap is frozen after the deferred start-up work (camera, voice, the ticket
    # libraries, screens warmed), before anyone can have reached the kiosk.
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
            from kiosk.services.memory import rss_mb

            print(f"ready {time.monotonic() - START:.3f} rss_mb {rss_mb():.1f}", flush=True)
            kiosk.window.allow_close = True
            app.quit()

    QTimer.singleShot(0, _ready)
    app.aboutToQuit.connect(notifier.stopping)
    return app.exec()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="start the kiosk")
    p.add_argument("--config", help=f"config file (default {DEFAULT_CONFIG} or $KIOSK_CONFIG)")
    p.add_argument("--windowed", action="store_true", help="a normal window, not kiosk mode")
    p.add_argument("--exit-when-ready", action="store_true",
                   help="quit as soon as Home accepts touches (start-up benchmark)")
    p.set_defaults(func=cmd_run)
