"""GET /metrics of the hall: off without a token, refused without the right one, requests
counted by route template (never a ticket's id), the queues read at the scrape, and with
`--workers 2` the figures of both processes added up whichever one answers."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

import kiosk
from kiosk.hall.settings import (
    DSN_VARIABLE,
    METRICS_TOKEN_VARIABLE,
    SettingsError,
    load_settings,
)
from tests.helpers.hall import RunningHall, free_port, fresh_database, running_hall
from tests.helpers.hall_process import write_settings
from tests.helpers.paths import REPO_ROOT
from tests.helpers.waits import HANG_GUARD_S, poll_until

TOKEN = "hall-metrics-" + secrets.token_hex(16)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def requests_of(found: Samples, route: str, method: str, status: str) -> float:
    return value(found, "hall_http_requests_total", route=route, method=method,
                 status=status) or 0.0


def session(token: str | None = None) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    if token is not None:
        s.headers["Authorization"] = f"Bearer {token}"
    return s


def scrape_text(url: str, server_log: Path | None = None) -> str:
    # A connection of its own each time: with several workers, any of them may answer.
    with session(TOKEN) as s:
        r = s.get(f"{url}/metrics", timeout=HANG_GUARD_S)
    assert r.status_code == 200, (r.text, server_log.read_text(errors="replace")
                                  if server_log is not None else "")
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


@pytest.fixture
def metered(clock) -> Iterator[RunningHall]:
    with running_hall(clock, metrics_token=TOKEN) as h:
        h.add_device("kiosk", "kiosk-1")
        yield h


def take(hall: RunningHall, category: str = "social_security") -> dict:
    r = hall.session("kiosk-1").post(f"{hall.url}/v1/tickets", json={"category": category},
                                     headers={"Idempotency-Key": uuid.uuid4().hex},
                                     timeout=HANG_GUARD_S)
    assert r.status_code == 200, r.text
    body: dict = r.json()
    return body


def declared_too_large(hall: RunningHall, path: str) -> int:
    """POST with a Content-Length over the hall's limit and no body (requests would send the
    body's own length)."""
    host, _, port = hall.url.removeprefix("http://").partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=HANG_GUARD_S)
    try:
        conn.request("POST", path, headers={"Content-Length": str(10 * 1024 * 1024)})
        return conn.getresponse().status
    finally:
        conn.close()


def test_without_a_token_there_is_no_metrics_route(hall):
    with session(TOKEN) as s:
        assert s.get(f"{hall.url}/metrics", timeout=HANG_GUARD_S).status_code == 404


