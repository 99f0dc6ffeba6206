"""Sizes, colours and the style sheet for a standing, possibly elderly resident.

Figures: touch targets at least 15 mm (>= 80 px on a 1080p panel; we use 100+), body text
at least 28 px, contrast above 7:1 for text on its background.

长辈模式 (elder mode, the MIIT 2021 适老化 rules): every type size 1.5 times the normal one,
larger targets, black on white with darker accents (every pair >= 7:1, most far above), and
thicker borders. The window applies one theme's style sheet to everything at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

FONT_FAMILY = "Noto Sans CJK SC"

# Colours: deep government blue on white; every text/background pair is >= 7:1.
BLUE = "#0a3d91"
BLUE_DARK = "#06285e"
INK = "#111827"
MUTED = "#374151"
PAPER = "#ffffff"
BACKGROUND = "#eef2f8"
RED = "#8b1a1a"  # 7.9:1 on the error panel's pink (#9b1c1c was 6.9:1)
GREEN = "#14532d"
AMBER_BG = "#fff4d6"

#: Elder mode scales every type size by this (MIIT: "at least 1.5 times").
ELDER_SCALE = 1.5


@dataclass(frozen=True)
class Colours:
    blue: str
    blue_dark: str
    ink: str
    muted: str
    paper: str
    background: str
    red: str
    red_bg: str
    green: str
    amber_bg: str
    amber_border: str
    card_border: str
    pressed: str
    disabled_fg: str
    disabled_bg: str
    disabled_border: str


NORMAL_COLOURS = Colours(
    blue=BLUE, blue_dark=BLUE_DARK, ink=INK, muted=MUTED, paper=PAPER, background=BACKGROUND,
    red=RED, red_bg="#fde8e8", green=GREEN, amber_bg=AMBER_BG, amber_border="#8a6d00",
    card_border="#c7d2e3", pressed="#d6e2f5",
    # Disabled controls are exempt from contrast rules (WCAG 1.4.3) but stay readable.
    disabled_fg="#374151", disabled_bg="#e5e7eb", disabled_border="#6b7280",
)

# Elder mode: pure black text on white, a darker red and blue, no grey text anywhere (the
# "muted" grey is near-black), borders that read as edges to weaker eyes.
ELDER_COLOURS = Colours(
    blue="#062a6b", blue_dark="#031a45", ink="#000000", muted="#1f2937", paper="#ffffff",
    background="#ffffff", red="#7a1010", red_bg="#fff0f0", green="#0b3d1f",
    amber_bg="#fff4d6", amber_border="#5c4600", card_border="#062a6b", pressed="#cfdcf2",
    disabled_fg="#1f2937", disabled_bg="#e5e7eb", disabled_border="#374151",
)


@dataclass(frozen=True)
class Theme:
    width: int
    height: int
    body_px: int = 30
    title_px: int = 48
    button_px: int = 40
    min_target_px: int = 100
    nav_px: int = 84  # Back/Home in the top bar: still above the 80 px floor
    elder: bool = False

    @classmethod
    def for_mode(cls, width: int, height: int, elder: bool = False) -> Theme:
        theme = cls(width, height)
        return theme.with_elder(True) if elder else theme

    def with_elder(self, elder: bool) -> Theme:
        """The same panel in elder mode (every type size x1.5, larger targets) or normal."""
        if elder == self.elder:
            return self
        if not elder:
            return Theme(self.width, self.height)
        s = ELDER_SCALE
        return dataclasses.replace(
            self, body_px=round(self.body_px * s), title_px=round(self.title_px * s),
            button_px=round(self.button_px * s), min_target_px=round(self.min_target_px * 1.3),
            nav_px=self.nav_px + 8, elder=True)

    @property
    def scale(self) -> float:
        """Type scale against the normal theme: what a hard-coded text size is multiplied by."""
        return ELDER_SCALE if self.elder else 1.0

    @property
    def small_px(self) -> int:
        """The smallest text anywhere (captions, table keys): 28 px, 42 px in elder mode."""
        return max(round(28 * self.scale), int(self.body_px * 0.93))

    @property
    def colours(self) -> Colours:
        return ELDER_COLOURS if self.elder else NORMAL_COLOURS

    @property
    def border_px(self) -> int:
        return 4 if self.elder else 3

    @property
    def topbar_px(self) -> int:
        return self.nav_px + 2 * 4 + 2 * self.border_px + 2 * 12  # padding, border, margins

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    def px(self, value: float) -> int:
        """A normal-mode size in px, scaled for this theme."""
        return round(value * self.scale)

    def style_sheet(self) -> str:
        b = self.body_px
        c = self.colours

        def sz(factor: float) -> int:
            # Rounded half up: elder sizes stay >= 1.5 x the normal ones (45 x 1.7 = 76.5).
            return int(b * factor + 0.5)

        bw = self.border_px
        nav_w = 200 if self.elder else 160  # three of them and Back fit a portrait bar
        return f"""
