"""The error type of the whole pipeline: one actionable message, in French, with its location.

Modelled on conference-data's ``{file, line, message}``: every stage collects ``Problem``
objects instead of raising at the first one, so that a contributor sees every error at once.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int = 0
    column: int = 0
    field: str = ""
    message: str = ""
    severity: str = "erreur"  # "erreur" fails the check; "avertissement" does not

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        field = f"{self.field} : " if self.field else ""
        prefix = "" if self.severity == "erreur" else "avertissement : "
        return f"{where}: {prefix}{field}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "erreur"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "severity": self.severity,
        }


class PipelineError(Exception):
    """Raised by a stage that cannot go on; carries every problem found so far."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
