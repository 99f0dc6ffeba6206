"""Sizes, colours and the style sheet for a standing, possibly elderly resident.

Figures: touch targets at least 15 mm (>= 80 px on a 1080p panel; we use 100+), body text
at least 28 px, contrast above 7:1 for text on its background.
"""

from __future__ import annotations

from dataclasses import dataclass

FONT_FAMILY = "Noto Sans CJK SC"

# Colours: deep government blue on white; every text/background pair is >= 7:1.
BLUE = "#0a3d91"
BLUE_DARK = "#06285e"
INK = "#111827"
MUTED = "#374151"
PAPER = "#ffffff"
BACKGROUND = "#eef2f8"
RED = "#9b1c1c"
GREEN = "#14532d"
AMBER_BG = "#fff4d6"


@dataclass(frozen=True)
class Theme:
    width: int
    height: int
    body_px: int = 30
    title_px: int = 48
    button_px: int = 40
    min_target_px: int = 100
    nav_px: int = 84  # Back/Home in the top bar: still above the 80 px floor

    @property
    def topbar_px(self) -> int:
        return self.nav_px + 2 * 4 + 2 * 3 + 2 * 12  # padding, border, bar margins

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    def style_sheet(self) -> str:
        b = self.body_px
        return f"""
QWidget {{ font-family: "{FONT_FAMILY}"; font-size: {b}px; color: {INK}; }}
QMainWindow, #screen {{ background: {BACKGROUND}; }}
#topbar {{ background: {BLUE}; }}
#topbar QLabel {{ color: #ffffff; font-size: {b}px; }}
#topbarTitle {{ color: #ffffff; font-size: {int(b * 1.2)}px; font-weight: bold; }}
QPushButton {{
  min-height: {self.min_target_px}px; min-width: {self.min_target_px}px;
  padding: 8px 24px; border-radius: 16px;
  font-size: {self.button_px}px; font-weight: bold;
  background: {PAPER}; color: {BLUE_DARK}; border: 3px solid {BLUE};
}}
QPushButton:pressed {{ background: #d6e2f5; }}
QPushButton:disabled {{ color: #4b5563; border-color: #6b7280; background: #e5e7eb; }}
QPushButton#primary {{ background: {BLUE}; color: #ffffff; border: 3px solid {BLUE_DARK}; }}
QPushButton#primary:pressed {{ background: {BLUE_DARK}; }}
QPushButton#nav {{
  background: transparent; color: #ffffff; border: 3px solid #ffffff;
  font-size: {b}px; min-width: 160px; min-height: {self.nav_px}px; padding: 4px 24px;
}}
QPushButton#navHelp {{
  background: #ffffff; color: {BLUE_DARK}; border: 3px solid #ffffff;
  font-size: {b}px; min-width: 160px; min-height: {self.nav_px}px; padding: 4px 24px;
}}
QPushButton#key {{
  font-size: {int(b * 1.4)}px; border-radius: 12px; min-width: 120px; min-height: 84px;
  padding: 4px 8px;
}}
QPushButton:checked {{ background: {BLUE}; color: #ffffff; border-color: {BLUE_DARK}; }}
QLabel#stepCount {{ font-size: {b}px; color: {MUTED}; }}
QLabel#entry {{
  font-size: {int(b * 1.6)}px; font-family: "Noto Sans Mono CJK SC", monospace;
  background: #ffffff; border: 3px solid {BLUE}; border-radius: 12px; padding: 12px 20px;
  min-height: 60px;
}}
QPushButton#tile {{
  text-align: center; font-size: {int(b * 1.5)}px; border-radius: 24px;
  background: {PAPER}; color: {BLUE_DARK}; border: 4px solid {BLUE};
}}
QPushButton#tilePrimary {{
  font-size: {int(b * 1.7)}px; border-radius: 24px;
  background: {BLUE}; color: #ffffff; border: 4px solid {BLUE_DARK};
}}
QLabel#title {{ font-size: {self.title_px}px; font-weight: bold; color: {BLUE_DARK}; }}
QLabel#subtitle {{ font-size: {int(b * 1.1)}px; color: {MUTED}; }}
QLabel#error {{
  font-size: {b}px; color: {RED}; background: #fde8e8; border: 3px solid {RED};
  border-radius: 12px; padding: 16px;
}}
QLabel#notice {{
  font-size: {b}px; color: {INK}; background: {AMBER_BG}; border: 3px solid #8a6d00;
  border-radius: 12px; padding: 16px;
}}
QLabel#ok {{ font-size: {b}px; color: {GREEN}; font-weight: bold; }}
QFrame#card {{ background: {PAPER}; border-radius: 24px; border: 2px solid #c7d2e3; }}
QLabel#bigNumber {{ font-size: {int(b * 4)}px; font-weight: bold; color: {BLUE_DARK}; }}
QLabel#priority {{ font-size: {int(b * 1.1)}px; font-weight: bold; color: {RED}; }}
QLabel#small {{ font-size: {max(28, int(b * 0.93))}px; color: {MUTED}; }}
#overlay {{ background: rgba(6, 40, 94, 215); }}
#overlay QLabel {{ color: #ffffff; font-size: {int(b * 1.4)}px; }}
#overlayCount {{ color: #ffffff; font-size: {int(b * 4)}px; font-weight: bold; }}
"""
