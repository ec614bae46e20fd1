"""How problems are worded for people who write configs: suggestions and names of YAML types.

Shared by the condition language and the config loader, so a typo reads the same wherever it is.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["did_you_mean", "kind_of"]


def did_you_mean(word: Any, choices: Sequence[str]) -> str:
    """`` (did you mean X?)`` for the closest choice, or nothing."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def kind_of(value: Any) -> str:
    """The YAML name of a value's type, for messages a config author understands."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"
