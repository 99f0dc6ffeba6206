"""device_problems: what a config names must be there before the kiosk relies on it; here
the metrics endpoint's token file, which `kiosk run` would only log (and run unscraped)."""

from __future__ import annotations

from pathlib import Path

from kiosk.cli import main
from kiosk.config.devices import device_problems
from kiosk.config.loader import load_config
from tests.helpers.paths import CATALOG_FILE

KEYS = '[qr.public_keys]\ndemo = "N6YcjELd+H9LtsqsRNYwqVp3VPZejQZv4N7LBDl5jHc="\n'
METRICS = '[metrics]\nenabled = true\nlisten = "0.0.0.0"\ntoken_file = "metrics-token"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(KEYS + text, encoding="utf-8")
    (tmp_path / "catalog.yaml").write_text(CATALOG_FILE.read_text("utf-8"), encoding="utf-8")
    return path


def metrics_problems(path: Path) -> list[tuple[str, str]]:
    return [p for p in device_problems(load_config(path), path.parent)
            if p[0].startswith("metrics")]


def test_a_missing_metrics_token_file_is_named_with_its_key(tmp_path, capsys):
    path = write(tmp_path, METRICS)
    [(key, text)] = metrics_problems(path)
    assert key == "metrics.token_file"
    assert str(tmp_path / "metrics-token") in text and "does not exist" in text
    assert main(["check-config", str(path)]) != 0
    assert "metrics.token_file" in capsys.readouterr().err


def test_a_short_token_is_refused_without_quoting_it(tmp_path):
    path = write(tmp_path, METRICS)
    (tmp_path / "metrics-token").write_text("short-secret\n", encoding="ascii")
    [(_, text)] = metrics_problems(path)
    assert "at least 16" in text and "short-secret" not in text


def test_a_good_token_file_and_metrics_off_are_no_problem(tmp_path):
    path = write(tmp_path, METRICS)
    (tmp_path / "metrics-token").write_text("a" * 64 + "\n", encoding="ascii")
    assert metrics_problems(path) == []
    off = write(tmp_path, '[metrics]\nenabled = false\ntoken_file = "absent"\n')
    assert metrics_problems(off) == []
