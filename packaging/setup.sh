#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root):
#   bash packaging/setup.sh run    install everything, then start the kiosk
#   bash packaging/setup.sh test   install everything, then run the test suite
#   bash packaging/setup.sh install  install only (the runtime lock, as run does)
# It is idempotent: a second run skips what is already in place.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-run}"
shift || true

venv="${KIOSK_VENV:-$here/.venv}"

# System packages: ZBar for pyzbar, a CJK font so Chinese never renders as boxes,
# and the X11/xcb/EGL libraries Qt's xcb platform plugin loads to open a window.
# Spoken prompts (长辈模式): speech-dispatcher with espeak-ng, which speaks Mandarin (its
# output module is a package of its own), libspeechd2 for Qt's speechd plugin, and libpulse0,
# which Qt's TextToSpeech and Multimedia libraries link (the scan cue). Without them the
# kiosk runs silently.
apt_packages=(
  python3 python3-venv python3-pip
  libzbar0 fonts-noto-cjk fontconfig
  libgl1 libegl1 libglib2.0-0 libdbus-1-3 libfontconfig1 libfreetype6
  libxkbcommon0 libxkbcommon-x11-0 libx11-xcb1 libxrender1 libxi6
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0
  libxcb-shm0 libxcb-sync1 libxcb-glx0
  libusb-1.0-0
  speech-dispatcher speech-dispatcher-espeak-ng espeak-ng libspeechd2 libpulse0
)

install_system() {
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
      echo "setup: these system packages are missing and installing them needs root: ${missing[*]}" >&2
      echo "setup: run this script as root (sudo bash packaging/setup.sh $mode)" >&2
      exit 1
    fi
    echo "setup: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# A terminal gets the runtime lock only; `test` gets the test lock (the same pins plus pytest,
# ruff, mypy and their kind). Both pin every package with its hashes (packaging/lock.sh
# regenerates them), so pip refuses any file that is not the one locked.
case "$mode" in
  test) lock=packaging/requirements-test.lock ;;
  *) lock=packaging/requirements.lock ;;
esac

install_python() {
  local stamp="$venv/.kiosk-installed"
  local want
  want="$(cat "$lock" pyproject.toml | sha256sum | cut -d' ' -f1)"
  if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    return
  fi
  if [[ ! -x $venv/bin/python ]]; then
    echo "setup: creating virtual environment in $venv"
    python3 -m venv "$venv"
  fi
  echo "setup: installing pinned Python dependencies ($lock)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
  # The kiosk itself is not in the lock (it has no hash before it is built): installed on its
  # own, without dependencies, which the lock has just put in place.
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
  echo "$want" >"$stamp"
}

# The kiosk's own modules as bytecode, as pip does for the packages it installs: otherwise
# every start compiles ~80 modules again (~0.1 s) wherever PYTHONDONTWRITEBYTECODE is set or
# the source folder is read-only (ProtectSystem=strict under systemd). Unchanged files are
# skipped, so this costs nothing after the first time.
compile_bytecode() {
  "$venv/bin/python" -m compileall -q -j 0 kiosk >/dev/null
}

install_system
install_python
compile_bytecode

case "$mode" in
  install)
    echo "setup: done. Start with: $venv/bin/kiosk run"
    ;;
  run)
    if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" && -z "${QT_QPA_PLATFORM:-}" ]]; then
      echo "setup: no display found (DISPLAY and WAYLAND_DISPLAY are unset)."
      echo "setup: running the scripted demo offscreen instead; screens and ticket go to ./demo-out"
      exec "$venv/bin/kiosk" demo --out demo-out "$@"
    fi
    exec "$venv/bin/kiosk" run "$@"
    ;;
  test)
    # Lint and type-check first: an error in either fails the run like a failing test.
    "$venv/bin/ruff" check kiosk tests benchmarks docs
    "$venv/bin/mypy"  # what and how strictly: [tool.mypy] in pyproject.toml
    # The file order here, so that CI's run is the same every time; run pytest itself
    # (.venv/bin/python -m pytest) for a shuffled order with the seed printed (pytest-randomly):
    # no test may depend on another having run first.
    exec "$venv/bin/python" -m pytest -p no:randomly "$@"
    ;;
  *)
    echo "usage: bash packaging/setup.sh [run|test|install]" >&2
    exit 2
    ;;
esac
