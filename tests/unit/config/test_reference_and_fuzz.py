"""docs/CONFIG.md is generated from the schema; broken config files always get a message."""

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.config.loader import ConfigFileError, load_config
from kiosk.config.reference import config_reference
from kiosk.config.schema import KioskConfig

ROOT = Path(__file__).resolve().parents[3]


def test_config_reference_is_current_and_complete():
    text = config_reference()
    assert (ROOT / "docs" / "CONFIG.md").read_text("utf-8") == text, (
        "docs/CONFIG.md is stale: run `kiosk config-reference -o docs/CONFIG.md`")
    for section in KioskConfig.model_fields:
        assert f"## [{section}]" in text
    for key in ("baudrate", "vendor_id", "font_charset", "idle_timeout_s", "pin_hash"):
        assert f"`{key}`" in text


SHIPPED = (ROOT / "config" / "kiosk.toml").read_text("utf-8")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_config_files_give_a_clear_message(tmp_path, data):
    """Random edits of the shipped file: valid, or a ConfigFileError naming the file."""
    lines = SHIPPED.splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["delete", "garble", "truncate", "insert", "retype"]))
        if op == "delete":
            lines.pop(i)
        elif op == "garble":
            lines[i] = data.draw(st.text(max_size=40))
        elif op == "truncate":
            lines[i] = lines[i][: data.draw(st.integers(0, max(0, len(lines[i]))))]
        elif op == "insert":
            lines.insert(i, data.draw(st.sampled_from(
                ["foo = 1", "[printer]", "kind = 'usb'", "paper_width_mm = 'eighty'",
                 "idle_timeout_s = -5", "\x00", "port = 3", "[[camera]]", "baudrate = 9601"])))
        elif op == "retype" and "=" in lines[i]:
            key = lines[i].split("=")[0]
            lines[i] = key + "= " + data.draw(st.sampled_from(
                ["[]", "{}", "true", "-1", "1e999", '"x"', "2026-01-01", "'''"]))
    path = tmp_path / "kiosk.toml"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path)
    except ConfigFileError as e:
        assert str(path) in e.message() and e.problems
