"""Messages for people, from one catalogue: what happened and what to do.

Every problem the resident can meet (a refused code, a printer or camera fault, an
unreachable backend) is named by a code in the domain or hardware layer and worded here,
through Qt's translation system, so the same problem always reads the same way.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from kiosk.domain.payloads import PayloadProblem
from kiosk.domain.queue import PriorityReason


def _t(text: str) -> str:
    return QCoreApplication.translate("messages", text)


def payload_problem(problem: PayloadProblem) -> str:
    texts = {
        PayloadProblem.NOT_OURS: _t(
            "这不是随申码。请打开“随申办”App，出示个人随申码后再扫。"
        ),
        PayloadProblem.MALFORMED: _t(
            "二维码不完整或已损坏，无法识别。请在手机上刷新随申码后重新对准方框。"
        ),
        PayloadProblem.UNSUPPORTED_VERSION: _t(
            "这个随申码的版本本机暂不支持。请更新“随申办”App，或选择“没有手机？直接取号”。"
        ),
        PayloadProblem.WRONG_KIND: _t(
            "这是其他用途的二维码（如排队凭条或回执），不是个人随申码。请出示个人随申码。"
        ),
        PayloadProblem.UNKNOWN_KEY: _t(
            "无法确认这个二维码的来源。请出示“随申办”App 中的随申码，或联系工作人员。"
        ),
        PayloadProblem.BAD_SIGNATURE: _t(
            "二维码校验未通过，可能被修改过。请出示“随申办”App 中的随申码，或联系工作人员。"
        ),
        PayloadProblem.EXPIRED: _t(
            "随申码已过期（截图无效）。请在手机上刷新随申码后再扫。"
        ),
        PayloadProblem.NOT_YET_VALID: _t(
            "随申码时间不正确。请检查手机的日期和时间设置，刷新随申码后再扫。"
        ),
        PayloadProblem.REPLAYED: _t(
            "这个随申码已经用过了。请在手机上刷新随申码后再扫。"
        ),
    }
    return texts[problem]


def unknown_resident() -> str:
    return _t("未查到您的信息。请联系工作人员，或选择“没有手机？直接取号”。")


def backend_unavailable() -> str:
    return _t("系统暂时无法连接，请稍后再试，或联系工作人员。")


def priority_notice(reason: PriorityReason) -> str:
    texts = {
        PriorityReason.AGE: _t("您已年满 80 周岁，将为您取优先号。"),
        PriorityReason.ENTITLEMENT: _t("您属于优先办理对象，将为您取优先号。"),
        PriorityReason.APPOINTMENT: _t("您今天有预约，将为您取预约优先号。"),
        PriorityReason.NONE: "",
    }
    return texts[reason]


def printer_problem(state: str) -> str:
    texts = {
        "paper_out": _t("打印机缺纸，凭条没有打印出来。"),
        "cover_open": _t("打印机盖未关好，凭条没有打印出来。"),
        "offline": _t("打印机暂时离线，凭条没有打印出来。"),
        "unavailable": _t("打印机无法连接，凭条没有打印出来。"),
    }
    what = texts.get(state, _t("打印机故障，凭条没有打印出来。"))
    return what + _t("您的号码仍然有效：请用手机拍下屏幕上的号码和二维码，或请工作人员补打。")


def camera_problem() -> str:
    return _t("摄像头暂时无法使用。请选择“没有手机？直接取号”，或联系工作人员。")
