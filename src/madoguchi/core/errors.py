"""The domain's one exception type: services raise it, interfaces translate it."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request.

    `code` is a stable machine name (used as the API's `error`), `message` a sentence for the
    person in front of the screen (Japanese by default), `status` the HTTP status that fits.
    """

    def __init__(self, code: str, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
