"""Folded YAML text: a line break between two Chinese characters becomes nothing, not the
space YAML puts there for English (issue 14: "…登记和 社会保障卡申领" on the intro screen)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kiosk.common.datafiles import read_data_file
from tests.helpers.paths import BUNDLES_DIR, CATALOG_FILE

# A space between two CJK characters (Han, CJK punctuation, full-width forms).
CJK_SPACE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef] [\u2e80-\u9fff\uf900-\ufaff"
                       r"\uff00-\uffef]")


def texts(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in texts(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [t for i, v in enumerate(value) for t in texts(v, f"{path}[{i}]")]
    return []


def read(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "sample.yaml"
    path.write_text(text, encoding="utf-8")
    return read_data_file(path)


def test_a_folded_chinese_text_has_no_space_at_its_line_breaks(tmp_path):
    data = read(tmp_path, (
        "description:\n"
        "  zh: >-\n"
        "    宝宝出生后，即可办理城乡居民医保参保登记和\n"
        "    社会保障卡申领，\n"
        "    并可同时申领生育保险待遇。\n"
        "  en: >-\n"
        "    After your baby is born, one parent makes a single\n"
        "    application for the birth certificate check.\n"
        "# a comment under the block\n"
        "plain: 第一行\n"
        "  第二行\n"
    ))
    assert data["description"]["zh"] == (
        "宝宝出生后，即可办理城乡居民医保参保登记和社会保障卡申领，并可同时申领生育保险待遇。")
    # English keeps its spaces between words.
    assert data["description"]["en"] == ("After your baby is born, one parent makes a single "
                                         "application for the birth certificate check.")
    assert data["plain"] == "第一行第二行"


def test_only_the_fold_between_two_cjk_characters_goes(tmp_path):
    data = read(tmp_path, (
        "mixed: >-\n"
        "    预计 10\n"
        "    个工作日办结，共\n"
        "    3 个部门；请带好\n"
        "    身份证 原件\n"
        "written: 养老 · 就业 · 社保卡\n"
        "flow: {zh: 很长的\n"
        "  中文, en: long\n"
        "  text}\n"
        "paragraphs: >\n"
        "  第一段\n"
        "\n"
        "  第二段\n"
    ))
    # Next to digits and Latin text the fold stays a space; a space written in a line stays.
    assert data["mixed"] == "预计 10 个工作日办结，共 3 个部门；请带好身份证 原件"
    assert data["written"] == "养老 · 就业 · 社保卡"
    assert data["flow"] == {"zh": "很长的中文", "en": "long text"}
    assert data["paragraphs"] == "第一段\n第二段\n"  # a blank line stays a line break


@pytest.mark.parametrize("path", [*sorted(BUNDLES_DIR.glob("*.yaml")), CATALOG_FILE],
                         ids=lambda p: p.name)
def test_no_shipped_text_has_a_space_between_chinese_characters(path):
    found = [(where, text) for where, text in texts(read_data_file(path))
             if CJK_SPACE.search(text)]
    assert not found, found
