"""The service catalog: categories a resident can take a number for.

Staff edit `config/catalog.yaml`; this module declares its schema and loads it. The data
only names and parameterises categories; queue rules stay in code (queue.py).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kiosk.domain.text import Bilingual


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(..., pattern=r"^[a-z0-9_]{1,32}$")
    prefix: str = Field(..., pattern=r"^[A-Z]$")
    title: Bilingual
    hint: Bilingual | None = None
    minutes_per_ticket: float = Field(..., gt=0, le=240)
    windows: int = Field(1, ge=1, le=50)


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    priority_prefix: str = Field("Y", pattern=r"^[A-Z]$")
    categories: list[Category] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Catalog:
        for attr in ("id", "prefix"):
            values = [getattr(c, attr) for c in self.categories]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"categories: duplicate {attr} {', '.join(dupes)}")
        if self.priority_prefix in {c.prefix for c in self.categories}:
            raise ValueError("priority_prefix must differ from every category prefix")
        return self

    def get(self, category_id: str) -> Category:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise KeyError(category_id)


def load_catalog(path: Path) -> Catalog:
    """Load and validate; raises kiosk.common.datafiles.ConfigFileError with every problem."""
    from kiosk.common.datafiles import load_model_file

    return load_model_file(path, Catalog)
