"""The domain's one exception type: services raise it, interfaces translate it."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request.

    `code` is a stable machine name (used as the API's `error`), `message` a sentence for the
    person in front of the screen, `status` the HTTP status that fits. Messages are Japanese
    msgids passed through `gettext` where they are raised, so they come in the language active
    then: the page's language on the residents' and staff pages (English when chosen), always
    Japanese in the JSON API (its lane runs in the default language).
    """

    def __init__(self, code: str, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
