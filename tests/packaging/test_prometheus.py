"""The district's monitoring files (packaging/prometheus/, packaging/grafana/): the alert rules
pass their promtool unit tests, prometheus.yml and alertmanager.yml pass promtool's and
amtool's checks as Debian 12 ships them (prometheus 2.42, alertmanager 0.25), the WeChat Work
message renders within WeChat's limit, and every query, in the rules and on the Grafana
dashboard, reads only the metric names and label values the kiosk and the hall export.

promtool and amtool come from Debian's `prometheus` and `prometheus-alertmanager` packages,
which `bash packaging/setup.sh test` installs; a test that needs one skips, naming it, only
where it is missing.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from tests.helpers.paths import REPO_ROOT
from tests.helpers.waits import HANG_GUARD_S, poll_until

PROMETHEUS = REPO_ROOT / "packaging" / "prometheus"
PROMETHEUS_YML = PROMETHEUS / "prometheus.yml"
RULES = PROMETHEUS / "rules" / "kiosk.rules.yml"
RULES_TEST = PROMETHEUS / "rules" / "kiosk.rules.test.yml"
KIOSK_TARGETS = PROMETHEUS / "targets" / "kiosks.yml"
HALL_TARGETS = PROMETHEUS / "targets" / "halls.yml"
ALERTMANAGER_YML = PROMETHEUS / "alertmanager.yml"
WECHAT_TEMPLATE = PROMETHEUS / "alertmanager_templates" / "kiosk-wechat.tmpl"
DASHBOARD = REPO_ROOT / "packaging" / "grafana" / "kiosk-fleet.json"

# The contract with kiosk/services/metrics.py and kiosk/hall/metrics.py (issue 15): the names
# these files may query, and the label values that have a fixed set.
KIOSK_METRICS = {
    "kiosk_info", "kiosk_start_time_seconds", "kiosk_printer_state", "kiosk_printer_jobs_held",
    "kiosk_camera_state", "kiosk_camera_last_frame_age_seconds",
    "kiosk_decoder_restarts_total", "kiosk_outbox_items", "kiosk_outbox_oldest_age_seconds",
    "kiosk_tickets_total", "kiosk_applications_total", "kiosk_ratings_total",
    "kiosk_help_calls_total", "kiosk_clock_synchronized",
}
HALL_METRICS = {
    "hall_http_requests_total", "hall_queue_waiting", "hall_db_pool_size",
    "hall_db_pool_available", "hall_db_pool_requests_waiting", "hall_info",
    "hall_start_time_seconds",
}
HISTOGRAMS = {"kiosk_backend_request_duration_seconds", "hall_http_request_duration_seconds"}
# `up` is Prometheus's own series for every target, not an exported metric.
ALLOWED_NAMES = (
    KIOSK_METRICS | HALL_METRICS | {"up"}
    | {h + suffix for h in HISTOGRAMS for suffix in ("_bucket", "_count", "_sum")}
)
LABEL_VALUES = {
    ("kiosk_printer_state", "state"): {
        "ok", "paper_near_end", "paper_out", "cover_open", "silent", "unknown"},
    ("kiosk_camera_state", "state"): {"running", "starting", "unavailable", "stale", "restarting"},
    ("kiosk_tickets_total", "outcome"): {"issued", "printed", "held", "failed"},
    ("kiosk_applications_total", "outcome"): {"submitted", "queued_offline", "failed"},
    ("kiosk_backend_request_duration_seconds", "outcome"): {"ok", "error"},
}
KIOSK_METRICS_PORT = 9464  # kiosk.toml [metrics] port's default

SEVERITIES = {"critical", "warning"}
RECEIVERS = {"kiosk": "wechat-technicians", "hall": "wechat-hall-ops"}
WECHAT_TEXT_LIMIT = 2048  # bytes; WeChat Work cuts a longer text message


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package {package}; "
                    "bash packaging/setup.sh test installs it)")
    return path


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=False)


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]
            if "alert" in rule]


def duration_s(text: str) -> float:
    """A Prometheus duration such as "5m30s" in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    parts = re.findall(r"(\d+)(ms|[smhdwy])", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a duration: {text!r}"
    return sum(int(n) * units[u] for n, u in parts)


# --- PromQL, read just far enough to name what an expression selects -------------------------
# No PromQL parser is among the project's dependencies, and promtool has no command that
# lists an expression's metric names; promtool does check every expression's syntax below
# (test_dashboard_queries_are_valid_promql, and `check config` for the rules), so this only
# needs to find names in expressions already known to parse.

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_SELECTOR = re.compile(r'([A-Za-z_:][\w:]*)\s*\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}')
_MATCHER = re.compile(r'([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_VARIABLE = re.compile(r"\$\{\w+\}|\$\w+")
_NUMBER = re.compile(r"(?<![\w:])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:ms|[smhdwy])*(?![\w:])")
_IDENT = re.compile(r"[A-Za-z_:][\w:]*")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}


def metric_names(expr: str) -> set[str]:
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^{}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = _GROUPING.sub(" ", text)
    text = _VARIABLE.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        name = match.group()
        is_call = re.match(r"\s*\(", text[match.end():]) is not None
        if not is_call and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def matchers(expr: str) -> Iterator[tuple[str, str, str, str]]:
    """(metric, label, operator, value) of every label matcher on a named selector."""
    for selector in _SELECTOR.finditer(expr):
        for label, op, value in _MATCHER.findall(selector.group(2)):
            yield selector.group(1), label, op, value


def test_metric_names_reads_selectors_not_functions_labels_or_strings() -> None:
    expr = ('sum without (state) (rate(foo_bucket{state=~"a|b", route!~".*/stream"}[5m]))'
            ' / on (instance) group_left (kiosk) bar:ratio offset 1h > 0.5e1'
            ' and label_replace(baz, "x", "$1", "y", "(.+)") unless histogram_quantile('
            '0.99, qux[$__rate_interval]) or vector(0) * time()')
    assert metric_names(expr) == {"foo_bucket", "bar:ratio", "baz", "qux"}
    assert list(matchers(expr)) == [("foo_bucket", "state", "=~", "a|b"),
                                    ("foo_bucket", "route", "!~", ".*/stream")]


def check_contract(expr: str, where: str) -> None:
    unknown = metric_names(expr) - ALLOWED_NAMES
    assert not unknown, f"{where}: metric names outside the contract: {sorted(unknown)}"
    for metric, label, op, value in matchers(expr):
        base = re.sub(r"_(bucket|count|sum)$", "", metric)
        allowed = LABEL_VALUES.get((base, label))
        if allowed is None or op not in ("=", "=~"):
            continue
        values = set(value.split("|")) if op == "=~" else {value}
        assert values <= allowed, (
            f"{where}: {metric}{{{label}{op}\"{value}\"}}: {sorted(values - allowed)} "
            f"is not one of {sorted(allowed)}")


# --- The alert rules ---------------------------------------------------------------------------


def test_alert_rules_pass_their_unit_tests() -> None:
    promtool = tool("promtool", "prometheus")
    result = run(promtool, "test", "rules", RULES_TEST.name, cwd=RULES_TEST.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_is_tested_one_evaluation_either_side_of_firing() -> None:
    """A test that an alert fires, and that it had not yet fired one evaluation earlier in
    the same series: its expression and its `for:` are both pinned, not just "fires
    eventually"."""
    spec = load_yaml(RULES_TEST)
    step = duration_s(spec["evaluation_interval"])
    boundaries: set[str] = set()
    tested: set[str] = set()
    for group in spec["tests"]:
        cases: dict[str, dict[float, bool]] = {}
        for case in group.get("alert_rule_test", []):
            firing = bool(case.get("exp_alerts"))
            cases.setdefault(case["alertname"], {})[duration_s(case["eval_time"])] = firing
        tested |= set(cases)
        for name, at in cases.items():
            if any(fires and at.get(t - step) is False for t, fires in at.items()):
                boundaries.add(name)
    alerts = {rule["alert"] for rule in alert_rules()}
    assert alerts - boundaries == set(), "alerts without a fires/not-yet pair of tests"
    assert tested <= alerts, "tests of alerts that no longer exist"


def test_every_alert_says_how_bad_whose_and_what_to_do_in_chinese_and_english() -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for rule in alert_rules():
        name, labels, notes = rule["alert"], rule["labels"], rule["annotations"]
        assert labels["severity"] in SEVERITIES, name
        assert labels["service"] in RECEIVERS, name
        assert set(notes) == {"summary", "summary_en", "description", "description_en"}, name
        for key in ("summary", "description"):
            assert cjk.search(notes[key]), f"{name}: {key} is not in Chinese"
            assert not cjk.search(notes[f"{key}_en"]), f"{name}: {key}_en is not in English"
        assert len(notes["description"]) > 20 and len(notes["description_en"]) > 40, name


def test_rules_query_only_the_contract_and_the_scraped_jobs() -> None:
    jobs = {job["job_name"] for job in load_yaml(PROMETHEUS_YML)["scrape_configs"]}
    service_job = {"kiosk": "kiosk", "hall": "kiosk-hall"}
    for rule in alert_rules():
        check_contract(rule["expr"], rule["alert"])
        selected_jobs = {v for _, label, op, v in matchers(rule["expr"])
                         if label == "job" and op == "="}
        assert selected_jobs == {service_job[rule["labels"]["service"]]}, rule["alert"]
        assert selected_jobs <= jobs, rule["alert"]


# --- prometheus.yml and its targets ------------------------------------------------------------


def test_prometheus_config_passes_promtool_with_its_rules_and_targets(tmp_path: Path) -> None:
    promtool = tool("promtool", "prometheus")
    # As a district installs it: the folder's files plus the two token files, which are
    # secrets and so not in the repository.
    assert not (PROMETHEUS / "secrets").exists(), "tokens must not be committed"
    etc = tmp_path / "prometheus"
    shutil.copytree(PROMETHEUS, etc)
    (etc / "secrets").mkdir()
    for name in ("kiosk-metrics.token", "hall-metrics.token"):
        (etc / "secrets" / name).write_text("example-token\n", encoding="utf-8")
    # From another folder: relative paths must be relative to the file, not to the caller.
    result = run(promtool, "check", "config", str(etc / "prometheus.yml"), cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output  # e.g. a file_sd file that does not exist
    assert "SUCCESS: 1 rule files found" in output
    rule_count = sum(len(group["rules"]) for group in load_yaml(RULES)["groups"])
    assert f"SUCCESS: {rule_count} rules found" in output


def test_prometheus_config_refuses_a_missing_token(tmp_path: Path) -> None:
    promtool = tool("promtool", "prometheus")
    etc = tmp_path / "prometheus"
    shutil.copytree(PROMETHEUS, etc)
    result = run(promtool, "check", "config", str(etc / "prometheus.yml"), cwd=tmp_path)
    assert result.returncode != 0
    assert "kiosk-metrics.token" in result.stdout + result.stderr


def test_scrape_jobs_send_a_token_and_read_the_targets_files() -> None:
    config = load_yaml(PROMETHEUS_YML)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"kiosk", "kiosk-hall"}
    for job in jobs.values():
        assert job["authorization"]["type"] == "Bearer"
        assert job["authorization"]["credentials_file"].startswith("secrets/")
        assert "credentials" not in job["authorization"]
        assert job.get("metrics_path", "/metrics") == "/metrics"
    assert jobs["kiosk"]["file_sd_configs"][0]["files"] == ["targets/kiosks.yml"]
    assert jobs["kiosk-hall"]["file_sd_configs"][0]["files"] == ["targets/halls.yml"]
    assert config["rule_files"] == ["rules/kiosk.rules.yml"]
    # The rules' `for:` durations must be several evaluations long.
    assert duration_s(config["global"]["evaluation_interval"]) <= 60


def test_every_listed_terminal_and_hall_is_named() -> None:
    for group in load_yaml(KIOSK_TARGETS):
        assert {"center", "kiosk"} <= set(group["labels"]), group
        for target in group["targets"]:
            assert target.rsplit(":", 1)[1] == str(KIOSK_METRICS_PORT), target
    for group in load_yaml(HALL_TARGETS):
        assert "hall" in group["labels"], group
        assert "center" not in group["labels"], "a hall's own metrics carry center"


class _Terminal(http.server.BaseHTTPRequestHandler):
    """A terminal's metrics endpoint as the contract describes it: 401 without the token."""

    token: ClassVar[str] = ""
    exposition: ClassVar[str] = ""
    authorizations: ClassVar[list[str | None]]

    def do_GET(self) -> None:
        authorization = self.headers.get("Authorization")
        self.authorizations.append(authorization)
        ok = self.path == "/metrics" and authorization == f"Bearer {self.token}"
        body = self.exposition.encode() if ok else b"unauthorized\n"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _terminal(token: str, kiosk_id: str, printer: str) -> http.server.ThreadingHTTPServer:
    states = "".join(f'kiosk_printer_state{{state="{s}"}} {int(s == printer)}\n'
                     for s in sorted(LABEL_VALUES[("kiosk_printer_state", "state")]))
    handler = type("Terminal", (_Terminal,), {
        "token": token, "authorizations": [],
        "exposition": "# TYPE kiosk_info gauge\n"
                      f'kiosk_info{{version="1.4.0",center="徐汇区示范街道社区事务受理服务中心",'
                      f'kiosk="{kiosk_id}"}} 1\n# TYPE kiosk_printer_state gauge\n{states}'})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _listening_port(pid: int) -> int | None:
    """The TCP port process `pid` listens on. Prometheus is started on port 0 (the kernel
    picks a free one, so no other process can take it first) and does not log which."""
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with_inode = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(fd))
        if with_inode:
            sockets.add(with_inode.group(1))
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in sockets:  # 0A: LISTEN
                return int(fields[1].rsplit(":", 1)[1], 16)
    return None


def _api(port: int, query: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=HANG_GUARD_S) as response:
        result: list[dict[str, Any]] = json.load(response)["data"]["result"]
    return result


def test_prometheus_scrapes_terminals_with_the_token_and_names_them(tmp_path: Path) -> None:
    """The shipped prometheus.yml and rules, run by Debian's Prometheus against two stand-in
    terminals on loopback, scraped every second instead of every 30 s: the token goes out as
    a bearer token, the targets file's names label every series (the terminal's own kept as
    exported_*), and the rules see terminals out of paper and one that calls itself by
    another name."""
    prometheus = tool("prometheus", "prometheus")
    token = "0123456789abcdef0123456789abcdef"
    # Both out of paper: one rule group evaluates both rules at once, so KioskPrinterPaperOut
    # for XH-DEMO-02 shows its data was evaluated, and its lack of KioskIdentityMismatch
    # means something.
    misnamed = _terminal(token, "XH-DEMO-09", printer="paper_out")
    named = _terminal(token, "XH-DEMO-02", printer="paper_out")
    servers = {"XH-DEMO-01": misnamed, "XH-DEMO-02": named}
    etc = tmp_path / "prometheus"
    shutil.copytree(PROMETHEUS, etc)
    (etc / "secrets").mkdir()
    (etc / "secrets" / "kiosk-metrics.token").write_text(token + "\n", encoding="utf-8")
    (etc / "secrets" / "hall-metrics.token").write_text(token + "\n", encoding="utf-8")
    (etc / "targets" / "kiosks.yml").write_text(yaml.safe_dump([
        {"targets": [f"127.0.0.1:{server.server_address[1]}"],
         "labels": {"center": "xuhui-demo", "kiosk": name}}
        for name, server in servers.items()]), encoding="utf-8")
    (etc / "targets" / "halls.yml").write_text("[]\n", encoding="utf-8")
    config = load_yaml(etc / "prometheus.yml")
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    del config["alerting"]  # nothing fires within the test: no Alertmanager to talk to
    (etc / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")

    ready = threading.Event()
    log: list[str] = []

    def read_log(stream: Iterator[str]) -> None:
        for line in stream:
            log.append(line)
            if "Server is ready to receive web requests" in line:
                ready.set()

    with subprocess.Popen(
        [prometheus, f"--config.file={etc / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", "--web.listen-address=127.0.0.1:0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    ) as process:
        assert process.stderr is not None
        reader = threading.Thread(target=read_log, args=(process.stderr,), daemon=True)
        reader.start()
        try:
            assert ready.wait(HANG_GUARD_S), "".join(log)
            port = _listening_port(process.pid)
            assert port is not None, "".join(log)

            def alerts() -> dict[str, set[str]]:
                found: dict[str, set[str]] = {}
                for series in _api(port, "ALERTS"):
                    labels = series["metric"]
                    # KioskTargetsMissing (no `kiosk`) is pending until the first scrapes.
                    found.setdefault(labels.get("kiosk", "-"), set()).add(labels["alertname"])
                return found

            wanted = {"XH-DEMO-01": {"KioskIdentityMismatch", "KioskPrinterPaperOut"},
                      "XH-DEMO-02": {"KioskPrinterPaperOut"}}
            assert poll_until(lambda: alerts() == wanted), (alerts(), "".join(log))

            [info] = [s["metric"] for s in _api(port, 'kiosk_info{kiosk="XH-DEMO-01"}')]
            assert info["center"] == "xuhui-demo" and info["exported_kiosk"] == "XH-DEMO-09"
            assert info["exported_center"] == "徐汇区示范街道社区事务受理服务中心"
            assert info["instance"] == f"127.0.0.1:{misnamed.server_address[1]}"
            assert {s["metric"]["kiosk"] for s in _api(port, "up == 1")} == set(servers)
            # The dashboard's queries run on real series (an error would raise here: e.g.
            # two series left with one label set), and the fleet table shows the printers.
            for where, expr in dashboard_queries_for_prometheus():
                result = _api(port, expr)
                if "printer" in expr and "label_replace" in expr:
                    printers = {r["metric"]["printer"] for r in result}
                    assert printers == {"paper_out"}, where
        finally:
            process.terminate()
            process.wait(timeout=HANG_GUARD_S)
            reader.join(HANG_GUARD_S)  # its stream ends with the process
            for server in servers.values():
                server.shutdown()
                server.server_close()
    for server in servers.values():
        handler: Any = server.RequestHandlerClass
        assert handler.authorizations and set(handler.authorizations) == {f"Bearer {token}"}


# --- alertmanager.yml and the WeChat Work message ---------------------------------------------


def test_alertmanager_config_passes_amtool_with_its_template(tmp_path: Path) -> None:
    amtool = tool("amtool", "prometheus-alertmanager")
    result = run(amtool, "check-config", str(ALERTMANAGER_YML), cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # amtool parses every template the `templates` glob finds, relative to the config's
    # folder, but accepts a glob that finds nothing: a broken copy of ours must fail it.
    assert WECHAT_TEMPLATE.is_file()
    broken = tmp_path / "alertmanager"
    shutil.copytree(PROMETHEUS, broken)
    template = broken / WECHAT_TEMPLATE.relative_to(PROMETHEUS)
    template.write_text(template.read_text(encoding="utf-8") + "{{ end", encoding="utf-8")
    result = run(amtool, "check-config", str(broken / ALERTMANAGER_YML.name), cwd=tmp_path)
    assert result.returncode != 0 and "kiosk-wechat.tmpl" in result.stdout + result.stderr


def test_alertmanager_config_holds_placeholders_not_secrets() -> None:
    config = load_yaml(ALERTMANAGER_YML)
    assert config["global"]["wechat_api_secret"].startswith("REPLACE_WITH_")
    assert config["global"]["wechat_api_corp_id"].startswith("REPLACE_WITH_")
    for receiver in config["receivers"]:
        for wechat in receiver["wechat_configs"]:
            assert "api_secret" not in wechat and "corp_id" not in wechat
            assert wechat["agent_id"].startswith("REPLACE_WITH_")
            assert wechat["to_party"].startswith("REPLACE_WITH_")


@pytest.mark.parametrize("service", sorted(RECEIVERS))
@pytest.mark.parametrize("severity", sorted(SEVERITIES))
def test_every_alert_reaches_its_teams_wechat_receiver(service: str, severity: str) -> None:
    amtool = tool("amtool", "prometheus-alertmanager")
    for rule in alert_rules():
        if (rule["labels"]["service"], rule["labels"]["severity"]) != (service, severity):
            continue
        result = run(amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER_YML}",
                     f"--verify.receivers={RECEIVERS[service]}", f"alertname={rule['alert']}",
                     f"service={service}", f"severity={severity}", "center=xuhui-demo",
                     "kiosk=XH-DEMO-01", "hall=xuhui")
        assert result.returncode == 0, rule["alert"] + result.stdout + result.stderr
        assert result.stdout.split() == [RECEIVERS[service]]


def _example_annotation(text: str) -> str:
    # The longest label value an annotation shows is an address like "198.51.100.21:9464".
    return re.sub(r"\{\{[^}]*\}\}", "198.51.100.21:9464", text)


def _alert(rule: dict[str, Any], n: int, status: str) -> dict[str, Any]:
    labels = {**rule["labels"], "alertname": rule["alert"], "job": "kiosk",
              "center": "xuhui-tianlin", "kiosk": f"XH-TL-{n:02d}",
              "instance": f"198.51.100.{n}:9464"}
    return {"status": status, "labels": labels,
            "annotations": {k: _example_annotation(v) for k, v in rule["annotations"].items()},
            "startsAt": "2024-05-06T01:02:03Z",
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2024-05-06T02:00:00Z",
            "generatorURL": "", "fingerprint": f"{n:016x}"}


def render_message(tmp_path: Path, rule: dict[str, Any], firing: int, resolved: int) -> str:
    amtool = tool("amtool", "prometheus-alertmanager")
    alerts = [_alert(rule, n, "firing") for n in range(1, firing + 1)]
    alerts += [_alert(rule, n, "resolved") for n in range(firing + 1, firing + resolved + 1)]
    common = {**rule["labels"], "alertname": rule["alert"], "center": "xuhui-tianlin"}
    data = {"receiver": RECEIVERS[rule["labels"]["service"]],
            "status": "firing" if firing else "resolved", "alerts": alerts,
            "groupLabels": {"alertname": rule["alert"], "center": "xuhui-tianlin"},
            "commonLabels": common, "commonAnnotations": {},
            "externalURL": "http://alertmanager.example:9093"}
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run(amtool, "template", "render", f"--template.glob={WECHAT_TEMPLATE}",
                 '--template.text={{ template "kiosk.wechat.message" . }}',
                 f"--template.data={data_file}")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def test_wechat_message_says_what_and_what_to_do_and_where(tmp_path: Path) -> None:
    [rule] = [r for r in alert_rules() if r["alert"] == "KioskPrinterPaperOut"]
    message = render_message(tmp_path, rule, firing=3, resolved=1)
    notes = rule["annotations"]
    assert message.startswith("【紧急 CRITICAL】" + _example_annotation(notes["summary"]))
    for key in ("summary_en", "description", "description_en"):
        assert _example_annotation(notes[key]) in message
    for n in (1, 2, 3):
        assert f"xuhui-tianlin XH-TL-{n:02d} (198.51.100.{n}:9464)" in message
    assert "XH-TL-04" not in message and "已恢复 Resolved: 1" in message
    assert "2024-05-06 " in message and "http://alertmanager.example:9093" in message

    resolved = render_message(tmp_path, rule, firing=0, resolved=2)
    assert resolved.startswith("【已恢复 RESOLVED】KioskPrinterPaperOut")
    assert "XH-TL-01" in resolved and "XH-TL-02" in resolved


def test_wechat_message_fits_wechat_works_limit_for_the_wordiest_alert(tmp_path: Path) -> None:
    def wordiness(rule: dict[str, Any]) -> int:
        return sum(len(_example_annotation(v).encode()) for v in rule["annotations"].values())

    wordiest = max(alert_rules(), key=wordiness)
    message = render_message(tmp_path, wordiest, firing=25, resolved=25)
    assert message.count("\n- ") == 11  # ten terminals and "…"
    assert len(message.encode()) <= WECHAT_TEXT_LIMIT, len(message.encode())


# --- The Grafana dashboard ---------------------------------------------------------------------


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def queries() -> list[tuple[str, str]]:
    return [(f"panel {p['id']} ({p['title']}) {t['refId']}", t["expr"])
            for p in panels() for t in p["targets"]]


def test_dashboard_takes_its_datasource_as_a_variable() -> None:
    board = dashboard()
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    wanted = {"type": "prometheus", "uid": "${datasource}"}
    for panel in panels():
        assert panel["datasource"] == wanted, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == wanted, panel["title"]
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == wanted, variable["name"]
    # Nothing tied to one Grafana: no data source uid, no dashboard id.
    assert "__inputs" not in board and board.get("id") is None


def test_dashboard_panels_have_unique_ids_and_fit_the_grid() -> None:
    ids = [p["id"] for p in dashboard()["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard()["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24 and pos["h"] > 0, panel["title"]


def test_dashboard_queries_only_the_contract() -> None:
    for where, expr in queries():
        check_contract(expr, where)
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((\w+), *(\w+)\)", variable["definition"])
            assert match, variable["definition"]
            assert match.group(1) in ALLOWED_NAMES, variable["name"]


def dashboard_queries_for_prometheus() -> list[tuple[str, str]]:
    """The dashboard's queries with Grafana's variables given values ("All" for the
    filters)."""
    substitutions = {"$__rate_interval": "5m", "$center": ".*", "$hall": ".*"}
    result = []
    for where, expr in queries():
        for variable, value in substitutions.items():
            expr = expr.replace(variable, value)
        assert "$" not in _STRING.sub('""', expr), f"{where}: a variable left in {expr}"
        result.append((where, expr))
    return result


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """Each query as a recording rule: promtool parses it as Prometheus would."""
    promtool = tool("promtool", "prometheus")
    rules = [{"record": f"grafana_query_{n}", "expr": expr}
             for n, (_, expr) in enumerate(dashboard_queries_for_prometheus())]
    rules_file = tmp_path / "grafana.rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "grafana", "rules": rules}]},
                                         allow_unicode=True), encoding="utf-8")
    result = run(promtool, "check", "rules", str(rules_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_dashboard_shows_the_fleet_tickets_latency_and_the_halls() -> None:
    by_title = {p["title"]: p for p in panels()}
    [fleet] = [p for p in panels() if p["type"] == "table"]
    fleet_names = set().union(*(metric_names(t["expr"]) for t in fleet["targets"]))
    assert {"up", "kiosk_printer_state", "kiosk_camera_state", "kiosk_outbox_items",
            "kiosk_outbox_oldest_age_seconds"} <= fleet_names
    assert all(t["instant"] and t["format"] == "table" for t in fleet["targets"])
    used = {name for _, expr in queries() for name in metric_names(expr)}
    assert {"kiosk_tickets_total", "kiosk_backend_request_duration_seconds_bucket",
            "hall_http_requests_total", "hall_http_request_duration_seconds_bucket"} <= used
    assert any("Tickets per hour" in title for title in by_title)
