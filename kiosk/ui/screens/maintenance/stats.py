"""今日统计: today's usage figures as a short report, in the theme's colours."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPushButton, QScrollArea, QWidget

from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.maintenance.parts import breakable, scrolling
from kiosk.ui.screens.maintenance.section import Section
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.label import label


class StatsSection(Section):
    """Today's figures by kind (tickets, applications, ratings, ...), zero counts left out."""

    key = "stats"

    statsChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.body = label()
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.body)
        scrolling(scroll.viewport())
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.statsChosen)
        self.layout_.addWidget(scroll, 1)
        self.add_buttons(self.refresh_button)

    def title(self) -> str:
        return self.tr("今日统计")

    def retranslate(self) -> None:
        super().retranslate()
        self.refresh_button.setText(self.tr("刷新统计"))

    def set_stats(self, day: str, rows: Sequence[Mapping[str, object]],
                  names: Mapping[str, str]) -> None:
        """`rows` as `kiosk.backend.stats.export_stats` gives them; `names` turns category
        and bundle ids into titles."""
        self.heading.setText(self.tr("今日统计（{day}）").format(day=day))
        self.body.setText(self.report_html(rows, names))

    def show_problem(self, text: str) -> None:
        self.body.setText(breakable(text))

    def report_html(self, rows: Sequence[Mapping[str, object]],
                    names: Mapping[str, str]) -> str:
        sections = {
            "tickets": self.tr("取号"),
            "applications": self.tr("一件事申请"),
            "bundles": self.tr("一件事办理"),
            "flows": self.tr("其他服务"),
            "ratings": self.tr("好差评"),
            "rating_reasons": self.tr("评价原因"),
            "help_calls": self.tr("呼叫帮办"),
            "faults": self.tr("故障"),
            "flow_median_s": self.tr("办理用时（中位数）"),
        }
        words = {
            "ordinary": self.tr("普通"),
            "submitted": self.tr("已提交"),
            "started": self.tr("开始"),
            "finished": self.tr("完成"),
            "abandoned": self.tr("中途放弃"),
            "total": self.tr("合计"),
            "count": self.tr("评价次数"),
            "mean": self.tr("平均分"),
            "take_number": self.tr("取号"),
            "query": self.tr("办件查询"),
            "check_in": self.tr("预约签到"),
            "rate": self.tr("好差评"),
            "help": self.tr("呼叫帮办"),
            "printer": self.tr("打印机"),
            "screen": self.tr("页面"),
            # Screens, where a flow was abandoned or help was called.
            ScreenName.HOME: self.tr("首页"),
            ScreenName.SERVICES: self.tr("更多服务页"),
            ScreenName.SCAN: self.tr("扫码页"),
            ScreenName.CATEGORY: self.tr("选择业务页"),
            ScreenName.TICKET: self.tr("取号凭条页"),
            ScreenName.BUNDLES: self.tr("一件事列表"),
            ScreenName.WIZARD: self.tr("一件事办理步骤"),
            ScreenName.BUNDLE_RESULT: self.tr("一件事回执页"),
            ScreenName.QUERY_SCAN: self.tr("办件查询扫码页"),
            ScreenName.QUERY_RESULT: self.tr("办件查询结果页"),
            ScreenName.CHECKIN_SCAN: self.tr("预约签到扫码页"),
            ScreenName.CHECKIN_RESULT: self.tr("预约签到结果页"),
            ScreenName.RATING: self.tr("评价页"),
            "unknown": self.tr("未知"),
        }
        # The steps of a 一件事, where a resident gave up: as the resident saw them.
        steps = {
            "intro": self.tr("事项介绍"),
            "identify": self.tr("确认身份"),
            "materials": self.tr("材料清单"),
            "review": self.tr("核对信息"),
            "confirm": self.tr("确认提交"),
            "ineligible": self.tr("不符合条件"),
        }

        def step_title(step: str, bundle_id: str) -> str:
            # `names` holds "<bundle id>/<step>" for the bundle's questions and fields.
            kind, _, ref = step.partition(":")
            own = names.get(f"{bundle_id}/{step}")
            if kind == "question":
                return self.tr("问题“{text}”").format(text=own or ref)
            if kind == "field":
                return self.tr("填写“{text}”").format(text=own or ref)
            return steps.get(step) or words.get(step) or step

        def word(text: str, owner: str = "") -> str:
            if text.startswith("priority:"):
                return self.tr("优先（{why}）").format(why=text.removeprefix("priority:"))
            if text.startswith("abandoned_at:"):
                step = text.removeprefix("abandoned_at:")
                return self.tr("放弃于 {step}").format(step=step_title(step, owner))
            return names.get(text) or words.get(text) or text

        grouped: dict[str, list[tuple[str, str]]] = {key: [] for key in sections}
        for row in rows:
            section, key, sub, value = (str(row["section"]), str(row["key"]),
                                        str(row["subkey"]), row["value"])
            if section not in grouped:
                continue
            # Zero counts are noise on a quiet night; totals and means always show.
            if value == 0 and key not in ("total", "count"):
                continue
            what = word(key) + (f" · {word(sub, key)}" if sub else "")
            seconds = section == "flow_median_s"
            shown = self.tr("{n} 秒").format(n=value) if seconds else str(value)
            grouped[section].append((what, shown))
        heading_colour = self.theme.colours.blue_dark
        parts: list[str] = []
        nothing = html.escape(self.tr("无"))  # not inside the f-string: lupdate skips those
        for section, title in sections.items():
            parts.append(f'<p style="font-weight:bold; color:{heading_colour}; '
                         f'margin-top:12px">{html.escape(title)}</p>')
            items = grouped[section]
            if not items:
                parts.append(f'<p style="margin-left:24px">{nothing}</p>')
                continue
            parts.append('<table cellspacing="0" cellpadding="4" style="margin-left:24px">')
            for what, shown in items:
                parts.append(f"<tr><td>{html.escape(what)}</td>"
                             f'<td align="right" style="padding-left:48px">'
                             f"{html.escape(shown)}</td></tr>")
            parts.append("</table>")
        return "".join(parts)
