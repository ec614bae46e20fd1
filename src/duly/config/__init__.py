"""SLA-as-code: reading and validating configuration into core models, with clear errors."""

from duly.config.calendars import ALWAYS_OPEN, calendar_from_spec
from duly.config.errors import ConfigError, Problem
from duly.config.files import load_calendar, read_calendar_specs
from duly.config.sla import check_config, load_config, load_config_text

__all__ = [
    "ALWAYS_OPEN",
    "ConfigError",
    "Problem",
    "calendar_from_spec",
    "check_config",
    "load_calendar",
    "load_config",
    "load_config_text",
    "read_calendar_specs",
]
