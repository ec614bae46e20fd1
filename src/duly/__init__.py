"""duly: a self-hosted SLA management engine for support and service teams."""

__version__ = "0.1.0"
