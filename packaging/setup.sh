#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root):
#   bash packaging/setup.sh run    install everything, then start the kiosk
#   bash packaging/setup.sh test   install everything, then run the test suite
#   bash packaging/setup.sh install  install only (the runtime lock, as run does)
#   bash packaging/setup.sh hall   install the hall server with its PostgreSQL database, then
#                                  start it (packaging/systemd/kiosk-hall.service runs it for good)
# It is idempotent: a second run skips what is already in place.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mode="${1:-run}"
shift || true

venv="${KIOSK_VENV:-$here/.venv}"

# System packages, by what the mode runs. Python and its venv module for every mode.
python_packages=(python3 python3-venv python3-pip)
# A terminal: ZBar for pyzbar, a CJK font so Chinese never renders as boxes,
# and the X11/xcb/EGL libraries Qt's xcb platform plugin loads to open a window.
# Spoken prompts (长辈模式): speech-dispatcher with espeak-ng, which speaks Mandarin (its
# output module is a package of its own), libspeechd2 for Qt's speechd plugin, and libpulse0,
# which Qt's TextToSpeech and Multimedia libraries link (the scan cue; its ffmpeg plugin
# also loads libXrandr). Without them the kiosk runs silently. The Wayland client libraries:
# Qt's wayland platform plugin, under the cage session (packaging/systemd/kiosk-session).
terminal_packages=(
  libzbar0 fonts-noto-cjk fontconfig
  libgl1 libegl1 libglib2.0-0 libdbus-1-3 libfontconfig1 libfreetype6
  libxkbcommon0 libxkbcommon-x11-0 libx11-xcb1 libxrender1 libxi6
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0
  libxcb-shm0 libxcb-sync1 libxcb-glx0
  libusb-1.0-0
  speech-dispatcher speech-dispatcher-espeak-ng espeak-ng libspeechd2 libpulse0
  libxrandr2 libwayland-client0 libwayland-cursor0 libwayland-egl1
)
# The hall server's database, and espeak-ng, with which it renders the calling board's
# announcements (Mandarin and English) itself: a board's browser has no voice of its own
# offline. A terminal never gets them.
hall_packages=(postgresql-15 postgresql-common espeak-ng)
# The suite's browser for the hall's web pages (Playwright drives Debian's chromium; nothing
# is downloaded by `playwright install`), with the CJK font their Chinese needs.
browser_packages=(chromium fonts-noto-cjk)
# The suite's packaging checks: dh-virtualenv builds the .deb packages (build-deb.sh),
# debootstrap makes the fresh Debian 12 root they are installed into, systemd-analyze
# verifies the units (cage, which the session unit starts, must exist for it, and Xwayland,
# without which cage 0.1.4 does not start: the session script's test runs the real cage),
# promtool and amtool check the district's alert rules and routing.
packaging_packages=(dh-virtualenv debhelper devscripts debootstrap systemd cage xwayland
                    prometheus prometheus-alertmanager)

case "$mode" in
  test) apt_packages=("${python_packages[@]}" "${terminal_packages[@]}" "${hall_packages[@]}"
                      "${browser_packages[@]}" "${packaging_packages[@]}") ;;
  hall) apt_packages=("${python_packages[@]}" "${hall_packages[@]}") ;;
  *) apt_packages=("${python_packages[@]}" "${terminal_packages[@]}") ;;
esac

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

# A terminal gets the runtime lock only; `hall` the same pins plus the hall server's (FastAPI,
# uvicorn, psycopg, alembic); `test` both plus pytest, ruff, mypy, Playwright and their kind.
# All pin every package with its hashes (packaging/lock.sh regenerates them), so pip refuses
# any file that is not the one locked.
case "$mode" in
  test) lock=packaging/requirements-test.lock ;;
  hall) lock=packaging/requirements-hall.lock ;;
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

# The hall's database: the Debian cluster 15/main, a role and a database kiosk_hall. The
# role's password is made up once and kept only in $hall_env (KIOSK_HALL_DSN), which
# kiosk-hall.service reads too.
hall_etc=/etc/kiosk-hall
hall_env="$hall_etc/hall.env"
pg_version=15
pg_cluster=main

