"""A refused keypad entry says what the field expects (issue 14: "位数不对" did not say that
a mobile number has 11 digits)."""

from __future__ import annotations

import pytest

from kiosk.domain.wizard import FieldProblem
from kiosk.ui import messages


@pytest.mark.parametrize(("problem", "kind", "typed", "limits", "expected"), [
    (FieldProblem.WRONG_LENGTH, "phone", "1391234567", {},
     "您输入了 10 位。请输入 11 位手机号码。"),
    (FieldProblem.EMPTY, "phone", "", {}, "请输入 11 位手机号码。"),
    (FieldProblem.WRONG_LENGTH, "bank_card", "6222", {},
     "您输入了 4 位。请输入银行卡号（12 至 19 位数字），与卡面上的号码一致。"),
    (FieldProblem.BAD_ID_NUMBER, "id_number", "3101041980", {},
     "您输入了 10 位。请输入 18 位身份证号码（末位可能是 X）。"),
    (FieldProblem.BAD_DATE, "date", "2024", {},
     "您输入了 4 位。请输入 8 位数字的日期：年年年年月月日日，如 20240131。"),
    (FieldProblem.WRONG_LENGTH, "digits", "12", {"min_len": 6, "max_len": 6},
     "您输入了 2 位。请输入 6 位数字。"),
    (FieldProblem.WRONG_LENGTH, "digits", "123", {"min_len": 1, "max_len": 2},
     "您输入了 3 位。请输入 1 至 2 位数字。"),
    (FieldProblem.WRONG_LENGTH, "digits", "1", {"min_len": 4},
     "您输入了 1 位。请输入至少 4 位数字。"),
    (FieldProblem.WRONG_LENGTH, "digits", "1" * 9, {"max_len": 8},
     "您输入了 9 位。请输入不超过 8 位数字。"),
])
def test_a_refused_entry_says_what_is_expected(problem, kind, typed, limits, expected):
    assert messages.typed_problem(problem, kind, typed, **limits) == expected


@pytest.mark.parametrize(("problem", "kind", "typed"), [
    (FieldProblem.BAD_ID_NUMBER, "id_number", "310104198001011230"),  # 18, wrong check digit
    (FieldProblem.BAD_CHECKSUM, "bank_card", "6222020200112234"),
    (FieldProblem.BAD_PHONE, "phone", "12912345678"),
    (FieldProblem.FUTURE_DATE, "date", "20990101"),
])
def test_a_value_of_the_right_length_keeps_its_own_message(problem, kind, typed):
    assert messages.typed_problem(problem, kind, typed) == messages.field_problem(problem)
    assert "位数不对" not in messages.typed_problem(problem, kind, typed)
