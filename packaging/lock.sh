#!/usr/bin/env bash
# Regenerates the three locks from pyproject.toml, every package pinned with its hashes:
#   packaging/requirements.lock       what a terminal installs (bash packaging/setup.sh run)
#   packaging/requirements-hall.lock  the same pins plus the hall extra (setup.sh hall)
#   packaging/requirements-test.lock  the same pins plus the hall extra and the test tools
#                                     (setup.sh test, CI)
# Usage: bash packaging/lock.sh [--upgrade | --upgrade-package NAME ...]
# Without options the versions already in the locks are kept (uv prefers the pins it finds
# in an existing output file) and only new or changed requirements are resolved. The hall and
# test locks are constrained by the runtime lock, so that the suite tests exactly what
# terminals run and a package both share (pydantic, argon2-cffi) is the same version in the
# hall server as on a terminal.
# uv comes from PyPI into a throwaway virtual environment; nothing else is installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

uv_version="0.13.9"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install -q --disable-pip-version-check "uv==$uv_version"
uv="$tools/venv/bin/uv"

# The terminals run Debian 12's Python 3.11 on x86_64.
common=(--generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_36
        --custom-compile-command "bash packaging/lock.sh")
"$uv" pip compile pyproject.toml "${common[@]}" -o packaging/requirements.lock "$@"
"$uv" pip compile pyproject.toml --extra hall -c packaging/requirements.lock "${common[@]}" \
  -o packaging/requirements-hall.lock "$@"
# The test extra takes in the hall extra itself; naming both keeps that true if it ever
# stops doing so.
"$uv" pip compile pyproject.toml --extra hall --extra test -c packaging/requirements.lock \
  "${common[@]}" -o packaging/requirements-test.lock "$@"