def test_a_scrape_counts_routes_by_template_and_reads_the_queues(metered):
    hall = metered
    tickets = [take(hall) for _ in range(3)]
    take(hall, "housing_fund")
    with session() as s:
        for t in tickets[:2]:
            r = s.get(f"{hall.url}/v1/public/tickets/{t['ticket_id']}", timeout=HANG_GUARD_S)
            assert r.status_code == 200, r.text
        # The resident's phone page and the pages' files: their templates too.
        page = s.get(f"{hall.url}/t/{tickets[2]['ticket_id']}", timeout=HANG_GUARD_S)
        assert page.status_code == 200
        assert s.get(f"{hall.url}/static/hall.js", timeout=HANG_GUARD_S).status_code == 200
        stray = f"/no/such/{secrets.token_hex(8)}"
        assert s.get(hall.url + stray, timeout=HANG_GUARD_S).status_code == 404
        # Refused for its declared size before any route ran: counted, as no route's.
        assert declared_too_large(hall, "/v1/tickets") == 413
        # A method outside HTTP's usual ones (the server's parser takes WebDAV's too) is not
        # a label value of its own.
        assert s.request("PROPFIND", f"{hall.url}/v1/tickets",
                         timeout=HANG_GUARD_S).status_code == 405
        assert s.get(f"{hall.url}/metrics", timeout=HANG_GUARD_S).status_code == 401
        s.headers["Authorization"] = "Bearer " + TOKEN[:-1]
        refused = s.get(f"{hall.url}/metrics", timeout=HANG_GUARD_S)
        assert refused.status_code == 401 and "hall_" not in refused.text

    text = scrape_text(hall.url)
    found = parse(text)
    assert requests_of(found, "/v1/tickets", "POST", "200") == 4
    assert requests_of(found, "/v1/public/tickets/{ticket_id}", "GET", "200") == 2
    assert requests_of(found, "/t/{ticket_id}", "GET", "200") == 1
    assert requests_of(found, "/static/{path}", "GET", "200") == 1
    assert requests_of(found, "unmatched", "GET", "404") == 1
    assert requests_of(found, "unmatched", "POST", "413") == 1
    assert requests_of(found, "/v1/tickets", "other", "405") == 1
    assert requests_of(found, "/metrics", "GET", "401") == 2
    assert value(found, "hall_http_request_duration_seconds_count", route="/v1/tickets",
                 method="POST") == 4
    for t in tickets:  # no ticket's id, no raw path: the id is the capability to see it
        assert t["ticket_id"] not in text
    assert stray not in text

    center = hall.center
    waiting = {labels: v for (name, labels), v in found.items() if name == "hall_queue_waiting"}
    categories = [c.id for c in hall.settings.rules.center(center).config.categories]
    assert len(waiting) == len(categories)  # every category, those nobody waits for too
    assert value(found, "hall_queue_waiting", center=center, category="social_security") == 3
    assert value(found, "hall_queue_waiting", center=center, category="housing_fund") == 1
    assert value(found, "hall_queue_waiting", center=center, category="household") == 0

    assert value(found, "hall_info", version=kiosk.__version__) == 1
    started = value(found, "hall_start_time_seconds")
    assert started is not None and started > 1_700_000_000
    for pool in ("hall", "hall-read"):
        size = value(found, "hall_db_pool_size", pool=pool)
        available = value(found, "hall_db_pool_available", pool=pool)
        assert size is not None and size >= 2  # the pool's min_size
        assert available is not None and 0 <= available <= size
        assert value(found, "hall_db_pool_requests_waiting", pool=pool) == 0
    assert not any(name.endswith("_created") for name, _ in found)

    # The scrape itself counts, in the next one.
    again = parse(scrape_text(hall.url))
    assert requests_of(again, "/metrics", "GET", "200") == 1


def test_a_called_ticket_leaves_the_queue_figure(metered):
    hall = metered
    take(hall)
    center = hall.center
    assert value(parse(scrape_text(hall.url)), "hall_queue_waiting", center=center,
                 category="social_security") == 1
    hall.sql("UPDATE ticket SET state = 'called' WHERE state = 'waiting'")
    assert value(parse(scrape_text(hall.url)), "hall_queue_waiting", center=center,
                 category="social_security") == 0


# --- the settings ------------------------------------------------------------------------------
def _settings_file(tmp_path: Path, extra: str = "") -> Path:
    folder = tmp_path / uuid.uuid4().hex  # write_settings names its file alike each time
    folder.mkdir()
    path = write_settings(folder, free_port())
    if extra:
        with path.open("a", encoding="utf-8") as f:
            f.write(extra)
    return path


def test_the_token_comes_from_its_file_or_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(METRICS_TOKEN_VARIABLE, raising=False)
    plain = _settings_file(tmp_path)
    assert load_settings(plain, dsn="dbname=x").metrics_token == ""
    (tmp_path / "metrics-token").write_text(TOKEN + "\n", "ascii")
    with_file = _settings_file(tmp_path, 'metrics_token_file = "../metrics-token"\n')
    settings = load_settings(with_file, dsn="dbname=x")
    assert settings.metrics_token == TOKEN
    assert TOKEN not in repr(settings)
    monkeypatch.setenv(METRICS_TOKEN_VARIABLE, TOKEN)
    assert load_settings(plain, dsn="dbname=x").metrics_token == TOKEN
    with pytest.raises(SettingsError, match="not both"):
        load_settings(with_file, dsn="dbname=x")


