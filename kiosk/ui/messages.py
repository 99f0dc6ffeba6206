"""Messages for people, from one catalogue: what happened and what to do.

Every problem the resident can meet (a refused code, a printer or camera fault, an
unreachable backend) is named by a code in the domain or hardware layer and worded here,
through Qt's translation system, so the same problem always reads the same way.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QCoreApplication

from kiosk.backend.interface import IdCardNotAccepted
from kiosk.domain.id_card import CardValidity, IdCard
from kiosk.domain.payloads import PayloadProblem
from kiosk.domain.queue import PriorityReason
from kiosk.domain.wizard import FieldProblem

# Called with literal texts, as translate("messages", "..."), so pyside6-lupdate finds them.
translate = QCoreApplication.translate


def payload_problem(problem: PayloadProblem) -> str:
    texts = {
        PayloadProblem.NOT_OURS: translate(
        "messages",
            "这不是随申码。请打开“随申办”App，出示个人随申码后再扫。"
        ),
        PayloadProblem.MALFORMED: translate(
        "messages",
            "二维码不完整或已损坏，无法识别。请在手机上刷新随申码后重新对准方框。"
        ),
        PayloadProblem.UNSUPPORTED_VERSION: translate(
        "messages",
            "这个随申码的版本本机暂不支持。请更新“随申办”App，或选择“没有手机？直接取号”。"
        ),
        PayloadProblem.WRONG_KIND: translate(
        "messages",
            "这是其他用途的二维码（如排队凭条或回执），不是个人随申码。请出示个人随申码。"
        ),
        PayloadProblem.UNKNOWN_KEY: translate(
        "messages",
            "无法确认这个二维码的来源。请出示“随申办”App 中的随申码，或联系工作人员。"
        ),
        PayloadProblem.BAD_SIGNATURE: translate(
        "messages",
            "二维码校验未通过，可能被修改过。请出示“随申办”App 中的随申码，或联系工作人员。"
        ),
        PayloadProblem.EXPIRED: translate(
        "messages",
            "随申码已过期（截图无效）。请在手机上刷新随申码后再扫。"
        ),
        PayloadProblem.NOT_YET_VALID: translate(
        "messages",
            "随申码时间不正确。请检查手机的日期和时间设置，刷新随申码后再扫。"
        ),
        PayloadProblem.REPLAYED: translate(
        "messages",
            "这个随申码已经用过了。请在手机上刷新随申码后再扫。"
        ),
    }
    return texts[problem]


def unknown_resident() -> str:
    return translate("messages", "未查到您的信息。请联系工作人员，或选择“没有手机？直接取号”。")


def backend_unavailable() -> str:
    return translate("messages", "系统暂时无法连接，请稍后再试，或联系工作人员。")


def identify_failed(exc: BaseException, language: str) -> str:
    """What a resident reads when looking them up failed: for a card the backend does not
    take from this kiosk (a hall not told of its reader), the backend's own words, which
    send them to the 随申码 or to staff; otherwise that the system is unavailable."""
    if isinstance(exc, IdCardNotAccepted) and exc.message is not None:
        return exc.message.get(language)
    return backend_unavailable()


def priority_notice(reason: PriorityReason) -> str:
    texts = {
        PriorityReason.AGE: translate("messages", "您已年满 80 周岁，将为您取优先号。"),
        PriorityReason.ENTITLEMENT: translate("messages", "您属于优先办理对象，将为您取优先号。"),
        PriorityReason.APPOINTMENT: translate("messages", "您今天有预约，将为您取预约优先号。"),
        PriorityReason.NONE: "",
    }
    return texts[reason]


def printer_problem(state: str, *, held: bool = True, phone: bool = True) -> str:
    """What the resident reads when a ticket or receipt did not print. `held`: nothing was
    sent; it is kept for the resident (the ticket screen offers 重新打印凭条 once the printer
    is back) or staff, never printed by itself for whoever stands at the tray. Otherwise
    part or all of it went out and it is never sent again (a second copy would be a
    duplicate). `phone`: the resident came with one (a scanned code) and can photograph
    the screen; without one they are told to write the number down (write_number_down)."""
    texts = {
        "paper_out": translate("messages", "打印机缺纸，凭条没有打印出来。"),
        "cover_open": translate("messages", "打印机盖未关好，凭条没有打印出来。"),
        "offline": translate("messages", "打印机暂时离线，凭条没有打印出来。"),
        "unavailable": translate("messages", "打印机无法连接，凭条没有打印出来。"),
    }
    if not held:
        what = translate("messages", "打印时打印机出了故障，凭条可能不完整。")
    else:
        what = texts.get(state, translate("messages", "打印机故障，凭条没有打印出来。"))
    if not phone:  # the box below it says to keep the number (write_number_down)
        return _then(what, translate("messages", "工作人员已收到提醒。"))
    return _then(what, translate(
        "messages",
        "您的号码仍然有效：请用手机拍下屏幕上的号码和二维码。工作人员已收到提醒。"
    ))


def write_number_down(number: str, issued_at: str) -> str:
    """Without a phone and without paper: the number is all the resident has."""
    return translate(
        "messages", "请记住或写下您的号码：\n{number}　{time} 取号"
    ).format(number=number, time=issued_at)


def printer_back() -> str:
    """The printer prints again while the resident whose ticket it refused is still there."""
    return translate("messages", "打印机已恢复。请点“重新打印凭条”取凭条。")


def printing_unavailable(state: str) -> str:
    """Home, while the printer is known not to print."""
    texts = {
        "paper_out": translate("messages", "打印机缺纸，暂时不能打印凭条。"),
        "cover_open": translate("messages", "打印机盖未关好，暂时不能打印凭条。"),
    }
    what = texts.get(state, translate("messages", "打印机故障，暂时不能打印凭条。"))
    return _then(what, translate("messages", "仍可取号：号码显示在屏幕上，请拍下或记下。"))


def _then(first: str, second: str) -> str:
    """Two sentences in a row: a space between them after a Latin full stop (English),
    none after a Chinese one."""
    return f"{first} {second}" if first and ord(first[-1]) < 0x2E80 else first + second


def camera_problem(way_out: str) -> str:
    """The camera is out. `way_out` is the text of the scan screen's own button for residents
    without a phone, which differs by screen (直接取号, 呼叫帮办): the message names the one
    that is there."""
    return translate("messages", "摄像头暂时无法使用。请点“{button}”，或联系工作人员。").format(
        button=way_out)


def help_unavailable(hotline: str) -> str:
    return translate(
        "messages", "呼叫没有发送成功。请直接到服务台找工作人员，或拨打 {hotline} 热线。"
    ).format(
        hotline=hotline
    )


def rating_target(kind: str, ident: str) -> str:
    if kind == "ticket":
        return translate("messages", "评价对象：排队号 {id}").format(id=ident)
    if kind == "application":
        return translate("messages", "评价对象：办件 {id}").format(id=ident)
    return ""


def submit_failed() -> str:
    return translate(
        "messages", "提交没有成功，您填写的内容都还在。请稍后再按“确认提交”，或呼叫工作人员帮办。"
    )


def entry_expected(kind: str, min_len: int | None = None, max_len: int | None = None) -> str:
    """What a keypad field takes, as a resident can check it: the number of digits."""
    if kind == "phone":
        return translate("messages", "请输入 11 位手机号码。")
    if kind == "bank_card":
        return translate("messages", "请输入银行卡号（12 至 19 位数字），与卡面上的号码一致。")
    if kind in ("id_number", "other_id_number"):
        return translate("messages", "请输入 18 位身份证号码（末位可能是 X）。")
    if kind == "date":
        return translate("messages", "请输入 8 位数字的日期：年年年年月月日日，如 20240131。")
    if kind != "digits":
        return ""
    if min_len is not None and min_len == max_len:
        return translate("messages", "请输入 {n} 位数字。").format(n=min_len)
    if min_len is not None and max_len is not None:
        return translate("messages", "请输入 {low} 至 {high} 位数字。").format(low=min_len,
                                                                       high=max_len)
    if min_len is not None:
        return translate("messages", "请输入至少 {n} 位数字。").format(n=min_len)
    if max_len is not None:
        return translate("messages", "请输入不超过 {n} 位数字。").format(n=max_len)
    return translate("messages", "请输入数字。")


def typed_problem(problem: FieldProblem, kind: str, typed: str, *,
                  min_len: int | None = None, max_len: int | None = None) -> str:
    """A refused keypad entry, saying what the field expects ("您输入了 10 位。请输入 11 位手机
    号码。"), not only that something is wrong ("位数不对")."""
    count = len("".join(typed.split()))
    expected = entry_expected(kind, min_len, max_len)
    if not expected:
        return field_problem(problem)
    if problem is FieldProblem.EMPTY:
        return expected
    length_wrong = (problem is FieldProblem.WRONG_LENGTH
                    or (problem is FieldProblem.BAD_ID_NUMBER and count != 18)
                    or (problem is FieldProblem.BAD_DATE and count not in (8, 10)))
    if length_wrong:
        return translate("messages", "您输入了 {n} 位。").format(n=count) + expected
    return field_problem(problem)


def field_problem(problem: FieldProblem) -> str:
    texts = {
        FieldProblem.EMPTY: translate("messages", "请填写这一项。"),
        FieldProblem.NOT_DIGITS: translate("messages", "只能输入数字。"),
        FieldProblem.WRONG_LENGTH: translate("messages", "位数不对，请核对后重新输入。"),
        FieldProblem.BAD_CHECKSUM: translate(
            "messages", "银行卡号有误（校验不通过），请核对卡面上的号码。"
        ),
        FieldProblem.BAD_DATE: translate(
            "messages", "日期格式不对，请按 年年年年月月日日 输入，如 20240131。"
        ),
        FieldProblem.FUTURE_DATE: translate("messages", "日期不能晚于今天。"),
        FieldProblem.PAST_DATE: translate("messages", "日期不能早于今天。"),
        FieldProblem.BAD_ID_NUMBER: translate("messages", "身份证号码有误，请核对后重新输入。"),
        FieldProblem.BAD_PHONE: translate("messages", "手机号码有误，请输入 11 位手机号码。"),
    }
    return texts[problem]


def date_text(day: dt.date, today: dt.date | None = None) -> str:
    """A day as a resident reads it in a message; `today` itself as 今天."""
    if day == today:
        return translate("messages", "今天")
    return translate("messages", "{y}年{m}月{d}日").format(y=day.year, m=day.month, d=day.day)


def date_expected(low: dt.date | None, high: dt.date | None, today: dt.date) -> str:
    """Above the keypad of a date field with bounds (min_date / max_date): which days it
    takes, before anything is typed; "" when it takes any."""
    if low is not None and high is not None:
        return translate("messages", "请输入 {low} 至 {high} 之间的日期。").format(
            low=date_text(low, today), high=date_text(high, today))
    if low is not None:
        return translate("messages", "请输入 {low} 或以后的日期。").format(
            low=date_text(low, today))
    if high is not None:
        return translate("messages", "请输入 {high} 或以前的日期。").format(
            high=date_text(high, today))
    return ""


def date_out_of_range(problem: FieldProblem, low: dt.date | None, high: dt.date | None,
                      today: dt.date) -> str:
    """A typed day outside a date field's bounds (DATE_TOO_EARLY / DATE_TOO_LATE)."""
    if problem is FieldProblem.DATE_TOO_EARLY and low is not None:
        return translate("messages", "日期不能早于 {low}，请核对后重新输入。").format(
            low=date_text(low, today))
    if high is not None:
        return translate("messages", "日期不能晚于 {high}，请核对后重新输入。").format(
            high=date_text(high, today))
    return date_expected(low, high, today)


def other_id_expected(person: str) -> str:
    """Above the keypad of another person's ID number (the deceased's, a child's)."""
    return translate("messages", "请输入{person}的身份证号码（18 位，末位可能是 X）。").format(
        person=person)


def same_as_applicant(person: str) -> str:
    """The applicant typed their own ID number where another person's belongs."""
    return translate(
        "messages", "这是您本人的身份证号码。这里请输入{person}的身份证号码。"
    ).format(person=person)


def person_licenses_found(person: str) -> str:
    """Heading of the materials another person's electronic licenses exempt."""
    return translate("messages", "✓ 免于提交（已调取{person}的电子证照）").format(person=person)


def person_licenses_pending(person: str) -> str:
    return translate("messages", "正在调取{person}的电子证照…").format(person=person)


def no_applications() -> str:
    return translate("messages", "没有查到办件记录。如已在窗口办理，请联系工作人员查询。")


def already_checked_in() -> str:
    return translate("messages", "这个预约已经签到过了，请留意叫号。如未取到号，请联系工作人员。")


def check_in_unreachable(hotline: str) -> str:
    # The check-in may have been recorded with its reply lost: "再试一次" asks again under the
    # same key, which returns that ticket rather than a second one.
    return translate(
        "messages",
        "暂时无法连接排队系统，签到还没有完成。您的预约仍然有效，再试不会重复取号："
        "请点“再试一次”。如仍不行，请到服务台请工作人员帮您签到，或拨打 {hotline}。"
    ).format(hotline=hotline)


def check_in_refused(hotline: str) -> str:
    return translate(
        "messages",
        "这个预约暂时无法在本机签到。请到服务台请工作人员帮您，或拨打 {hotline}。"
    ).format(hotline=hotline)


def checked_in_earlier(number: str, category: str, at: str) -> str:
    return translate(
        "messages",
        "这个预约已经签到过了（{at}），您的号码是 {number}（{category}），请留意叫号。"
        "凭条不在手边，可以点“重新打印凭条”。"
    ).format(number=number, category=category, at=at)


def appointment_explanation(context: object) -> str:
    from kiosk.domain.queue import AppointmentFit

    appt = getattr(context, "appointment", None)
    fit = getattr(context, "appointment_fit", AppointmentFit.NONE)
    if appt is None or fit is AppointmentFit.NONE:
        return translate(
            "messages", "没有查到您今天的预约。您可以先取普通号，也可以在“随申办”App 上预约。"
        )
    slot = f"{appt.start:%H:%M}–{appt.end:%H:%M}"
    if fit is AppointmentFit.TOO_EARLY:
        return translate(
        "messages",
            "您预约的时段是今天 {slot}，现在还早，预约号请在时段开始前 30 分钟内签到。"
            "您也可以现在取普通号。"
        ).format(slot=slot)
    return translate(
        "messages",
        "您预约的时段是今天 {slot}，已超过签到时间（时段结束后 15 分钟内）。"
        "预约已失效，您可以取普通号办理。"
    ).format(slot=slot)


def ticket_unavailable(hotline: str) -> str:
    return translate(
        "messages",
        "暂时无法连接排队系统，这次没有取到号（不会重复取号）。请稍后再点一次，"
        "或到服务台请工作人员帮您取号；也可拨打 {hotline}。"
    ).format(hotline=hotline)


def ticket_resolving() -> str:
    return translate(
        "messages",
        "排队系统响应较慢，正在确认您是否已取到号，请稍候，不要离开…"
    )


def ticket_unconfirmed(hotline: str) -> str:
    return translate(
        "messages",
        "排队系统没有回应，这次没有取到号。如果系统已经分配了号码，该号码会作废，不会被叫到。"
        "请稍后再点一次，或到服务台请工作人员帮您取号；也可拨打 {hotline}。"
    ).format(hotline=hotline)


def anonymous_limit(seconds: int) -> str:
    return translate(
        "messages",
        "刚才不用手机取号的人较多，请稍候再取号：约 {seconds} 秒后可以再取。"
        "着急的话，请到服务台请工作人员帮您取号。"
    ).format(seconds=seconds)


def application_stored() -> str:
    return translate(
        "messages",
        "系统暂时无法连接。您的申请已暂存在本机，网络恢复后会自动提交，不会丢失也不会重复。"
        "提交成功后，办件编号将以短信发送到您填写的手机号码；也可凭随申码在“办件查询”中查看。"
    )


def rating_stored() -> str:
    return translate("messages", "感谢您的评价！系统暂时无法连接，评价已保存，稍后自动提交。")


def ticket_code_caption(link: bool) -> str:
    """Under a ticket's QR code on screen, as on its paper (kiosk/domain/ticket.py): a
    hall's link opens a page on the resident's phone; the embedded backend's signed code is
    read only by this kiosk's 办件查询, so no phone page is promised."""
    if link:
        return translate("messages", "用手机扫码查看排队进度")
    return translate("messages", "请在本机「办件查询」扫描此码查看进度")


def receipt_code_caption(link: bool) -> str:
    """Under a receipt's QR code on screen, as on its paper (kiosk/domain/receipt.py)."""
    if link:
        return translate("messages", "用手机扫码查看办理进度")
    return translate("messages", "请在本机「办件查询」扫描此码查看办理进度")


def hall_link_here() -> str:
    """A hall's phone link scanned at a kiosk with no hall (the embedded backend)."""
    return translate(
        "messages",
        "这是手机查询码，属于大厅排队系统，本机查不到。请用手机相机扫码打开查看，"
        "或联系工作人员。"
    )


def query_code_unknown() -> str:
    """A web address in 办件查询 that is no link of the hall (another site's code)."""
    return translate(
        "messages",
        "本机查不了这个二维码。请扫描排队凭条或办件回执上的二维码，或出示随申码。"
    )


def ticket_not_found() -> str:
    return translate(
        "messages", "没有找到这个号。请核对凭条上的二维码，或联系工作人员。"
    )


def application_not_found() -> str:
    return translate(
        "messages", "没有找到这个办件。请核对回执上的二维码，或联系工作人员。"
    )


def ticket_code_expired() -> str:
    """A ticket's signed code of an earlier day: the queue it was in has ended."""
    return translate(
        "messages", "这张排队凭条不是今天的，已经失效。需要办理的话，请重新取号。"
    )


def id_card_refusal(card: IdCard, today: dt.date) -> str:
    """Why a resident ID card that read well is refused today: not in force; "" if it is."""
    validity, valid_until = card.validity(today), card.valid_until
    if validity is CardValidity.EXPIRED and valid_until is not None:
        until = translate("messages", "{y}年{m}月{d}日").format(
            y=valid_until.year, m=valid_until.month, d=valid_until.day)
        until = "\u2060".join(until)  # word joiners: a date is never cut across two lines
        return translate(
            "messages",
            "这张身份证已不在有效期内（有效期至 {until}），不能用来确认身份。"
            "请出示随申码，或联系工作人员。"
        ).format(until=until)
    if validity is CardValidity.NOT_YET_VALID:
        return translate(
            "messages",
            "这张身份证还未到有效期开始的日期，不能用来确认身份。请联系工作人员。"
        )
    return ""


def id_card_unreadable() -> str:
    return translate(
        "messages",
        "没有读到身份证信息，请重新放置身份证：拿起后重新平放在读卡区，读取时不要移动。"
    )
