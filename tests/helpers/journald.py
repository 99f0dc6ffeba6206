"""A real systemd-journald for one command, in namespaces of its own.

libsystemd sends journal entries to /run/systemd/journal/socket, a path compiled into it; a
test cannot point it elsewhere, and a container (like this project's CI) has no journal at
all. So the command runs in a private mount namespace whose /run is an empty tmpfs, with
Debian's own /lib/systemd/systemd-journald started there first: the command's entries go
to that journald, which writes them to the test's folder (bound onto /run/log/journal),
read afterwards with `journalctl --directory`. A private PID namespace too: when the driver
ends (or the test kills it) the kernel ends journald and the command with it. Not root: a
user namespace maps the caller to root inside (`unshare --map-root-user`).

Run as a script inside the namespaces (stdlib only: it is started by path):
    journald.py JOURNAL_DIR [--stream IDENTIFIER] -- COMMAND...
With --stream, COMMAND's stdout and stderr are a stream into the journal and JOURNAL_STREAM
names it, as systemd sets them up for a unit with StandardOutput=journal.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
from functools import cache
from pathlib import Path

JOURNALD = Path("/lib/systemd/systemd-journald")
NOTIFY = "/run/test-journald-notify"
STREAM_SOCKET = "/run/systemd/journal/stdout"
READY_TIMEOUT_S = 60.0  # a hang guard only: journald is ready within milliseconds


def _unshare(root: bool) -> list[str]:
    base = ["unshare", "--mount", "--propagation", "private", "--pid", "--fork",
            "--mount-proc", "--kill-child"]
    return base if root else [*base, "--user", "--map-root-user"]


@cache
def unavailable() -> str | None:
    """Why a journald cannot be started here (for a skip message), or None."""
    if not JOURNALD.exists():
        return (f"{JOURNALD} is missing: install Debian's systemd package "
                "(packaging/setup.sh test installs it)")
    if shutil.which("unshare") is None:
        return "unshare is missing: install Debian's util-linux package"
    if shutil.which("journalctl") is None:
        return "journalctl is missing: install Debian's systemd package"
    probe = subprocess.run([*_unshare(os.geteuid() == 0), "true"], capture_output=True,
                           text=True, timeout=60, check=False)
    if probe.returncode != 0:
        return ("unshare cannot make the private mount, PID and user namespaces a test "
                f"journal needs here: {probe.stderr.strip()}")
    return None


def run(journal_dir: Path, command: list[str], *, stream: str | None = None,
        env: dict[str, str] | None = None, timeout: float = 120.0,
        ) -> subprocess.CompletedProcess[str]:
    """Run `command` with a journald of its own writing into `journal_dir` (made here).
    Every entry the command sent is on disk when this returns."""
    journal_dir.mkdir(parents=True, exist_ok=True)
    driver = [sys.executable, str(Path(__file__).resolve()), str(journal_dir)]
    if stream:
        driver += ["--stream", stream]
    return subprocess.run([*_unshare(os.geteuid() == 0), *driver, "--", *command],
                          capture_output=True, text=True, timeout=timeout, env=env,
                          check=False)


def entries(journal_dir: Path, *matches: str) -> list[dict[str, object]]:
    """The entries in `journal_dir` (journalctl's JSON objects), oldest first; `matches`
    are journalctl's FIELD=value matches, e.g. "SYSLOG_IDENTIFIER=kiosk"."""
    done = subprocess.run(["journalctl", f"--directory={journal_dir}", "--output=json",
                           "--no-pager", "--all", *matches],
                          capture_output=True, text=True, timeout=60, check=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


# ------------------------------------------------------------ inside the namespaces

def _stream(identifier: str) -> socket.socket:
    """A stream into the journal, as sd_journal_stream_fd() makes one: systemd-cat does not
    set JOURNAL_STREAM (Debian 12's systemd 252) and cysystemd does not wrap that call, and
    the header is seven lines (systemd's src/journal/journald-stream.c reads them)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(STREAM_SOCKET)
    s.shutdown(socket.SHUT_RD)
    # identifier, unit id, priority (6 = info), level prefix, to syslog, kmsg, console
    s.sendall(f"{identifier}\n\n6\n0\n0\n0\n0\n".encode())
    return s


def _start_journald(journal_dir: str) -> subprocess.Popen[bytes]:
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    os.makedirs("/run/systemd/journal")
    os.makedirs("/run/log/journal")
    # No flush is ever requested, so journald keeps to /run/log/journal whatever the host's
    # Storage= says: the test's folder, never the host's /var/log/journal.
    subprocess.run(["mount", "--bind", journal_dir, "/run/log/journal"], check=True)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(NOTIFY)
    notify.settimeout(READY_TIMEOUT_S)
    journald = subprocess.Popen([str(JOURNALD)], env={"NOTIFY_SOCKET": NOTIFY},
                                stdout=subprocess.DEVNULL, stderr=sys.stderr)
    try:
        while b"READY=1" not in notify.recv(4096).split(b"\n"):
            pass
    except TimeoutError:
        journald.kill()
        sys.exit(f"journald did not say READY=1 within {READY_TIMEOUT_S} s")
    finally:
        notify.close()
    return journald


def main(argv: list[str]) -> int:
    split = argv.index("--")
    parser = argparse.ArgumentParser()
    parser.add_argument("journal_dir")
    parser.add_argument("--stream")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1:]
    journald = _start_journald(args.journal_dir)
    try:
        env = dict(os.environ)
        if args.stream:
            with _stream(args.stream) as out:
                st = os.fstat(out.fileno())
                env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
                code = subprocess.run(command, stdout=out, stderr=out, env=env,
                                      check=False).returncode
        else:
            code = subprocess.run(command, env=env, check=False).returncode
        # Every entry received is written before this returns (a synchronous request).
        subprocess.run(["journalctl", "--sync"], check=True, timeout=READY_TIMEOUT_S)
    finally:
        journald.terminate()
        journald.wait()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