start_postgres() {
  if ! pg_lsclusters -h | awk -v v="$pg_version" -v c="$pg_cluster" '$1 == v && $2 == c' |
      grep -q .; then
    echo "setup: creating the PostgreSQL cluster $pg_version/$pg_cluster"
    # UTF-8 whatever the machine's locale: ticket titles and names are Chinese.
    pg_createcluster --locale C.UTF-8 --start "$pg_version" "$pg_cluster"
  fi
  if ! pg_lsclusters -h | awk -v v="$pg_version" -v c="$pg_cluster" \
      '$1 == v && $2 == c && $4 ~ /^online/' | grep -q .; then
    echo "setup: starting the PostgreSQL cluster $pg_version/$pg_cluster"
    pg_ctlcluster "$pg_version" "$pg_cluster" start
  fi
}

# psql as the database superuser. KIOSK_HALL_DB_PASSWORD reaches it through the environment
# (psql's \getenv), never on a command line that `ps` shows.
as_postgres() {
  runuser -u postgres -w KIOSK_HALL_DB_PASSWORD -- \
    psql -X -q -v ON_ERROR_STOP=1 -p "$pg_port" -d postgres "$@"
}

provision_database() {
  pg_port="$(pg_conftool -s "$pg_version" "$pg_cluster" show port)"
  local new_password=""
  if [[ ! -f $hall_env ]]; then
    install -d -m 0755 "$hall_etc"
    # Hex: nothing in it needs quoting in a URL, in the shell or in systemd's EnvironmentFile.
    new_password="$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
    (
      umask 077
      {
        echo "# The hall server's database (written by packaging/setup.sh hall; read by it and by"
        echo "# kiosk-hall.service). The password is kept nowhere else: keep this file mode 600."
        echo "KIOSK_HALL_DSN=\"postgresql://kiosk_hall:$new_password@localhost:$pg_port/kiosk_hall\""
      } >"$hall_env.new"
      mv "$hall_env.new" "$hall_env"
    )
    echo "setup: wrote the database address and password to $hall_env"
  fi
  chmod 600 "$hall_env"
  set -a
  # shellcheck source=/dev/null
  source "$hall_env"
  set +a
  : "${KIOSK_HALL_DSN:?setup: $hall_env does not set KIOSK_HALL_DSN}"

  local role_exists
  role_exists="$(as_postgres -Atc "SELECT 1 FROM pg_roles WHERE rolname = 'kiosk_hall'")"
  if [[ -n $new_password || -z $role_exists ]]; then
    # The password the file holds: just made up, or (the role gone, e.g. a new cluster) the
    # one an earlier run wrote.
    KIOSK_HALL_DB_PASSWORD="$(python3 -c \
      'import os, urllib.parse; print(urllib.parse.unquote(urllib.parse.urlsplit(os.environ["KIOSK_HALL_DSN"]).password or ""))')"
    export KIOSK_HALL_DB_PASSWORD
    if [[ -z $KIOSK_HALL_DB_PASSWORD ]]; then
      echo "setup: KIOSK_HALL_DSN in $hall_env has no password for the role kiosk_hall" >&2
      exit 1
    fi
    if [[ -z $role_exists ]]; then
      echo "setup: creating the database role kiosk_hall"
      as_postgres <<'SQL'
\getenv password KIOSK_HALL_DB_PASSWORD
CREATE ROLE kiosk_hall LOGIN PASSWORD :'password';
SQL
    else
      echo "setup: giving the database role kiosk_hall the password in $hall_env"
      as_postgres <<'SQL'
\getenv password KIOSK_HALL_DB_PASSWORD
ALTER ROLE kiosk_hall LOGIN PASSWORD :'password';
SQL
    fi
    unset KIOSK_HALL_DB_PASSWORD
  fi
  local db_exists
  db_exists="$(as_postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'kiosk_hall'")"
  if [[ -z $db_exists ]]; then
    echo "setup: creating the database kiosk_hall"
    as_postgres -c "CREATE DATABASE kiosk_hall OWNER kiosk_hall
                    ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0"
  fi
}

