"""Where a line of Chinese (or mixed) text may not break: the punctuation a line must not
start with, and the opening brackets and quotes it must not end with (禁则).

Shared by the two places that wrap text themselves, the screen's wrapping buttons and the
printer's ticket layout, so a receipt and the screen break a sentence by the same rules.
Pure data: imports nothing.
"""

from __future__ import annotations

#: A line must not start with these: the character before moves down with them.
NO_LINE_START = frozenset("，。、；：！？）」』》〉】〕”’…%,.;:!?)]}")

#: A line must not end with these: they move down with the character after them.
NO_LINE_END = frozenset("（「『《〈【〔“‘([{")
