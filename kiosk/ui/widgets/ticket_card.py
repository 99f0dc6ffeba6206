"""TicketCard: the ticket as shown on screen, everything that is printed, QR code included."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from kiosk.domain.ticket import TicketView
from kiosk.ui.widgets.label import label
from kiosk.ui.widgets.qr import qr_pixmap


class TicketCard(QFrame):
    """The ticket as shown on screen: everything that is printed, QR code included."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 24, 40, 24)
        layout.setSpacing(8)
        self.center = label(name="subtitle", center=True)
        self.number = label(name="bigNumber", center=True, wrap=False)
        self.priority = label(name="priority", center=True)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        # Set, not inherited: side by side the body's wider spacing would space the rows.
        grid.setVerticalSpacing(8)
        self.grid = grid
        self._rows: list[tuple[QLabel, QLabel]] = []
        for i in range(5):
            k, v = label(name="small"), label()
            v.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(k, i, 0)
            grid.addWidget(v, i, 1)
            self._rows.append((k, v))
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr_caption = label(name="small", center=True)
        for w in (self.center, self.number, self.priority):
            layout.addWidget(w)
        # Rows above the QR code; side by side in elder mode, where the larger type would
        # otherwise push the code off a landscape panel.
        self.body = QVBoxLayout()
        self.body.setSpacing(8)
        self.body.addLayout(grid, 1)
        qr_box = QVBoxLayout()
        qr_box.addWidget(self.qr)
        qr_box.addWidget(self.qr_caption)
        self.body.addLayout(qr_box)
        layout.addLayout(self.body)
        # Takes the room a missing QR code leaves (a ticket issued offline), so the rows
        # keep their spacing instead of spreading over the card.
        layout.addStretch(0)
        self._layout = layout

    def set_side_by_side(self, side_by_side: bool) -> None:
        self.body.setDirection(QVBoxLayout.Direction.LeftToRight if side_by_side
                               else QVBoxLayout.Direction.TopToBottom)

    def show_ticket(self, t: TicketView, rows: list[tuple[str, str]], qr_caption: str,
                    offline_mark: str = "") -> None:
        """`offline_mark`: the line under the number of a ticket issued offline, as its
        paper has it (such a ticket is never a priority one)."""
        self.center.setText(t.center_name)
        self.number.setText(t.number)
        self.priority.setText(offline_mark if t.offline else t.priority_label)
        self.priority.setVisible(bool(t.priority_reason) or t.offline)
        for i, (k, v) in enumerate(self._rows):
            if i < len(rows):
                k.setText(rows[i][0])
                v.setText(rows[i][1])
                k.show()
                v.show()
            else:
                k.clear()
                v.clear()
                k.hide()
                v.hide()
        if t.tracking_code:
            self.qr.setPixmap(qr_pixmap(t.tracking_code, 230))
            self.qr_caption.setText(qr_caption)
        else:  # issued offline: the hall makes its code when it receives the ticket
            self.qr.clear()
            self.qr_caption.clear()
        self.qr.setVisible(bool(t.tracking_code))
        self.qr_caption.setVisible(bool(t.tracking_code))
        self.body.setStretch(0, 1 if t.tracking_code else 0)
        self._layout.setStretch(self._layout.count() - 1, 0 if t.tracking_code else 1)

    def clear(self) -> None:
        for w in (self.center, self.number, self.priority, self.qr_caption):
            w.clear()
        for k, v in self._rows:
            k.clear()
            v.clear()
        self.qr.clear()
