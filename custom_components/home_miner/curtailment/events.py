"""Demand-response events: one model for calendar entries, on/off entities and OpenADR 3."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
import logging

from ._convert import as_datetime, as_list, as_mapping, as_str, require_aware, short
from .errors import EventFormatError

_LOGGER = logging.getLogger(__name__)

_ON_STATES = frozenset({"on", "true", "home", "open", "active"})
_OFF_STATES = frozenset({"off", "false", "not_home", "closed", "idle", "inactive"})
_UNKNOWN_STATES = frozenset({"unavailable", "unknown", "none", ""})


class DrSource(StrEnum):
    CALENDAR = "calendar"
    ENTITY = "entity"
    OPENADR = "openadr"


class DrSignal(StrEnum):
    """What an event asks of the fleet."""

    CURTAIL = "curtail"
    """Apply each miner's configured curtailed action."""
    STOP = "stop"
    """Stop every miner (OpenADR ALERT_*)."""
    POWER_FRACTION = "power_fraction"
    """Run the fleet at `value` (0..1) of its full power (OpenADR SIMPLE levels)."""
    CAPACITY_LIMIT = "capacity_limit"
    """Draw at most `value` kW (OpenADR IMPORT_CAPACITY_LIMIT)."""
    PRICE = "price"
    """Use `value` as the electricity price (OpenADR PRICE)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DrEvent:
    """A demand-response request from `start` until `end` (`None`: until cancelled).

    `priority` follows OpenADR: a lower number is a higher priority, `None` the lowest.
    """

    event_id: str
    source: DrSource
    signal: DrSignal
    start: datetime
    end: datetime | None = None
    value: float | None = None
    priority: int | None = None
    name: str = ""

    def __post_init__(self) -> None:
        require_aware(self.start, "event start")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        if self.end is not None:
            require_aware(self.end, "event end")
            object.__setattr__(self, "end", self.end.astimezone(UTC))
            if self.end <= self.start:
                raise ValueError(f"event {self.event_id} ends before it starts")
        if self.signal not in {DrSignal.CURTAIL, DrSignal.STOP} and self.value is None:
            raise ValueError(f"event {self.event_id}: a {self.signal} event needs a value")

    def is_active(self, when: datetime) -> bool:
        return self.start <= when and (self.end is None or when < self.end)

    @property
    def rank(self) -> int:
        """Priority as a sort key: OpenADR's lower-is-higher, unprioritised last."""
        return self.priority if self.priority is not None else 2**31


def _calendar_items(data: object, calendar_id: str | None) -> Sequence[object]:
    if isinstance(data, list):
        return data
    root = as_mapping(data, "calendar events")
    if "events" in root:
        return as_list(root["events"], "events")
    if calendar_id is not None and calendar_id in root:
        return _calendar_items(root[calendar_id], None)
    if len(root) == 1:
        return _calendar_items(next(iter(root.values())), None)
    raise ValueError("expected a list of events, {'events': [...]} or {calendar: {'events': ...}}")


def events_from_calendar(
    data: object,
    *,
    calendar_id: str,
    timezone: tzinfo = UTC,
    signal: DrSignal = DrSignal.CURTAIL,
    summary_contains: str | None = None,
    start_key: str = "start",
    end_key: str = "end",
) -> tuple[DrEvent, ...]:
    """Events from a `calendar.get_events` response (or a list of `{start, end, summary}`).

    All-day entries (bare dates) run from midnight to midnight in `timezone`. With
    `summary_contains`, only entries whose summary contains it (any case) count. Other keys
    serve lists such as Octopus saving sessions' `joined_events`. An unreadable container
    raises `EventFormatError`; an unreadable entry is skipped with a warning.
    """
    try:
        items = _calendar_items(data, calendar_id)
    except ValueError as err:
        raise EventFormatError(f"Unreadable events of {calendar_id}: {err}") from err
    needle = summary_contains.casefold() if summary_contains else None
    events: list[DrEvent] = []
    for index, item in enumerate(items):
        try:
            entry = as_mapping(item, "event")
            summary = entry.get("summary", entry.get("message", ""))
            summary = summary if isinstance(summary, str) else ""
            if needle is not None and needle not in summary.casefold():
                continue
            start = as_datetime(entry.get(start_key), start_key, timezone)
            end = as_datetime(entry.get(end_key), end_key, timezone)
            uid = entry.get("uid")
            events.append(
                DrEvent(
                    event_id=f"{calendar_id}:{uid if isinstance(uid, str) else index}",
                    source=DrSource.CALENDAR,
                    signal=signal,
                    start=start,
                    end=end,
                    name=summary,
                )
            )
        except ValueError as err:
            _LOGGER.warning("Skipping calendar entry %s of %s: %s", short(item), calendar_id, err)
    return tuple(sorted(events, key=lambda event: (event.start, event.event_id)))


def event_from_entity_state(
    *,
    entity_id: str,
    state: object,
    last_changed: object,
    signal: DrSignal = DrSignal.CURTAIL,
) -> DrEvent | None:
    """An open-ended event while a binary sensor / input_boolean is on, else `None`.

    `unavailable`/`unknown` give `None` (what to do when a feed is down is the plan's
    setting, not this function's guess). Raises `EventFormatError` for anything else that is
    not an on/off state.
    """
    try:
        text = as_str(state, f"state of {entity_id}").strip().casefold()
        if text in _OFF_STATES or text in _UNKNOWN_STATES:
            return None
        if text not in _ON_STATES:
            raise ValueError(f"{short(state)} is not an on/off state")
        return DrEvent(
            event_id=entity_id,
            source=DrSource.ENTITY,
            signal=signal,
            start=as_datetime(last_changed, "last_changed"),
        )
    except ValueError as err:
        raise EventFormatError(f"Unreadable state of {entity_id}: {err}") from err


def active_events(events: Sequence[DrEvent], when: datetime) -> tuple[DrEvent, ...]:
    return tuple(event for event in events if event.is_active(when))
