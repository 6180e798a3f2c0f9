"""OpenADR 3 programs and events as `DrEvent`s (3.1.0 and 3.0.1 shapes).

Timing follows the OpenADR 3 user guide: an event's `intervalPeriod` gives every interval its
default start and duration; an interval's own `intervalPeriod` overrides it, and an interval
without a start follows the one before. A start of `0001-01-01` means "now" (the moment the
VEN first saw this version of the event, so polling does not push it forward), a duration of
`P9999Y` (or none) means "until cancelled", and `randomizeStart` shifts the start by a
pseudo-random fraction derived from the VEN's seed and the event, so a replay gives the same
answer. Payloads: `SIMPLE` levels become a power fraction (configurable map), `PRICE` a price,
`IMPORT_CAPACITY_LIMIT` a kW cap and any `ALERT_*` a stop.

Units come from the event's payload descriptor, else the program's. A `PRICE` with units in
neither is not used at all: the spec leaves its meaning to the descriptor, and reading a
per-MWh price as per kWh would curtail for a price a thousand times too high. An
`IMPORT_CAPACITY_LIMIT` without units is read in kW, the scale of a home.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import hashlib
import logging
from types import MappingProxyType

from ._convert import (
    as_datetime,
    as_duration,
    as_float,
    as_int,
    as_list,
    as_mapping,
    as_str,
    require_aware,
    short,
)
from .errors import OpenAdrFormatError
from .events import DrEvent, DrSignal, DrSource

_LOGGER = logging.getLogger(__name__)

DEFAULT_SIMPLE_LEVELS: Mapping[int, float] = MappingProxyType({0: 1.0, 1: 0.75, 2: 0.5, 3: 0.0})
_NOW_DATE = "0001-01-01"
_POWER_UNITS = {"W": 1e-3, "KW": 1.0, "MW": 1e3}
_PRICE_UNITS = {"KWH": 1.0, "MWH": 1e-3, "WH": 1e3}


@dataclass(frozen=True, kw_only=True, slots=True)
class PayloadDescriptor:
    payload_type: str
    units: str | None = None
    currency: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class OadrProgram:
    program_id: str
    name: str
    targets: frozenset[str] = frozenset()
    descriptors: tuple[PayloadDescriptor, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class OadrOptions:
    """How this VEN reads events: its targets (empty: every event is ours), the SIMPLE level
    map and the seed for `randomizeStart`."""

    targets: frozenset[str] = frozenset()
    simple_levels: Mapping[int, float] = field(default_factory=lambda: DEFAULT_SIMPLE_LEVELS)
    seed: str = "home_miner"


def parse_targets(value: object) -> frozenset[str]:
    """3.1.0 targets are strings; 3.0.1 targets are `{type, values}` maps."""
    if value is None:
        return frozenset()
    found: set[str] = set()
    for item in as_list(value, "targets"):
        if isinstance(item, str):
            found.add(item)
        else:
            target = as_mapping(item, "target")
            as_str(target.get("type"), "target type")
            found.update(str(v) for v in as_list(target.get("values"), "target values"))
    return frozenset(found)


def _descriptors(value: object) -> tuple[PayloadDescriptor, ...]:
    if value is None:
        return ()
    found: list[PayloadDescriptor] = []
    for item in as_list(value, "payloadDescriptors"):
        data = as_mapping(item, "payloadDescriptor")
        if data.get("objectType", "EVENT_PAYLOAD_DESCRIPTOR") != "EVENT_PAYLOAD_DESCRIPTOR":
            continue
        units, currency = data.get("units"), data.get("currency")
        found.append(
            PayloadDescriptor(
                payload_type=as_str(data.get("payloadType"), "payloadType"),
                units=units if isinstance(units, str) else None,
                currency=currency if isinstance(currency, str) else None,
            )
        )
    return tuple(found)


def _merge(
    program: Sequence[PayloadDescriptor], event: Sequence[PayloadDescriptor]
) -> dict[str, PayloadDescriptor]:
    """The event's descriptors over the program's, field by field: an event descriptor that
    leaves out the units does not hide the program's."""
    found = {d.payload_type: d for d in program}
    for own in event:
        base = found.get(own.payload_type)
        found[own.payload_type] = (
            own
            if base is None
            else PayloadDescriptor(
                payload_type=own.payload_type,
                units=own.units or base.units,
                currency=own.currency or base.currency,
            )
        )
    return found


