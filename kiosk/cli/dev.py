"""Developer and reviewer commands: `kiosk demo`, `receipt-render`, `make-code`, `simulate`,
`scan-bench`, `make-bench`.

Thin wrappers: each parses its options and imports kiosk.devtools inside the command, so
the production commands never load the developer tools (nor Qt) just to parse a command line.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from kiosk.config.checked import config_or_message, config_path


def cmd_demo(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    config = config_or_message(path)
    from kiosk.cli.run import setup_logging
    from kiosk.devtools.demo import mode_screenshots, run_demo

    out = Path(args.out)
    setup_logging(None, args.verbose)
    if args.modes:
        # Four panels side by side in the README: one orientation per run.
        orientation = "landscape" if args.orientation == "both" else args.orientation
        written = mode_screenshots(config, path, out, orientation)
    else:
        written = run_demo(config, path, out, orientation=args.orientation)
    for p in written:
        print(p)
    print(f"demo: wrote {len(written)} files to {out}")
    return EXIT_OK


def _write_stdout(text: str) -> None:
    # A receipt may hold characters the terminal's encoding lacks: show them replaced,
    # never as a traceback.
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        enc = sys.stdout.encoding or "utf-8"
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode(enc, errors="replace"))
    sys.stdout.flush()


def main_render_command(
    path: str,
    *,
    text: bool,
    out: str | None,
    columns: int,
    paper_dots: int,
    chinese_default: bool,
) -> int:
    """``kiosk receipt-render``: text to stdout and/or PNG to ``out``; warnings to stderr.

    EXIT_BAD_INPUT if the input cannot be read or is refused (larger, or asking for more
    work, than any receipt: one line says which limit), EXIT_FAILED if the PNG cannot be
    written. With neither ``text`` nor ``out`` the text is printed.
    """
    from kiosk.devtools.escpos_parse import MAX_STREAM_BYTES
    from kiosk.devtools.escpos_render import StreamTooLarge, render_both

    try:
        with open(path, "rb") as f:  # never more than the limit: the file may be /dev/zero
            data = f.read(MAX_STREAM_BYTES + 1)
    except OSError as exc:
        print(f"render: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if len(data) > MAX_STREAM_BYTES:
        print(f"render: {path}: stream refused: larger than {MAX_STREAM_BYTES:,} bytes;"
              " a receipt is far smaller, so nothing was rendered", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        rendered, image = render_both(data, columns=columns,
                                      paper_dots=paper_dots if out else None,
                                      chinese_default=chinese_default)
    except StreamTooLarge as exc:
        print(f"render: {path}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    status = EXIT_OK
    if text or not out:
        _write_stdout(rendered.text + "\n")
    if out and image is not None:
        try:
            # Fast zlib: a long drawing takes a third of the time, for a slightly larger file.
            image.save(out, format="PNG", compress_level=1)
        except (OSError, ValueError) as exc:
            print(
                f"render: cannot write {out}: {getattr(exc, 'strerror', None) or exc}",
                file=sys.stderr,
            )
            status = EXIT_FAILED
    for warning in rendered.warnings:
        print(f"render: {warning}", file=sys.stderr)
    return status


def cmd_receipt_render(args: argparse.Namespace) -> int:
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

    path = config_path(args.config)
    config = config_or_message(path, devices=False)
    key_file = args.key or (
        str(resolve(path.resolve().parent, config.qr.demo_signing_key))
        if config.qr.demo_signing_key
        else ""
    )
    if not key_file:
        print("make-code: no signing key: pass --key PEM or set qr.demo_signing_key",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    return make_code(
        resident=args.resident,
        out=Path(args.output),
        key_file=Path(key_file),
        key_id=args.key_id or config.qr.demo_key_id,
        variant=args.variant,
        lifetime_s=args.lifetime,
    )


def cmd_simulate(args: argparse.Namespace) -> int:
    path = config_path(args.config)
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
    return EXIT_OK


def cmd_scan_bench(args: argparse.Namespace) -> int:
    from kiosk.devtools.scanbench import scan_bench_command

    return scan_bench_command(args.folder, args.compare, args.decoder, verbose=args.verbose)


def cmd_make_bench(args: argparse.Namespace) -> int:
    from kiosk.devtools.scanbench import make_bench_command

    return make_bench_command(args.folder, args.count, args.seed)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="scripted resident sessions offscreen; writes PNGs")
    p.add_argument("--out", required=True, help="folder for the screenshots and ticket files")
    p.add_argument("--config", help="config file")
    p.add_argument("--orientation", choices=["landscape", "portrait", "both"], default="both")
    p.add_argument("--modes", action="store_true",
                   help="instead: Home, a bundle step and a ticket in zh/en, normal and elder"
                   " mode (the README's 长辈模式 screenshots; landscape unless --orientation)")
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
