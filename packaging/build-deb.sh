#!/usr/bin/env bash
# Builds the Debian 12 packages of the kiosk with dh-virtualenv, from a clean copy of this tree:
#   shanghai-kiosk       a terminal: the kiosk in /opt/venvs/shanghai-kiosk (runtime lock),
#                        /usr/bin/kiosk, its config under /etc/kiosk, units, udev rules, ...
#   shanghai-kiosk-hall  the hall server: /opt/venvs/shanghai-kiosk-hall (hall lock),
#                        /usr/bin/kiosk-hall, its settings under /etc/kiosk-hall, its unit
# packaging/debian/README.md says what each holds and how to install it.
#
# Usage: bash packaging/build-deb.sh [--out DIR] [--version VERSION] [PACKAGE ...]
#   --out DIR          where the .deb files go (default: dist/ in this tree, gitignored)
#   --version VERSION  the packages' version (default: pyproject.toml's; an apt repository
#                      needs a higher one for every build it serves, e.g. 0.1.0+20261101)
#   PACKAGE            shanghai-kiosk and/or shanghai-kiosk-hall (default: both)
# Needs dpkg-dev, debhelper, dh-virtualenv, python3-venv and python3-pip (bash
# packaging/setup.sh test installs them) and PyPI: each build downloads the locked wheels, checks
# their hashes and caches nothing outside its temporary folder.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$here/dist"
version=""
packages=()
all_packages=(shanghai-kiosk shanghai-kiosk-hall)

while (($#)); do
  case "$1" in
    --out) out="$(realpath -m "${2:?build-deb: --out needs a folder}")"; shift 2 ;;
    --version) version="${2:?build-deb: --version needs a version}"; shift 2 ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    shanghai-kiosk|shanghai-kiosk-hall) packages+=("$1"); shift ;;
    *) echo "build-deb: unknown argument '$1' (packages: ${all_packages[*]})" >&2; exit 2 ;;
  esac
done
((${#packages[@]})) || packages=("${all_packages[@]}")

missing=()
for tool in dpkg-buildpackage dh dh_virtualenv; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
# Debian's own Python: the packages' virtual environments run /usr/bin/python3 on the terminal,
# whatever python3 comes first on this machine's PATH.
/usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=("python3-venv")
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || missing+=("python3-pip")
if ((${#missing[@]})); then
  echo "build-deb: missing: ${missing[*]}; install dpkg-dev debhelper dh-virtualenv" \
       "python3-venv python3-pip (bash packaging/setup.sh test does)" >&2
  exit 1
fi

if [[ -z $version ]]; then
  version="$(/usr/bin/python3 -c \
    'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
    "$here/pyproject.toml")"
fi
# A native package's version: no Debian revision (the packaging lives in this tree).
if [[ ! $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
  echo "build-deb: --version '$version': expected digits, letters, '.', '+' or '~'" \
       "starting with a digit (no '-': these are native packages), e.g. 0.1.0+20261101" >&2
  exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/kiosk-deb.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# pip's cache and build folders, and anything else a tool would keep in $HOME, stay in here
# and go with it: nothing of one build is left on the machine for the next.
export PIP_CACHE_DIR="$work/pip-cache" HOME="$work/home" XDG_CACHE_HOME="$work/home/.cache"
mkdir -p "$HOME"

# The tree as git sees it (tracked and new files, not ignored ones): no .venv, var/, dist/ or
# caches, but the uncommitted changes of the person building. Outside a git checkout (an
# unpacked source tarball) everything is copied but those.
copy_tree() {
  local dest=$1
  mkdir -p "$dest"
  if git -C "$here" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$here" && git ls-files -z -co --exclude-standard --deduplicate |
       while IFS= read -r -d '' f; do
         # Listed but deleted in the work tree: not part of what is being built.
         [[ -e $f || -L $f ]] && printf '%s\0' "$f"
       done | tar --null -T - -cf -) | tar -C "$dest" -xf -
  else
    tar -C "$here" --exclude=./.venv --exclude=./var --exclude=./dist --exclude=./build \
        --exclude=./demo-out --exclude='*.egg-info' --exclude=__pycache__ \
        --exclude=.pytest_cache --exclude=.mypy_cache --exclude=.ruff_cache -cf - . |
      tar -C "$dest" -xf -
  fi
}

mkdir -p "$out"
for package in "${packages[@]}"; do
  started=$SECONDS
  # One source tree per package, so that nothing one build leaves behind (pip's build/,
  # egg-info) is in the other.
  src="$work/$package/src"
  copy_tree "$src"
  cp -r "$here/packaging/debian/$package" "$src/debian"
  # The changelog only carries the version (dpkg-buildpackage takes it from there); the
  # project's history is in git.
  source="$(git -C "$here" describe --always --dirty 2>/dev/null || echo "a source tree")"
  cat >"$src/debian/changelog" <<EOF
$package ($version) bookworm; urgency=medium

  * Built by packaging/build-deb.sh from $source.

 -- Shanghai kiosk maintainers <kiosk@example.invalid>  $(date -R)
EOF
  echo "build-deb: building $package $version"
  (cd "$src" && dpkg-buildpackage -b -us -uc >"$work/$package/build.log" 2>&1) || {
    tail -n 60 "$work/$package/build.log" >&2
    echo "build-deb: building $package failed; the end of its log is above" >&2
    exit 1
  }
  deb=("$work/$package/${package}_${version}_"*.deb)
  mv "${deb[0]}" "$out/"
  echo "build-deb: $out/$(basename "${deb[0]}")" \
       "($(du -m "$out/$(basename "${deb[0]}")" | cut -f1) MB, $((SECONDS - started)) s)"
  rm -rf "${work:?}/$package"
done