def parse_program(data: object) -> OadrProgram:
    """Read one program object. Raises `OpenAdrFormatError`."""
    try:
        program = as_mapping(data, "program")
        return OadrProgram(
            program_id=as_str(program.get("id"), "program id"),
            name=as_str(program.get("programName"), "programName"),
            targets=parse_targets(program.get("targets")),
            descriptors=_descriptors(program.get("payloadDescriptors")),
        )
    except ValueError as err:
        raise OpenAdrFormatError(f"Invalid OpenADR program: {err}") from err


@dataclass(frozen=True, kw_only=True, slots=True)
class _Period:
    start: datetime | None = None
    duration: timedelta | None = None
    open_ended: bool = False
    randomize: timedelta | None = None


def _period(value: object, anchor: datetime, what: str) -> _Period:
    if value is None:
        return _Period()
    data = as_mapping(value, what)
    start: datetime | None = None
    raw_start = data.get("start")
    if isinstance(raw_start, str) and raw_start.strip().startswith(_NOW_DATE):
        start = anchor
    elif raw_start is not None:
        start = as_datetime(raw_start, f"{what} start")
    duration: timedelta | None = None
    open_ended = False
    if data.get("duration") is not None:
        duration = as_duration(data["duration"], f"{what} duration")
        open_ended = duration is None
    randomize = None
    if data.get("randomizeStart") is not None:
        randomize = as_duration(data["randomizeStart"], f"{what} randomizeStart")
    return _Period(start=start, duration=duration, open_ended=open_ended, randomize=randomize)


def _offset(randomize: timedelta | None, seed: str, key: str) -> timedelta:
    if not randomize:
        return timedelta(0)
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return randomize * (int.from_bytes(digest[:4], "big") / 2**32)


class _NoUnits(ValueError):
    """A payload whose meaning depends on units nobody gave."""


def _warn(message: str) -> None:
    _LOGGER.warning("%s", message)


def _unit_scale(units: str | None, table: Mapping[str, float], what: str) -> float:
    if units is None:
        return 1.0
    key = units.strip().upper()
    if key not in table:
        raise ValueError(f"{what} in unsupported units {units!r}")
    return table[key]


def _signal(
    payload: Mapping[str, object],
    descriptors: Mapping[str, PayloadDescriptor],
    options: OadrOptions,
) -> tuple[DrSignal, float | None] | None:
    kind = as_str(payload.get("type"), "payload type")
    values = as_list(payload.get("values"), f"{kind} values")
    descriptor = descriptors.get(kind)
    units = descriptor.units if descriptor else None
    if kind.startswith("ALERT_"):
        return DrSignal.STOP, None
    if not values:
        raise ValueError(f"{kind} payload has no value")
    if kind == "SIMPLE":
        level = as_int(values[0], "SIMPLE level")
        if level not in options.simple_levels:
            raise ValueError(f"SIMPLE level {level} is not in the level map")
        return DrSignal.POWER_FRACTION, options.simple_levels[level]
    if kind == "PRICE":
        if units is None:
            raise _NoUnits(kind)
        scale = _unit_scale(units, _PRICE_UNITS, "PRICE")
        return DrSignal.PRICE, as_float(values[0], "PRICE") * scale
    if kind == "IMPORT_CAPACITY_LIMIT":
        scale = _unit_scale(units, _POWER_UNITS, "IMPORT_CAPACITY_LIMIT")
        limit = as_float(values[0], "IMPORT_CAPACITY_LIMIT") * scale
        if limit < 0:
            raise ValueError(f"IMPORT_CAPACITY_LIMIT must not be negative, got {limit}")
        return DrSignal.CAPACITY_LIMIT, limit
    return None


def _signals(
    payloads: object, descriptors: Mapping[str, PayloadDescriptor], options: OadrOptions
) -> tuple[list[tuple[DrSignal, float | None]], bool]:
    """The understood payloads of an interval, and whether a PRICE among them had no units."""
    found: list[tuple[DrSignal, float | None]] = []
    unitless = False
    for payload in as_list(payloads, "payloads"):
        try:
            signal = _signal(as_mapping(payload, "payload"), descriptors, options)
        except _NoUnits:
            unitless = True
            continue
        if signal is not None:
            found.append(signal)
    return found, unitless