QWidget {{ font-family: "{FONT_FAMILY}"; font-size: {b}px; color: {c.ink}; }}
QMainWindow, #screen {{ background: {c.background}; }}
#topbar {{ background: {c.blue}; }}
#topbar QLabel {{ color: #ffffff; font-size: {b}px; }}
#topbarTitle {{ color: #ffffff; font-size: {sz(1.2)}px; font-weight: bold; }}
QPushButton {{
  min-height: {self.min_target_px}px; min-width: {self.min_target_px}px;
  padding: 8px 24px; border-radius: 16px;
  font-size: {self.button_px}px; font-weight: bold;
  background: {c.paper}; color: {c.blue_dark}; border: {bw}px solid {c.blue};
}}
QPushButton:pressed {{ background: {c.pressed}; }}
QPushButton:disabled {{
  color: {c.disabled_fg}; border-color: {c.disabled_border}; background: {c.disabled_bg};
}}
QPushButton#primary {{ background: {c.blue}; color: #ffffff; border: {bw}px solid {c.blue_dark}; }}
QPushButton#primary:pressed {{ background: {c.blue_dark}; }}
QPushButton#primary:disabled, QPushButton#tile:disabled, QPushButton#tilePrimary:disabled {{
  color: {c.disabled_fg}; border-color: {c.disabled_border}; background: {c.disabled_bg};
}}
QPushButton#nav {{
  background: transparent; color: #ffffff; border: {bw}px solid #ffffff;
  font-size: {b}px; min-width: {nav_w}px; min-height: {self.nav_px}px; padding: 4px 24px;
}}
QPushButton#navHelp {{
  background: #ffffff; color: {c.blue_dark}; border: {bw}px solid #ffffff;
  font-size: {b}px; min-width: {nav_w}px; min-height: {self.nav_px}px; padding: 4px 24px;
}}
QPushButton#key {{
  font-size: {sz(1.4)}px; border-radius: 12px; min-width: {self.px(120)}px;
  min-height: {self.px(84)}px; padding: 4px 8px;
}}
QPushButton:checked {{ background: {c.blue}; color: #ffffff; border-color: {c.blue_dark}; }}
QLabel#stepCount {{ font-size: {b}px; color: {c.muted}; }}
QLabel#entry {{
  font-size: {sz(1.6)}px; font-family: "Noto Sans Mono CJK SC", monospace;
  background: #ffffff; border: {bw}px solid {c.blue}; border-radius: 12px; padding: 12px 20px;
  min-height: {self.px(60)}px;
}}
QPushButton#tile {{
  text-align: center; font-size: {sz(1.5)}px; border-radius: 24px;
  background: {c.paper}; color: {c.blue_dark}; border: {bw + 1}px solid {c.blue};
}}
QPushButton#tile:checked {{ background: {c.blue}; color: #ffffff; border-color: {c.blue_dark}; }}
QPushButton#tilePrimary {{
  font-size: {sz(1.7)}px; border-radius: 24px;
  background: {c.blue}; color: #ffffff; border: {bw + 1}px solid {c.blue_dark};
}}
QPushButton#tile[closed="true"], QPushButton#tilePrimary[closed="true"] {{
  background: {c.disabled_bg}; color: {c.disabled_fg}; border-color: {c.disabled_border};
}}
QLabel#title {{ font-size: {self.title_px}px; font-weight: bold; color: {c.blue_dark}; }}
QLabel#subtitle {{ font-size: {sz(1.1)}px; color: {c.muted}; }}
QLabel#error {{
  font-size: {b}px; color: {c.red}; background: {c.red_bg}; border: {bw}px solid {c.red};
  border-radius: 12px; padding: 16px;
}}
QLabel#notice {{
  font-size: {b}px; color: {c.ink}; background: {c.amber_bg};
  border: {bw}px solid {c.amber_border}; border-radius: 12px; padding: 16px;
}}
QLabel#ok {{ font-size: {b}px; color: {c.green}; font-weight: bold; }}
QFrame#card {{
  background: {c.paper}; border-radius: 24px; border: {bw - 1}px solid {c.card_border};
}}
QLabel#bigNumber {{ font-size: {sz(4)}px; font-weight: bold; color: {c.blue_dark}; }}
QLabel#writeDown {{
  font-size: {sz(1.15 if self.elder else 1.8)}px; font-weight: bold; color: {c.ink};
  background: {c.amber_bg};
  border: {bw}px solid {c.amber_border}; border-radius: 12px; padding: 16px;
}}
QLabel#priority {{ font-size: {sz(1.1)}px; font-weight: bold; color: {c.red}; }}
QLabel#stateLine {{ font-size: {sz(1.8)}px; font-weight: bold; color: {c.ink}; }}
QLabel#stateDetail {{ font-size: {sz(1.3)}px; color: {c.ink}; }}
QLabel#small {{ font-size: {self.small_px}px; color: {c.muted}; }}
#overlay {{ background: rgba(6, 40, 94, 215); }}
#overlay QLabel {{ color: #ffffff; font-size: {sz(1.4)}px; }}
#overlayCount {{ color: #ffffff; font-size: {sz(4)}px; font-weight: bold; }}
"""
