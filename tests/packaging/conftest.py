"""Shared helpers of the packaging tests: the Debian packages built by packaging/build-deb.sh,
a fresh Debian 12 root (debootstrap) and commands run inside it.

Everything is made under the session's temporary folder and removed at the end of the
session: the downloads (the locked wheels, Debian's packages) are not cached anywhere a fresh
machine would not have them, so the figures printed at the end of the run (build, debootstrap
and install times) are a fresh machine's. Commands in the root run in a mount namespace of
their own (`unshare --mount`), so the /proc, /dev and /dev/shm mounted for them vanish with
them even when a test is interrupted: nothing stays mounted on the machine.

Fixtures for other packaging tests (read-only use: the root is shared by the session):
`deb_builder` builds a package once (`deb_builder.get("shanghai-kiosk")` -> the .deb),
`debian_root` is a fresh Debian 12 minbase root, `terminal_root` and `hall_root` the same
root with the terminal's or the hall's package installed by apt.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.paths import REPO_ROOT

BUILD_SCRIPT = REPO_ROOT / "packaging" / "build-deb.sh"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# A Debian 12 installation's sources: the release, its updates and its security fixes.
SOURCES_LIST = (
    f"deb {MIRROR} {SUITE} main\n"
    f"deb {MIRROR} {SUITE}-updates main\n"
    f"deb http://deb.debian.org/debian-security {SUITE}-security main\n"
)
# Generous: two cores shared with the rest of the suite (or other work) stretch every figure;
# a build that still has not finished is a hang, not a slow machine.
BUILD_TIMEOUT_S = 2400
APT_TIMEOUT_S = 1200

# Seconds (and sizes) measured this session, printed after the test summary.
FIGURES: dict[str, str] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("Debian packages: figures of this run")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")


def require_tools(*tools: str) -> None:
    """Skip, naming the missing tools, when one is not installed (bash packaging/setup.sh test
    installs them all)."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (not installed; bash packaging/setup.sh test "
                    "installs dh-virtualenv, debhelper, devscripts and debootstrap)")


def _timed_run(name: str, args: list[str], timeout: float, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                            check=False, cwd=cwd, env=env)
    FIGURES[name] = f"{time.monotonic() - started:.0f} s"
    return result


def _failure(what: str, result: subprocess.CompletedProcess[str]) -> str:
    return (f"{what} failed (exit {result.returncode}):\n--- stdout (end)\n"
            f"{result.stdout[-4000:]}\n--- stderr (end)\n{result.stderr[-4000:]}")


@dataclass
class DebBuilder:
    """packaging/build-deb.sh into a folder of the session, each package built once."""

    out: Path
    built: dict[str, Path] = field(default_factory=dict)

    def get(self, package: str) -> Path:
        if package not in self.built:
            require_tools("dpkg-buildpackage", "dh", "dh_virtualenv")
            # The script's work folder (a copy of the tree, pip's downloads, the virtual
            # environment) inside ours too: a build killed by the timeout cannot clean up after
            # itself, and then what it leaves goes with the session's folder.
            work = self.out / "tmp"
            work.mkdir(exist_ok=True)
            result = _timed_run(f"build {package}", ["bash", str(BUILD_SCRIPT), "--out",
                                                    str(self.out), package],
                                BUILD_TIMEOUT_S, cwd=REPO_ROOT,
                                env={**os.environ, "TMPDIR": str(work)})
            assert result.returncode == 0, _failure(f"build-deb.sh {package}", result)
            debs = sorted(self.out.glob(f"{package}_*.deb"))
            assert len(debs) == 1, (debs, result.stdout)
            FIGURES[f"{package} .deb size"] = f"{debs[0].stat().st_size / 1e6:.0f} MB"
            self.built[package] = debs[0]
        return self.built[package]


@pytest.fixture(scope="session")
def deb_builder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DebBuilder]:
    builder = DebBuilder(tmp_path_factory.mktemp("debs"))
    yield builder
    shutil.rmtree(builder.out, ignore_errors=True)


# Run inside a private mount namespace: the filesystems the root needs, then the command.
# /dev is the machine's (its devices: null, urandom, pts for apt); /dev/shm a fresh tmpfs of
# its own (Python's multiprocessing and Qt use it); /proc a new one. With a network namespace
# of its own, its loopback is brought up first (with the machine's `ip`: a minbase root has
# none).
_ENTER = """set -e
root=$1; isolated=$2; shift 2
if [ "$isolated" = yes ]; then ip link set lo up; fi
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
exec chroot "$root" "$@"
"""


