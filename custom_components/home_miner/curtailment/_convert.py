"""Narrowing of JSON-like values (`object`) to the types the engine works with.

Every helper raises `ValueError` with a message meant for a person; each parse function turns
it into its own typed error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
import math
import re

_DURATION = re.compile(
    r"^(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
# OpenADR 3 spells "until cancelled" as P9999Y; any duration this long means the same.
_INFINITE_YEARS = 9999
_MAX_DAYS = 3_000_000


def short(value: object, limit: int = 60) -> str:
    """`repr` of a value, cut to a length fit for a log line or error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_mapping(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be an object, got {short(value)}")
    for key in value:
        if not isinstance(key, str):
            raise ValueError(f"{what} has a key that is not a string: {short(key)}")
    return value


def as_list(value: object, what: str) -> Sequence[object]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValueError(f"{what} must be a list, got {short(value)}")
    return value


def as_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {short(value)}")
    return value


def as_float(value: object, what: str) -> float:
    """A finite number; numeric strings are accepted because state attributes may be text."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {short(value)}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"{what} must be a number, got {short(value)}") from None
    else:
        raise ValueError(f"{what} must be a number, got {short(value)}")
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {short(value)}")
    return number


def as_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"{what} must be an integer, got {short(value)}")
    return value


def as_datetime(value: object, what: str, tz: tzinfo = UTC) -> datetime:
    """A UTC datetime from a datetime, a date, ISO 8601 text or epoch seconds.

    Naive values are read in `tz`; a bare date is midnight in `tz`.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{what} is not an ISO 8601 date-time: {short(value)}") from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except OverflowError, OSError, ValueError:
            raise ValueError(f"{what} is not a valid timestamp: {short(value)}") from None
    else:
        raise ValueError(f"{what} must be a date-time, got {short(value)}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parsed.astimezone(UTC)
    except OverflowError, ValueError:
        raise ValueError(f"{what} is out of range: {short(value)}") from None


def as_duration(value: object, what: str) -> timedelta | None:
    """An ISO 8601 duration; `None` means "for ever" (P9999Y and longer).

    Years count 365 days and months 30, which is what a duration without an anchor can mean.
    """
    text = as_str(value, what).strip()
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{what} is not an ISO 8601 duration: {short(value)}")
    sign, years, months, days, unit, hours, minutes, seconds = match.groups()
    if sign and any(float(part) for part in (years, months, days, hours, minutes, seconds) if part):
        raise ValueError(f"{what} must not be negative: {short(value)}")
    if years is not None and int(years) >= _INFINITE_YEARS:
        return None
    total_days = (
        int(years or 0) * 365 + int(months or 0) * 30 + int(days or 0) * (7 if unit == "W" else 1)
    )
    if total_days > _MAX_DAYS:
        return None
    try:
        duration = timedelta(
            days=total_days,
            hours=int(hours or 0),
            minutes=int(minutes or 0),
            seconds=float(seconds or 0),
        )
    except OverflowError:
        return None
    return duration


def require_aware(when: datetime, what: str = "the time") -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {when!r}")
