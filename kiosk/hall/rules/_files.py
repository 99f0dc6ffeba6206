"""Reading a rules file whose checks across keys are each reported at their own key.

kiosk.common.datafiles reads the file and names each schema problem by file, key and
expectation. A check that spans keys (a counter naming a category the center lacks, two
categories with one prefix) can only run on a validated model, and pydantic keeps a single
error per model validator: a technician fixing one would meet the next at the next start.
So the loader validates first with those checks deferred, then reports all of them at once,
each at the key it is about. A model built in code (tests, tools) still runs them, with
every problem in one message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator

from kiosk.common.datafiles import (
    ConfigFileError,
    problems_from_validation,
    read_data_file,
    unexpected_problem,
)

_DEFER = "defer_cross_checks"


class CheckedFile(BaseModel):
    """The top-level model of a rules file, with checks across its keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def cross_problems(self) -> list[tuple[str, str]]:
        """Each problem across keys as (key path as the file spells it, what was expected)."""
        return []

    @model_validator(mode="after")
    def _cross_checked(self, info: ValidationInfo) -> Self:
        if isinstance(info.context, dict) and info.context.get(_DEFER):
            return self
        problems = self.cross_problems()
        if problems:
            raise ValueError("; ".join(f"{key}: {what}" for key, what in problems))
        return self


F = TypeVar("F", bound=CheckedFile)


def load_checked_file(path: Path, model: type[F]) -> F:
    """The file validated against `model`; ConfigFileError naming the file, with every schema
    problem, or else every problem across keys."""
    data: Any = read_data_file(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigFileError(path, [("", "expected a table of keys at the top level")])
    try:
        loaded = model.model_validate(data, context={_DEFER: True})
        problems = loaded.cross_problems()
    except ValidationError as e:
        raise ConfigFileError(path, problems_from_validation(e)) from None
    except Exception as e:  # a validator that trips over odd data
        raise ConfigFileError(path, [("", unexpected_problem(e))]) from None
    if problems:
        raise ConfigFileError(path, problems)
    return loaded
