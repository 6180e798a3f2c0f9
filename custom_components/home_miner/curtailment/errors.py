"""Typed errors of the curtailment engine: one per input kind."""

from __future__ import annotations


class CurtailmentError(Exception):
    """Base of every error the engine raises on bad input."""


class TariffError(CurtailmentError):
    """Time-of-use bands that cannot be used."""


class UrdbError(TariffError):
    """A Utility Rate Database rate that cannot be used."""


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


class StateFormatError(CurtailmentError):
    """A persisted plan state that cannot be restored."""
