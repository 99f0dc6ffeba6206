"""Masking rules for personal data, in one place for screen, paper and logs.

PIPL art. 28 treats ID numbers as sensitive and GB/T 35273 asks for de-identified display.
No national rule fixes which digits to show, so we choose: the birth date (digits 7-14) is
never visible; an ID number shows at most its first 3 and last 4 characters on screen and
nothing on paper; a phone number its first 3 and last 4; a name only its surname.
"""

from __future__ import annotations

# Two-character surnames (复姓) that must stay whole when a name is masked: 欧阳** not 欧**.
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "独孤", "南宫", "西门", "百里",
        "呼延", "端木", "万俟", "闻人", "东郭", "拓跋", "澹台", "公冶", "申屠", "太史",
    ]
)


def _chars(text: str) -> list[str]:
    # Iterate code points, so a rare character outside the BMP (𠮷) counts as one.
    return list(text)


def mask_name(name: str) -> str:
    """张伟 → 张*, 欧阳明华 → 欧阳**, John Smith → J*** S****."""
    name = name.strip()
    if not name:
        return ""
    if name.isascii():
        return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())
    chars = _chars(name)
    keep = 2 if len(chars) > 2 and "".join(chars[:2]) in COMPOUND_SURNAMES else 1
    return "".join(chars[:keep]) + "*" * max(1, len(chars) - keep)


def mask_id_number(number: str) -> str:
    """310***********1234: first 3 and last 4; shorter input is masked entirely."""
    n = number.strip()
    if len(n) < 8:
        return "*" * len(n)
    return n[:3] + "*" * (len(n) - 7) + n[-4:]


def mask_phone(phone: str) -> str:
    """138****5678."""
    p = phone.strip()
    if len(p) < 8:
        return "*" * len(p)
    return p[:3] + "*" * (len(p) - 7) + p[-4:]
