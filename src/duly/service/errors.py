"""What a use case refuses, in terms any entry point can render (HTTP status, CLI message)."""

from __future__ import annotations

__all__ = ["ConflictError", "InvalidError", "NotFoundError", "ServiceError"]


class ServiceError(Exception):
    """A refusal with a stable ``code``, a sentence for people and the ``field`` at fault."""

    code = "error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidError(ServiceError):
    """The input is wrong; nothing was stored."""

    code = "invalid"


class NotFoundError(ServiceError):
    code = "not_found"


class ConflictError(ServiceError):
    """Someone else changed the same thing at the same moment; sending it again is safe."""

    code = "conflict"
