"""The catalog's matters (按事项找 on the category screen): validated like the rest of the
file, every problem at once."""

from __future__ import annotations

import pytest

from kiosk.common.datafiles import ConfigFileError
from kiosk.domain.catalog import load_catalog
from tests.helpers.paths import CONFIG_DIR

HEAD = "priority_prefix: Y\ncategories:\n"


def category(cid: str, prefix: str, matters: str = "") -> str:
    return (f"  - id: {cid}\n    prefix: {prefix}\n    title: {{zh: {cid}, en: {cid}}}\n"
            f"    minutes_per_ticket: 5\n{matters}")


def test_the_shipped_catalog_names_matters_and_hints():
    catalog = load_catalog(CONFIG_DIR / "catalog.yaml")
    social = catalog.get("social_security")
    assert "办退休" in [m.zh for m in social.matters]
    assert all(c.hint is not None and c.matters for c in catalog.categories)


def test_matters_are_optional(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(HEAD + category("a", "A"), "utf-8")
    assert load_catalog(path).categories[0].matters == []


def test_a_matter_under_two_categories_is_refused_with_the_other_mistakes(tmp_path):
    path = tmp_path / "catalog.yaml"
    matter = "    matters:\n      - {zh: 办退休, en: Retirement}\n"
    too_long = "    matters:\n      - {zh: 一个很长很长很长的事项名称, en: x}\n"
    path.write_text(HEAD + category("a", "A", matter) + category("b", "B", matter)
                    + category("c", "C", too_long), "utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_catalog(path)
    text = caught.value.message()
    assert "办退休" in text and "more than one category" in text
    assert "categories[2].matters[0].zh" in text and "10" in text  # too long for a button


def test_at_most_six_matters_a_category(tmp_path):
    path = tmp_path / "catalog.yaml"
    many = "    matters:\n" + "".join(f"      - {{zh: 事{i}, en: m{i}}}\n" for i in range(7))
    path.write_text(HEAD + category("a", "A", many), "utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_catalog(path)
    assert "categories[0].matters" in caught.value.message()
