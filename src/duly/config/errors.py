"""The one error type of configuration: every problem names where it is and why it is wrong."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ConfigError", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration, located by a dotted field path (and file/line)."""

    field: str
    reason: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        return f"{where}{self.field}: {self.reason}" if self.field else f"{where}{self.reason}"


class ConfigError(ValueError):
    """Raised when a configuration cannot be used; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def field(self) -> str:
        """The field of the first problem, for callers that report a single one."""
        return self.problems[0].field if self.problems else ""