# The center the first supervisor and device belong to: KIOSK_HALL_CENTER, else the first
# center in the hall's rules (config/hall.yaml), else xuhui.
hall_center() {
  if [[ -n ${KIOSK_HALL_CENTER:-} ]]; then
    echo "$KIOSK_HALL_CENTER"
    return
  fi
  "$venv/bin/python" - <<'PY'
from pathlib import Path

import yaml

center = "xuhui"
path = Path("config/hall.yaml")
if path.is_file():
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    centers = data.get("centers") if isinstance(data, dict) else None
    if isinstance(centers, list) and centers and isinstance(centers[0], dict):
        center = str(centers[0].get("id") or center)
    elif isinstance(centers, dict) and centers:
        center = str(next(iter(centers)))
print(center)
PY
}

# `kiosk hall count` prints one integer (its last line).
hall_count() {
  local n
  n="$("$venv/bin/kiosk" hall count --what "$1" | tail -n 1)"
  if [[ ! $n =~ ^[0-9]+$ ]]; then
    echo "setup: \`kiosk hall count --what $1\` printed '$n', not a number" >&2
    exit 1
  fi
  echo "$n"
}

# The first supervisor and the first device, once: a second run finds them and adds nothing.
first_accounts() {
  # Assigned on lines of their own, so that set -e stops the script when one fails (a failure
  # inside [[ ]] would read as "none yet").
  local center staff devices
  center="$(hall_center)"
  staff="$(hall_count staff)"
  devices="$(hall_count devices)"
  if [[ $staff == 0 ]]; then
    echo "setup: adding the supervisor admin (center $center); its password is printed once" \
         "below: note it now, it is stored nowhere"
    "$venv/bin/kiosk" hall add-staff --center "$center" --role supervisor admin
  fi
  if [[ $devices == 0 ]]; then
    local token tokens="$hall_etc/first-devices.txt"
    # The token is the device's only credential: into a root-only file, not onto the screen.
    token="$("$venv/bin/kiosk" hall add-device --center "$center" --kind board board-1 |
             tail -n 1)"
    if [[ -z $token ]]; then
      echo "setup: \`kiosk hall add-device\` printed no token" >&2
      exit 1
    fi
    (
      umask 077
      echo "board-1 (board, center $center): $token" >>"$tokens"
      # What the board's browser opens (docs/HALL.md 2.5): the token in the fragment,
      # which the browser never sends over the network; the page keeps it and drops it.
      echo "  its page: http://$(hostname -f 2>/dev/null || hostname):8400/board#token=$token" \
        >>"$tokens"
    )
    chmod 600 "$tokens"
    echo "setup: added the device board-1 (a board); its token is in $tokens"
  fi
}

if [[ $mode == hall && $(id -u) -ne 0 ]]; then
  echo "setup: the hall mode sets up PostgreSQL and $hall_etc and needs root" >&2
  echo "setup: run this script as root (sudo bash packaging/setup.sh hall)" >&2
  exit 1
fi

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
    # The hall's tests need PostgreSQL: pg_virtualenv makes a throwaway cluster for the run
    # (on the first free port, so a running 15/main does not matter and is not used), exports
    # PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE for it, and drops it afterwards.
    exec pg_virtualenv -t -v "$pg_version" -- "$venv/bin/python" -m pytest -p no:randomly "$@"
    ;;
  hall)
    start_postgres
    provision_database
    "$venv/bin/kiosk" hall migrate
    first_accounts
    echo "setup: starting the hall server (as a service: packaging/systemd/kiosk-hall.service)"
    exec "$venv/bin/kiosk" hall serve "$@"
    ;;
  *)
    echo "usage: bash packaging/setup.sh [run|test|install|hall]" >&2
    exit 2
    ;;
esac
