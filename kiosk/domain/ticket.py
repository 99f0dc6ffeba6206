"""The queue ticket as the resident sees it, and its paper layout.

The same `TicketView` feeds the on-screen ticket and the printed one, so a printer fault
never loses what the resident was given. It holds only masked personal data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.domain.hall_links import is_web_address
from kiosk.domain.printdoc import Align, Cut, Feed, KeyValue, PrintDocument, Qr, Rule, Text

PRIORITY_LABELS = {
    "zh": {"age": "优先 · 80岁以上", "entitlement": "优先 · 优抚/特殊群体",
           "appointment": "优先 · 预约"},
    # ASCII only: an English ticket never switches the printer into Chinese mode.
    "en": {"age": "Priority - aged 80+", "entitlement": "Priority - entitled group",
           "appointment": "Priority - appointment"},
}


@dataclass(frozen=True)
class TicketView:
    center_name: str
    number: str
    category_title: str
    priority_reason: str  # "" for an ordinary ticket
    ahead: int
    estimated_wait_min: int
    issued_at: dt.datetime
    masked_name: str  # "" for an anonymous ticket
    # A hall's public link (<public_url>/t/<id>, a phone opens it), or the embedded backend's
    # signed code (only this kiosk's 办件查询 reads it); "" for a ticket issued offline: the
    # hall makes one when it has the ticket.
    tracking_code: str
    language: str = "zh"
    # Issued by the kiosk from its leased block while the hall was out of reach: nobody
    # knows how many are ahead (other kiosks, priority tickets), so neither is promised.
    offline: bool = False

    @property
    def priority_label(self) -> str:
        return PRIORITY_LABELS.get(self.language, PRIORITY_LABELS["zh"]).get(
            self.priority_reason, ""
        )


_TEXT = {
    "zh": {
        "title": "排队取号凭条",
        "category": "办理业务",
        "ahead": "前面等候",
        "ahead_v": "{n} 人",
        "wait": "预计等待",
        "wait_v": "约 {n} 分钟",
        "time": "取号时间",
        "name": "取号人",
        # Under the QR code: a phone page (a hall's link), or this kiosk's 办件查询 (a signed
        # code: no phone page exists, so none is promised). The same words as on screen
        # (kiosk/ui/messages.py, ticket_code_caption).
        "scan_phone": "用手机扫码查看排队进度",
        "scan_here": "请在本机「办件查询」扫描此码查看进度",
        "foot": "请留意叫号屏幕，过号请重新取号",
        "offline": "离线取号 · 等候人数和时间未知",
        "unknown": "未知",
    },
    "en": {
        "title": "Queue Ticket",
        "category": "Service",
        "ahead": "Waiting ahead",
        "ahead_v": "{n}",
        "wait": "Estimated wait",
        "wait_v": "about {n} min",
        "time": "Issued at",
        "name": "Name",
        "scan_phone": "Scan with your phone to follow the queue",
        "scan_here": 'Scan this code at "Check progress" on this kiosk',
        "foot": "Watch the calling screen; a missed number needs a new ticket",
        "offline": "Issued offline: people ahead and wait unknown",
        "unknown": "unknown",
    },
}


def ticket_document(t: TicketView) -> PrintDocument:
    s = _TEXT.get(t.language, _TEXT["zh"])
    doc = PrintDocument(kind="ticket", language=t.language)
    doc.add(
        Text(t.center_name, Align.CENTER, bold=True),
        Text(s["title"], Align.CENTER),
        Rule(),
        Text(t.number, Align.CENTER, bold=True, width=4, height=4),
    )
    if t.priority_reason:
        doc.add(Text(t.priority_label, Align.CENTER, bold=True, width=1, height=2))
    if t.offline:
        doc.add(Text(s["offline"], Align.CENTER, bold=True))
    doc.add(
        Rule(),
        KeyValue(s["category"], t.category_title, bold=True),
        KeyValue(s["ahead"], s["unknown"] if t.offline else s["ahead_v"].format(n=t.ahead)),
        KeyValue(s["wait"], s["unknown"] if t.offline
                 else s["wait_v"].format(n=t.estimated_wait_min)),
        KeyValue(s["time"], t.issued_at.strftime("%Y-%m-%d %H:%M")),
    )
    if t.masked_name:
        doc.add(KeyValue(s["name"], t.masked_name))
    if t.tracking_code:
        doc.add(
            Feed(1),
            Qr(t.tracking_code, module_size=5, ec_level="M"),
            Text(s["scan_phone" if is_web_address(t.tracking_code) else "scan_here"],
                 Align.CENTER),
        )
    doc.add(
        Rule(),
        Text(s["foot"], Align.CENTER),
        Cut(),
    )
    return doc
