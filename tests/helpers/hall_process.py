"""A hall server in a process of its own (`kiosk hall serve`), for the faults a test inflicts
on it: SIGKILL and a restart on the same port, PostgreSQL restarted underneath it.

tests/helpers/hall.py serves the app in the test's own process, with the test's fake clock;
a process can be killed only from outside, so this one runs on the real clock. Its rules are
the shipped ones with every category open all day and no holidays, so that whether a test
gets numbers does not depend on when it runs (23:59 to midnight stays closed: a period
cannot end at 24:00).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
import requests
import yaml
from psycopg.rows import dict_row

from kiosk.common.clock import shanghai_now
from kiosk.hall.rules.config import WEEKDAYS
from tests.helpers.hall import free_port, fresh_database
from tests.helpers.paths import CONFIG_DIR, REPO_ROOT
from tests.helpers.waits import HANG_GUARD_S, poll_until

ALL_DAY = "00:00-23:59"


def write_settings(directory: Path, port: int) -> Path:
    """A settings file in `directory` with the shipped rules, open every day all day."""
    rules: dict[str, Any] = yaml.safe_load((CONFIG_DIR / "hall.yaml").read_text("utf-8"))
    week = {day: [ALL_DAY] for day in WEEKDAYS}
    for center in rules["centers"]:
        center["hours"] = week
        center["closed_early"] = []
        for category in center["categories"]:
            category.pop("hours", None)
    (directory / "hall.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), "utf-8")
    year = shanghai_now().year
    # Next year too: a run on New Year's Eve crosses into it.
    (directory / "hall-calendar.yaml").write_text(
        yaml.safe_dump({"years": [year, year + 1], "holidays": [], "adjusted_workdays": []}),
        "utf-8")
    path = directory / "hall-server.toml"
    path.write_text(f'public_url = "http://127.0.0.1:{port}"\nrules = "hall.yaml"\n'
                    'calendar = "hall-calendar.yaml"\nseed_demo_residents = false\n', "utf-8")
    return path


class HallProcess:
    """`kiosk hall serve` on 127.0.0.1:`port`, started, killed and restarted by the test."""

    def __init__(self, dsn: str, settings: Path, log: Path, port: int) -> None:
        self.dsn = dsn
        self.settings = settings
        self.log = log
        self.port = port
        self.tokens: dict[str, str] = {}
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and return once it answers /healthz."""
        assert not self.running(), "the hall server is running already"
        from kiosk.hall.settings import DSN_VARIABLE

        env = {**os.environ, DSN_VARIABLE: self.dsn}
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts + 1}\n".encode())
            log.flush()
            # A session of its own: kill() ends its process group, so no worker uvicorn may
            # have started outlives it holding the port.
            self._process = subprocess.Popen(
                [sys.executable, "-m", "kiosk", "hall", "serve", "--settings",
                 str(self.settings), "--port", str(self.port)],
                cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        self.starts += 1
        if not poll_until(lambda: self.healthy() or not self.running()) or not self.running():
            self.stop()
            raise RuntimeError(f"the hall server did not start:\n{self.log_tail()}")

    def healthy(self) -> bool:
        try:
            with requests.Session() as s:
                s.trust_env = False
                return s.get(f"{self.url}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def kill(self) -> None:
        """SIGKILL: the server stops mid-request, with no chance to answer or clean up."""
        self._signal(signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        """SIGTERM, as systemd stops it; SIGKILL if it has not ended within the hang guard."""
        if not self.running():
            self._reap()
            return
        self._signal(signal.SIGTERM)
        assert self._process is not None
        try:
            self._process.wait(HANG_GUARD_S)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
        self._reap()

    def restart(self) -> None:
        """Start again on the same port (after kill or stop)."""
        self.start()

    def _signal(self, sig: signal.Signals) -> None:
        if self._process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self._process.pid, sig)

    def _reap(self) -> None:
        if self._process is not None:
            self._process.wait(HANG_GUARD_S)
            self._process = None

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log.read_text("utf-8", errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"

    def connect(self) -> psycopg.Connection[dict[str, Any]]:
        return psycopg.connect(self.dsn, row_factory=dict_row)

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self.connect() as conn:
            return conn.execute(query, params).fetchall()

    def add_device(self, kind: str, name: str, counter_no: int | None = None,
                   center: str = "main") -> str:
        from kiosk.hall import admin
        from kiosk.hall.auth import Role

        with self.connect() as conn:
            token = admin.add_device(conn, center, Role(kind), name, counter_no)
        self.tokens[name] = token
        return token

    def session(self, who: str | None) -> requests.Session:
        s = requests.Session()
        s.trust_env = False
        if who is not None:
            s.headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return s


@contextmanager
def hall_process(tmp_path: Path) -> Iterator[HallProcess]:
    """A fresh database and a hall server process on it, stopped and dropped afterwards."""
    with fresh_database() as dsn:
        port = free_port()
        hall = HallProcess(dsn, write_settings(tmp_path, port), tmp_path / "hall.log", port)
        hall.start()
        try:
            yield hall
        finally:
            hall.stop()


def postgres_cluster() -> tuple[str, str]:
    """(version, name) of the cluster pg_virtualenv started: the one on PGPORT. It is named
    15/regress, in /etc/postgresql as root, or (`pg_virtualenv -t`, or as another user)
    under pg_virtualenv's own directory, which pg_lsclusters and pg_ctlcluster find through
    the PG_CLUSTER_CONF_ROOT it exported."""
    port = os.environ["PGPORT"]
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                             check=True, timeout=HANG_GUARD_S).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == port:
            return fields[0], fields[1]
    raise RuntimeError(f"no PostgreSQL cluster on port {port} in pg_lsclusters:\n{listing}")


def _pg_ctlcluster(action: str, *options: str) -> None:
    version, name = postgres_cluster()
    done = subprocess.run(["pg_ctlcluster", *options, version, name, action],
                          capture_output=True, text=True, timeout=HANG_GUARD_S)
    if done.returncode != 0:
        raise RuntimeError(f"pg_ctlcluster {version} {name} {action}: status "
                           f"{done.returncode}\n{done.stdout}{done.stderr}")


# A restart is stop_postgres then start_postgres, never `pg_ctlcluster … restart`: that asks
# whether the cluster runs by reading its external_pid_file, /var/run/postgresql/
# 15-regress.pid, which the clusters of every concurrent pg_virtualenv share; when another
# one wrote it last and has ended, restart skips the stop and its start fails ("Cluster is
# already running", status 2). `stop` and `start` look at the cluster's own postmaster.pid.


def stop_postgres() -> None:
    """Stop the test cluster as an administrator or a package upgrade does: a fast shutdown,
    every session ended and its open transaction rolled back."""
    _pg_ctlcluster("stop", "-m", "fast")


def start_postgres() -> None:
    """Start the test cluster again; returns once it accepts connections."""
    _pg_ctlcluster("start")