@dataclass
class DebianRoot:
    """A Debian root folder and a way to run commands in it as root (or as another user)."""

    path: Path

    def run(self, script: str, *, user: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 600, figure: str | None = None, isolated_network: bool = False
            ) -> subprocess.CompletedProcess[str]:
        """`sh -c script` in the root, with a clean environment (PATH, HOME, LANG and `env`).

        isolated_network: in a network namespace of its own with only a loopback, so that the
        servers a test starts there (PostgreSQL, the hall) use their real ports without taking
        or meeting one of the machine's; no network beyond it (apt cannot run then)."""
        variables = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     "HOME": "/root", "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive"}
        variables.update(env or {})
        command = ["/usr/bin/env", "-i", *(f"{k}={v}" for k, v in variables.items())]
        if user is not None:
            # runuser: no PAM session or login shell needed (the kiosk user's is nologin).
            command = ["/usr/sbin/runuser", "-u", user, "--", *command]
        namespaces = ["--mount", "--propagation", "private", "--fork"]
        if isolated_network:
            namespaces.append("--net")
        args = ["unshare", *namespaces, "sh", "-c", _ENTER, "enter", str(self.path),
                "yes" if isolated_network else "no", *command, "/bin/sh", "-c", script]
        if figure is not None:
            return _timed_run(figure, args, timeout)
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def check(self, script: str, **kwargs: object) -> str:
        """Like run(), failing the test with the output when the script fails; its stdout."""
        result = self.run(script, **kwargs)  # type: ignore[arg-type]
        assert result.returncode == 0, _failure(script, result)
        return result.stdout

    def install_deb(self, deb: Path, figure: str) -> None:
        """apt installs the package file, its dependencies resolved from Debian's mirror."""
        shutil.copy2(deb, self.path / "tmp" / deb.name)
        self.check(f"apt-get install -y -q /tmp/{shlex.quote(deb.name)}", timeout=APT_TIMEOUT_S,
                   figure=figure)
        (self.path / "tmp" / deb.name).unlink()


@pytest.fixture(scope="session")
def debian_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DebianRoot]:
    """A fresh Debian 12 (minbase) root with its package lists, removed after the session."""
    if os.geteuid() != 0:
        pytest.skip("needs root: debootstrap, chroot and mount namespaces (CI and "
                    "bash packaging/setup.sh test run as root)")
    require_tools("debootstrap", "unshare", "chroot", "ip")
    path = tmp_path_factory.mktemp("debian-root")
    path.chmod(0o755)  # its "/": pytest makes it private to root, and users must enter it
    # debootstrap mounts /proc and /sys in the root itself: in a namespace of its own, so that
    # an interrupted run leaves no mount behind either.
    result = _timed_run("debootstrap (minbase, bookworm)",
                        ["unshare", "--mount", "--propagation", "private", "--fork",
                         "debootstrap", "--variant=minbase", SUITE, str(path), MIRROR],
                        APT_TIMEOUT_S)
    assert result.returncode == 0, _failure("debootstrap", result)
    (path / "etc" / "apt" / "sources.list").write_text(SOURCES_LIST)
    shutil.copy2("/etc/resolv.conf", path / "etc" / "resolv.conf")
    root = DebianRoot(path)
    root.check("apt-get update -q", timeout=APT_TIMEOUT_S, figure="apt-get update")
    yield root
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def terminal_root(debian_root: DebianRoot, deb_builder: DebBuilder) -> DebianRoot:
    """The root with the terminal's package installed (apt: its dependencies from Debian)."""
    deb = deb_builder.get("shanghai-kiosk")
    debian_root.install_deb(deb, figure="apt-get install shanghai-kiosk (with dependencies)")
    return debian_root


@pytest.fixture(scope="session")
def hall_root(debian_root: DebianRoot, deb_builder: DebBuilder) -> DebianRoot:
    """The root with the hall server's package installed."""
    deb = deb_builder.get("shanghai-kiosk-hall")
    debian_root.install_deb(deb, figure="apt-get install shanghai-kiosk-hall (with dependencies)")
    return debian_root
