"""The plan's inputs read from Home Assistant: price and hashprice entities, on/off and
calendar DR entities, and the OpenADR 3 VTN. A feed that is down yields nothing (the price) or
its last known events (calendars, the VTN).

After a restart, entities load in any order: until each price or DR entity has reported (for
at most `RESTART_GRACE`), the plan reads the state it last saw of it, so a window under way
is not ended by an entity that has not loaded yet."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
import math

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, ServiceResponse, State
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from ..const import LOGGER
from ..curtailment import (
    DrEvent,
    EventFormatError,
    OpenAdrError,
    PriceFormatError,
    PricePoint,
    PriceSeries,
    VenClient,
    event_from_entity_state,
    events_from_calendar,
    parse_prices,
)
from ..curtailment.flex import HouseReading
from .config import PlanConfig
from .const import CALENDAR_LOOKBACK, HOLIDAY_HORIZON, SCHEDULE_HORIZON, STATE_PRICE_VALIDITY
from .price_actions import PRICE_ACTIONS


def state_number(state: State | None) -> float | None:
    """The state as a number; `nan`, `inf` and text are no number (the feed is missing)."""
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# Power units a grid, PV or miner sensor may use, in watts.
POWER_UNITS = {"W": 1.0, "kW": 1000.0, "MW": 1_000_000.0}


def power_w(state: State | None) -> float | None:
    """A power sensor's state in W; None if it is missing or not in a power unit."""
    value = state_number(state)
    if value is None or state is None:
        return None
    scale = POWER_UNITS.get(str(state.attributes.get("unit_of_measurement")))
    return None if scale is None else value * scale


def _all_day(value: object) -> date | None:
    """The date of an all-day event's start or end (`YYYY-MM-DD`); None for a timed one."""
    if not isinstance(value, str) or len(value) != len("2026-11-26"):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _reported(state: State | None) -> bool:
    return state is not None and state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


