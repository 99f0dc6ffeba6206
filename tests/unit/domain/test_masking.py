"""Masking names, ID numbers and phone numbers for the screen and the printout."""


import pytest

from kiosk.domain.masking import mask_id_number, mask_name, mask_phone
from tests.helpers.idnumbers import make_id


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张伟", "张*"), ("张伟明", "张**"), ("欧阳明华", "欧阳**"), ("吉𠮷祥", "吉**"),
     ("欧阳", "欧*"), ("John Smith", "J*** S****")],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_id_and_phone_hide_birth_date():
    number = make_id("19420315")
    masked = mask_id_number(number)
    assert masked.startswith("310") and masked.endswith(number[-4:])
    assert "19420315" not in masked and len(masked) == 18
    assert mask_phone("13812345678") == "138****5678"
