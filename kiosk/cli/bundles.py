"""`kiosk check-bundles DIR`: validate the 一件事 bundle files a center's staff edited;
`kiosk bundle-reference [-o F]`: write docs/BUNDLES.md from the bundle schema.

check-bundles prints "OK: N bundles" or every problem of every broken file (file, key path,
what was expected) and exits with EXIT_BAD_INPUT, the same status as `kiosk check-config`,
so a technician's script treats both alike.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_OK


def _default_catalog(folder: Path) -> Path | None:
    # The shipped layout keeps config/catalog.yaml beside config/bundles/.
    candidate = folder.resolve().parent / "catalog.yaml"
    return candidate if candidate.is_file() else None


def check_bundles_command(folder: str, catalog_path: str | None) -> int:
    """Validate every bundle in `folder` against the catalog (default: ../catalog.yaml)."""
    from kiosk.config.loader import ConfigFileError
    from kiosk.domain.bundles import load_bundles
    from kiosk.domain.catalog import load_catalog

    bundle_dir = Path(folder)
    catalog_file = Path(catalog_path) if catalog_path else _default_catalog(bundle_dir)
    catalog_ids: set[str] | None = None
    if catalog_file is None and bundle_dir.is_dir():
        print(f"{bundle_dir}: no catalog.yaml beside the folder; ticket categories are not "
              "checked (give one with --catalog)", file=sys.stderr)
    if catalog_file is not None:
        try:
            catalog_ids = {c.id for c in load_catalog(catalog_file).categories}
        except ConfigFileError as e:
            print(e.message(), file=sys.stderr)
            return EXIT_BAD_INPUT
    result = load_bundles(bundle_dir, catalog_ids)
    for error in result.errors:
        print(error.message(), file=sys.stderr)
    if result.errors:
        print(f"{len(result.errors)} broken file(s); {len(result.bundles)} bundle(s) OK",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"OK: {len(result.bundles)} bundles")
    return EXIT_OK


def cmd_check_bundles(args: argparse.Namespace) -> int:
    return check_bundles_command(args.folder, args.catalog)


def cmd_bundle_reference(args: argparse.Namespace) -> int:
    from kiosk.domain.bundle_reference import bundle_reference

    text = bundle_reference()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bundle-reference",
                       help="every key of a bundle file, with a worked example")
    p.add_argument("-o", "--output", help="write Markdown here (docs/BUNDLES.md)")
    p.set_defaults(func=cmd_bundle_reference)

    p = sub.add_parser("check-bundles", help="validate a folder of 一件事 bundle files")
    p.add_argument("folder", help="e.g. config/bundles")
    p.add_argument("--catalog", help="catalog.yaml (default: beside the folder)")
    p.set_defaults(func=cmd_check_bundles)