class Feeds:
    """Reads every input of one plan."""

    def __init__(self, hass: HomeAssistant, config: PlanConfig) -> None:
        self.hass = hass
        self.config = config
        # The last reported state of each price and DR entity (kept across restarts), and
        # until when a restarted plan reads it for entities that have not reported yet.
        self.last_seen: dict[str, State] = {}
        self.grace_until: datetime | None = None
        self.calendar_events: tuple[DrEvent, ...] = ()
        # The boost calendars' sessions ahead (start, end), for the plan's calendar.
        self.boost_sessions: tuple[tuple[datetime, datetime], ...] = ()
        self.vtn_events: tuple[DrEvent, ...] = ()
        self.vtn_error: str | None = None
        # The price action's last good answer for each of the market's days, and all of them
        # as one series (price_actions.py asks for them).
        self.price_answers: dict[date, PriceSeries] = {}
        self._action_prices = PriceSeries()
        self._action_unit: str | None = None
        self._hashprice: float | None = config.hashprice
        self._vtn = (
            VenClient(async_get_clientsession(hass), config.vtn) if config.vtn is not None else None
        )

    @property
    def watched(self) -> list[str]:
        """Entities whose state changes call for a new decision."""
        config = self.config
        found = [*config.dr_entities, *config.calendars, *config.boost_entities]
        for entity_id in (
            config.price_entity,
            config.hashprice_entity,
            config.grid_entity,
            config.grid_export_entity,
            config.battery_entity,
        ):
            if entity_id:
                found.append(entity_id)
        return found

    def house(self) -> HouseReading:
        """The house now: grid power in W (import positive; `None` while a grid entity is
        not a power), the battery's charge, and whether a boost entity is on."""
        config = self.config
        grid = power_w(self.hass.states.get(config.grid_entity)) if config.grid_entity else None
        if grid is not None and config.grid_export_entity:
            export = power_w(self.hass.states.get(config.grid_export_entity))
            grid = None if export is None else grid - export
        battery = (
            state_number(self.hass.states.get(config.battery_entity))
            if config.battery_entity
            else None
        )
        boost = any(
            (state := self.hass.states.get(entity_id)) is not None and state.state == "on"
            for entity_id in config.boost_entities
        )
        return HouseReading(grid_w=grid, battery_pct=battery, boost=boost)

    def _state(self, entity_id: str, now: datetime) -> State | None:
        state = self.hass.states.get(entity_id)
        if _reported(state):
            assert state is not None
            self.last_seen[entity_id] = state
            return state
        if self.grace_until is not None and now < self.grace_until:
            return self.last_seen.get(entity_id, state)
        return state

    def waiting(self, now: datetime) -> bool:
        """Whether some entity has not reported since the restart (within the grace)."""
        if self.grace_until is None or now >= self.grace_until:
            return False
        return any(
            not _reported(self.hass.states.get(e))
            for e in (*self.config.dr_entities, self.config.price_entity)
            if e
        )

    @property
    def has_vtn(self) -> bool:
        return self._vtn is not None

    def hashprice(self) -> float | None:
        """From its entity (the last good value while it is down), else the fixed value."""
        entity_id = self.config.hashprice_entity
        if entity_id:
            value = state_number(self.hass.states.get(entity_id))
            if value is not None:
                self._hashprice = value
        return self._hashprice

    def unit(self) -> str | None:
        if not self.config.price_entity:
            return self._action_unit
        state = self.hass.states.get(self.config.price_entity)
        return None if state is None else state.attributes.get("unit_of_measurement")

    def store_price_answers(
        self, answers: Mapping[date, PriceSeries], *, keep_from: date, unit: str | None
    ) -> bool:
        """Keep each day's last good answer of the price action, from `keep_from` on; `True`
        if the forecast changed."""
        self._action_unit = unit
        kept = {
            day: series
            for day, series in {**self.price_answers, **answers}.items()
            if day >= keep_from
        }
        if kept == self.price_answers:
            return False
        self.price_answers = kept
        self._action_prices = PriceSeries.from_points(
            [point for day in sorted(kept) for point in kept[day].points]
        )
        return True

    def prices(self, now: datetime) -> PriceSeries | None:
        """Future prices from the entity's attributes or the price action's answers, with the
        entity's state as the price now.

        An action's answers stand without the entity: they give the price now where no entity
        is chosen or while it is down (a day-ahead price is the number the entity shows), and
        the prices ahead while the price now is unknown."""
        entity_id = self.config.price_entity
        state = self._state(entity_id, now) if entity_id else None
        current = state_number(state)
        from_action = self.config.price_preset in PRICE_ACTIONS
        if state is None or current is None:
            return (self._action_prices or None) if from_action else None
        series = self._action_prices if from_action else self._attribute_prices(state)
        point = series.point_at(now)
        if point is not None:
            live = PricePoint(start=point.start, end=point.end, price=current)
        else:
            following = series.next_change(now)
            end = now + STATE_PRICE_VALIDITY
            live = PricePoint(
                start=now, end=min(end, following) if following else end, price=current
            )
        return series.merged(PriceSeries((live,)))

    def _attribute_prices(self, state: State) -> PriceSeries:
        if self.config.price_preset is None:
            return PriceSeries()
        try:
            return parse_prices(
                dict(state.attributes),
                preset=self.config.price_preset,
                timezone=dt_util.get_default_time_zone(),
            )
        except PriceFormatError as err:
            LOGGER.debug("No future prices in %s: %s", state.entity_id, err)
            return PriceSeries()

    def events(self, now: datetime) -> tuple[DrEvent, ...]:
        found: list[DrEvent] = [*self.calendar_events, *self.vtn_events]
        for entity_id in self.config.dr_entities:
            state = self._state(entity_id, now)
            if state is None:
                continue
            try:
                event = event_from_entity_state(
                    entity_id=entity_id, state=state.state, last_changed=state.last_changed
                )
            except EventFormatError as err:
                LOGGER.warning("Ignoring %s as a DR feed: %s", entity_id, err)
                continue
            if event is not None:
                found.append(event)
        return tuple(found)

    async def async_refresh_calendars(self, now: datetime) -> bool:
        """Read the calendars' events; `True` if they changed."""
        if not self.config.calendars:
            return False
        response = await self._calendar_events(
            list(self.config.calendars), now - CALENDAR_LOOKBACK, now + SCHEDULE_HORIZON, "DR"
        )
        if response is None:
            return False
        found: list[DrEvent] = []
        for calendar_id in self.config.calendars:
            if not response or calendar_id not in response:
                continue
            try:
                found.extend(
                    events_from_calendar(
                        response,
                        calendar_id=calendar_id,
                        timezone=dt_util.get_default_time_zone(),
                        summary_contains=self.config.calendar_match,
                    )
                )
            except EventFormatError as err:
                LOGGER.warning("Cannot read the events of %s: %s", calendar_id, err)
        events = tuple(found)
        changed = events != self.calendar_events
        self.calendar_events = events
        return changed

    async def _calendar_events(
        self, calendars: list[str], start: datetime, end: datetime, what: str
    ) -> ServiceResponse:
        """The calendars' events between `start` and `end` (calendar.get_events), or None."""
        try:
            return await self.hass.services.async_call(
                "calendar",
                "get_events",
                {"entity_id": calendars, "start_date_time": start, "end_date_time": end},
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError as err:
            LOGGER.warning("Cannot read the %s calendars: %s", what, err)
            return None

    @property
    def boost_calendars(self) -> list[str]:
        return [e for e in self.config.boost_entities if e.startswith("calendar.")]

    async def async_refresh_boost_sessions(self, now: datetime) -> bool:
        """Read the boost calendars' sessions ahead (for the plan's calendar); `True` if they
        changed. Unreadable: the sessions known so far stay."""
        calendars = self.boost_calendars
        if not calendars:
            return False
        response = await self._calendar_events(calendars, now, now + SCHEDULE_HORIZON, "boost")
        if response is None:
            return False
        sessions: list[tuple[datetime, datetime]] = []
        for calendar_id in calendars:
            answer = response.get(calendar_id) if isinstance(response, Mapping) else None
            events = answer.get("events") if isinstance(answer, Mapping) else None
            for event in events if isinstance(events, list) else []:
                if not isinstance(event, Mapping):
                    continue
                start = dt_util.parse_datetime(str(event.get("start", "")))
                end = dt_util.parse_datetime(str(event.get("end", "")))
                if start is not None and end is not None and end > start:
                    sessions.append((dt_util.as_utc(start), dt_util.as_utc(end)))
        changed = tuple(sessions) != self.boost_sessions
        self.boost_sessions = tuple(sessions)
        return changed

    async def async_read_holidays(self, now: datetime) -> frozenset[date] | None:
        """The days of the holiday calendar's all-day events ahead; None if it cannot be read
        (the plan then keeps the holidays it had)."""
        calendar_id = self.config.holiday_calendar
        if not calendar_id:
            return frozenset()
        try:
            response = await self.hass.services.async_call(
                "calendar",
                "get_events",
                {
                    "entity_id": calendar_id,
                    "start_date_time": now - CALENDAR_LOOKBACK,
                    "end_date_time": now + HOLIDAY_HORIZON,
                },
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError as err:
            LOGGER.warning("Cannot read the holidays of %s: %s", calendar_id, err)
            return None
        found: set[date] = set()
        answer = (response or {}).get(calendar_id)
        events = answer.get("events") if isinstance(answer, dict) else None
        for event in events if isinstance(events, list) else []:
            if not isinstance(event, dict):
                continue
            start, end = _all_day(event.get("start")), _all_day(event.get("end"))
            while start is not None and end is not None and start < end:
                found.add(start)
                start += timedelta(days=1)
        return frozenset(found)

    async def async_poll_vtn(self, now: datetime) -> bool:
        """Ask the VTN for events; `True` if they changed. Down: the last events stay."""
        if self._vtn is None:
            return False
        try:
            events = await self._vtn.events(now=now)
        except OpenAdrError as err:
            if self.vtn_error is None:
                LOGGER.warning("The OpenADR VTN is unavailable: %s", err)
            self.vtn_error = str(err)
            return False
        if self.vtn_error is not None:
            LOGGER.info("The OpenADR VTN is back")
            self.vtn_error = None
        changed = events != self.vtn_events
        self.vtn_events = events
        return changed