def test_the_settings_never_show_the_database_password(tmp_path):
    settings = load_settings(_settings_file(tmp_path),
                             dsn="host=db user=hall password=s3cret-hall dbname=hall")
    assert "s3cret-hall" not in repr(settings)
    assert "s3cret-hall" not in str(settings)


def test_a_weak_or_missing_token_file_names_the_file_and_key(tmp_path, monkeypatch):
    monkeypatch.delenv(METRICS_TOKEN_VARIABLE, raising=False)
    (tmp_path / "weak").write_text("secret\n", "ascii")
    path = _settings_file(tmp_path, 'metrics_token_file = "../weak"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(path, dsn="dbname=x")
    assert f"{path}: metrics_token_file" in str(caught.value)
    assert "at least 16" in str(caught.value) and "secret" not in str(caught.value)
    path = _settings_file(tmp_path, 'metrics_token_file = "missing"\n')
    with pytest.raises(SettingsError, match=r"metrics_token_file: token file .*missing"):
        load_settings(path, dsn="dbname=x")


# --- several worker processes ------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, _, v in pairs}


def test_two_workers_add_up_whichever_answers(tmp_path):
    with fresh_database() as dsn:
        port = free_port()
        (tmp_path / "metrics-token").write_text(TOKEN + "\n", "ascii")
        settings = write_settings(tmp_path, port)
        with settings.open("a", encoding="utf-8") as f:
            f.write('metrics_token_file = "metrics-token"\n')
        url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items()
               if k not in ("PROMETHEUS_MULTIPROC_DIR", METRICS_TOKEN_VARIABLE)}
        env[DSN_VARIABLE] = dsn
        log_file = tmp_path / "hall.log"
        log = log_file.open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "hall", "serve", "--settings", str(settings),
             "--port", str(port), "--workers", "2"],
            cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
        try:
            def pool_total() -> float:
                try:
                    found = parse(scrape_text(url, log_file))
                except requests.RequestException:
                    return 0.0
                return value(found, "hall_db_pool_size", pool="hall") or 0.0

            # Each process holds its pool's two connections and writes so at its start: a
            # scrape sums both only if it reads the other process's figures too.
            assert poll_until(lambda: pool_total() == 4.0 or server.poll() is not None), (
                (tmp_path / "hall.log").read_text(errors="replace"))
            assert server.poll() is None, (tmp_path / "hall.log").read_text(errors="replace")
            workers = _children(server.pid)
            folders = {_environment(w).get("PROMETHEUS_MULTIPROC_DIR") for w in workers}
            folders.discard(None)
            assert len(folders) == 1, folders  # one private folder, the same for both
            folder = Path(next(iter(folders)))  # type: ignore[arg-type]
            assert folder.is_dir()

            # What a process that is starting leaves in the folder for an instant: its file
            # created, not yet sized. Once, in CI, the scrape read one and answered 500.
            being_created = folder / "counter_2147483646.db"
            being_created.touch()
            assert value(parse(scrape_text(url, log_file)), "hall_db_pool_size",
                         pool="hall") == 4.0
            being_created.unlink()

            before = requests_of(parse(scrape_text(url)), "/healthz", "GET", "200")
            for _ in range(40):
                with session() as s:  # a new connection each: either worker may take it
                    assert s.get(f"{url}/healthz", timeout=HANG_GUARD_S).status_code == 200
            for _ in range(6):
                found = parse(scrape_text(url, log_file))
                assert requests_of(found, "/healthz", "GET", "200") == before + 40
                assert value(found, "hall_db_pool_size", pool="hall") == 4.0
                assert value(found, "hall_info", version=kiosk.__version__) == 1
                # One start for the server, whichever process reads it.
                assert len([n for n, _ in found if n == "hall_start_time_seconds"]) == 1
            assert len({p.name.rpartition("_")[2] for p in folder.glob("counter_*.db")}) >= 1
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(HANG_GUARD_S)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(HANG_GUARD_S)
            log.close()
        # The run's folder goes with it: no count of this run is added to the next one's.
        assert not folder.exists()