def parse_event(
    data: object,
    *,
    now: datetime,
    options: OadrOptions | None = None,
    program: OadrProgram | None = None,
    report: Callable[[str], None] | None = None,
) -> tuple[DrEvent, ...]:
    """One OpenADR event as `DrEvent`s, one per interval and understood payload.

    `now` anchors starts of `0001-01-01`. Events targeted elsewhere give `()`. An event that
    is not an event raises `OpenAdrFormatError`; a bad interval is skipped and a PRICE
    without units left out, each told to `report` (default: a warning in the log).
    """
    require_aware(now)
    options = options or OadrOptions()
    report = report or _warn
    try:
        event = as_mapping(data, "event")
        event_id = as_str(event.get("id"), "event id")
        as_str(event.get("programID"), "programID")
        targets = parse_targets(event.get("targets"))
        intervals = as_list(event.get("intervals", []), "intervals")
        default = _period(event.get("intervalPeriod"), now, "intervalPeriod")
        priority = event.get("priority")
        priority = None if priority is None else as_int(priority, "priority")
        name = event.get("eventName")
        descriptors = _merge(
            program.descriptors if program else (), _descriptors(event.get("payloadDescriptors"))
        )
    except ValueError as err:
        raise OpenAdrFormatError(f"Invalid OpenADR event: {err}") from err
    if options.targets and targets and not targets & options.targets:
        return ()
    label = name if isinstance(name, str) and name else (program.name if program else event_id)
    shift = _offset(default.randomize, options.seed, event_id)
    found: list[DrEvent] = []
    cursor: datetime | None = None
    unitless = False
    for position, item in enumerate(intervals):
        try:
            interval = as_mapping(item, "interval")
            interval_id = as_int(interval.get("id"), "interval id")
            own = _period(interval.get("intervalPeriod"), now, "interval intervalPeriod")
            start = own.start or cursor or default.start
            if start is None:
                raise ValueError("no start: neither the interval nor the event gives one")
            if own.start is not None or cursor is None:
                start += shift
            start += _offset(own.randomize, options.seed, f"{event_id}:{interval_id}")
            has_own = own.duration is not None or own.open_ended
            duration = own.duration if has_own else default.duration
            end = None if duration is None else start + duration
            cursor = end
            signals, no_units = _signals(interval.get("payloads"), descriptors, options)
            unitless |= no_units
            for kind, value in signals:
                found.append(
                    DrEvent(
                        event_id=f"{event_id}/{interval_id}/{kind.value}",
                        source=DrSource.OPENADR,
                        signal=kind,
                        start=start,
                        end=end,
                        value=value,
                        priority=priority,
                        name=label,
                    )
                )
        except (ValueError, OverflowError) as err:
            report(f"Skipping interval {position} of OpenADR event {event_id}: {err}")
            cursor = None
    if unitless:
        report(
            f"OpenADR event {event_id} gives a PRICE without units (no payloadDescriptor of"
            " the event or its program names them), so it is not used as a price"
        )
    return tuple(found)


def parse_events(
    data: object,
    *,
    now: datetime,
    options: OadrOptions | None = None,
    programs: Sequence[OadrProgram] = (),
) -> tuple[DrEvent, ...]:
    """A list of events (one `/events` page); events that cannot be read are skipped with a
    warning. Raises `OpenAdrFormatError` when `data` is not a list."""
    try:
        items = as_list(data, "events")
    except ValueError as err:
        raise OpenAdrFormatError(f"Invalid OpenADR events: {err}") from err
    by_id = {program.program_id: program for program in programs}
    found: list[DrEvent] = []
    for item in items:
        program_id = item.get("programID") if isinstance(item, Mapping) else None
        try:
            found.extend(
                parse_event(
                    item,
                    now=now,
                    options=options,
                    program=by_id.get(program_id) if isinstance(program_id, str) else None,
                )
            )
        except OpenAdrFormatError as err:
            _LOGGER.warning("Skipping OpenADR event %s: %s", short(item), err)
    return tuple(found)
