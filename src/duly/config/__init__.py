"""SLA-as-code: reading and validating configuration into core models, with clear errors."""

from duly.config.calendars import ALWAYS_OPEN, calendar_from_spec
from duly.config.errors import ConfigError, Problem
from duly.config.files import load_calendar, read_calendar_specs

__all__ = [
    "ALWAYS_OPEN",
    "ConfigError",
    "Problem",
    "calendar_from_spec",
    "load_calendar",
    "read_calendar_specs",
]
