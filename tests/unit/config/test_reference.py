"""docs/CONFIG.md is generated from the schema and names every section and key."""


from kiosk.config.reference import config_reference
from kiosk.config.schema import KioskConfig
from tests.helpers.paths import REPO_ROOT


def test_config_reference_is_current_and_complete():
    text = config_reference()
    assert (REPO_ROOT / "docs" / "CONFIG.md").read_text("utf-8") == text, (
        "docs/CONFIG.md is stale: run `kiosk config-reference -o docs/CONFIG.md`")
    for section in KioskConfig.model_fields:
        assert f"## [{section}]" in text
    for key in ("baudrate", "vendor_id", "font_charset", "idle_timeout_s", "pin_hash"):
        assert f"`{key}`" in text
