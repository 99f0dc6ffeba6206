"""Text in two languages, for words that come from data rather than from the code.

The kiosk holds its two languages in exactly two ways, each for its own kind of text:

* text written in the code (buttons, headings, messages) is Chinese passed through Qt's
  translation system (`self.tr("中文")`, kiosk/ui/i18n.py), with the English in
  assets/translations/;
* text that comes from data (the catalog and bundle files staff edit, and the fixed
  vocabularies the backend stores by id: application statuses, rating levels and reasons)
  is a `Bilingual`, which carries both and answers `.get(language)`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Bilingual(BaseModel):
    """One text in Chinese and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    zh: str = Field(..., min_length=1, description="The text in Chinese, shown by default.")
    en: str = Field(..., min_length=1,
                    description="The text in English, shown when the resident chose English.")

    def get(self, language: str) -> str:
        """The text in `language`; any language but English falls back to Chinese."""
        return self.en if language == "en" else self.zh
