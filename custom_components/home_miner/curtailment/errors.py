"""Typed errors of the curtailment engine: one per input kind."""

from __future__ import annotations

from datetime import datetime


class CurtailmentError(Exception):
    """Base of every error the engine raises on bad input."""


class TariffError(CurtailmentError):
    """Time-of-use bands that cannot be used."""


class UrdbError(TariffError):
    """A Utility Rate Database rate that cannot be used."""


class UrdbExpiredError(UrdbError):
    """A URDB rate whose end date has passed: it has no periods any more."""

    def __init__(self, message: str, *, start: datetime | None, end: datetime) -> None:
        super().__init__(message)
        self.start = start
        self.end = end


class UrdbPriceError(UrdbError):
    """A URDB energy price (`rate + adj`) that is not a finite number."""


class UrdbTooLargeError(UrdbError):
    """URDB JSON text longer than any one rate can be."""


class UrdbTooDeepError(UrdbError):
    """URDB JSON nested deeper than any rate is."""


class PriceFormatError(CurtailmentError):
    """Price forecast attributes or action responses that cannot be read."""


class EventFormatError(CurtailmentError):
    """A demand-response event (calendar, entity state) that cannot be read."""


class OpenAdrError(CurtailmentError):
    """Anything that went wrong talking to an OpenADR 3 VTN."""


class OpenAdrConnectionError(OpenAdrError):
    """The VTN could not be reached, timed out or answered with a server error."""


class OpenAdrAuthError(OpenAdrError):
    """The VTN or its token endpoint refused our credentials."""


class OpenAdrFormatError(OpenAdrError):
    """The VTN answered, but not with valid OpenADR 3 JSON."""


class OpenAdrUnsafeError(OpenAdrError):
    """The client refused to send the credentials where others could read or keep them.

    Raised before any request to `url` is made."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class OpenAdrInsecureUrlError(OpenAdrUnsafeError):
    """Credentials would travel unencrypted: not https, and not http to this machine."""


class OpenAdrForeignTokenUrlError(OpenAdrUnsafeError):
    """The VTN named a token endpoint outside its own origin that the user did not enter."""


class StateFormatError(CurtailmentError):
    """A persisted plan state that cannot be restored."""
