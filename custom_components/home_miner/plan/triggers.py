"""Everything that calls for a new decision of a plan, wired to Home Assistant.

Price and DR entities changing state, the VTN poll bringing new events, calendars read again,
a price action's new answer (its own schedule: price_actions.py),
miners joining, leaving or going unavailable, a person changing a miner through its entities
(by any path: the entity, its device, area or label, an automation or a script), and Home
Assistant's time zone set anew.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import CALLBACK_TYPE, Event, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import (
    EventStateChangedData,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, SIGNAL_MINERS_CHANGED, SIGNAL_USER_CHANGED
from . import const
from .actuator import miner_coordinator
from .price_actions import PriceActionFeed

if TYPE_CHECKING:
    from .coordinator import PlanCoordinator


class PlanTriggers:
    """Subscribes a plan to its triggers; every subscription ends when its entry unloads."""

    def __init__(self, plan: PlanCoordinator) -> None:
        self.plan = plan
        self.hass = plan.hass
        self._unsub_miners: list[CALLBACK_TYPE] = []
        self._available: dict[str, bool] = {}

    @callback
    def async_start(self) -> None:
        plan, hass = self.plan, self.hass
        entry = plan.config_entry
        if watched := plan.feeds.watched:
            entry.async_on_unload(
                async_track_state_change_event(hass, watched, self._on_feed_state)
            )
        if plan.feeds.has_vtn:
            entry.async_on_unload(
                async_track_time_interval(hass, self._on_vtn_poll, const.VTN_POLL_INTERVAL)
            )
        if plan.config.calendars or plan.config.holiday_calendar or plan.feeds.boost_calendars:
            entry.async_on_unload(
                async_track_time_interval(hass, self._on_calendar_tick, const.CALENDAR_REFRESH)
            )
        if (price_action := PriceActionFeed.for_plan(plan)) is not None:
            price_action.async_start()
        entry.async_on_unload(
            async_track_time_interval(hass, self._on_energy_tick, const.ENERGY_TICK)
        )
        entry.async_on_unload(
            async_dispatcher_connect(hass, SIGNAL_USER_CHANGED, self._on_user_change)
        )
        entry.async_on_unload(
            async_dispatcher_connect(hass, SIGNAL_MINERS_CHANGED, self._on_miners_changed)
        )
        entry.async_on_unload(hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, self._on_core_config))
        entry.async_on_unload(self._stop_watching_miners)
        self._watch_miners()

    @callback
    def _on_core_config(self, _: Event) -> None:
        self.plan.async_time_zone_changed()

    def _background(self, job: Any, name: str) -> None:
        self.plan.config_entry.async_create_background_task(self.hass, job, f"{DOMAIN} {name}")

    @callback
    def _on_feed_state(self, event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        if entity_id in self.plan.config.calendars or entity_id in self.plan.feeds.boost_calendars:
            self._background(self.plan.async_refresh_calendars(), "plan calendars")
            return
        self.plan.async_decide()

    @callback
    def _on_calendar_tick(self, _: datetime) -> None:
        self._background(self.plan.async_refresh_calendars(), "plan calendars")

    @callback
    def _on_vtn_poll(self, _: datetime) -> None:
        self._background(self.plan.async_poll_vtn(), "plan VTN poll")

    @callback
    def _on_energy_tick(self, _: datetime) -> None:
        self.plan.async_account_energy(dt_util.utcnow())

    @callback
    def _on_miners_changed(self) -> None:
        self._watch_miners()
        self.plan.async_decide()

    @callback
    def _stop_watching_miners(self) -> None:
        for unsub in self._unsub_miners:
            unsub()
        self._unsub_miners.clear()

    @callback
    def _watch_miners(self) -> None:
        self._stop_watching_miners()
        for miner_id in self.plan.config.miners:
            coordinator = miner_coordinator(self.hass, miner_id)
            self._available[miner_id] = bool(coordinator and coordinator.last_update_success)
            if coordinator is not None:
                self._unsub_miners.append(
                    coordinator.async_add_listener(self._miner_listener(miner_id))
                )

    def _miner_listener(self, miner_id: str) -> CALLBACK_TYPE:
        @callback
        def _updated() -> None:
            coordinator = miner_coordinator(self.hass, miner_id)
            available = bool(coordinator and coordinator.last_update_success)
            if available != self._available.get(miner_id):
                self._available[miner_id] = available
                if available and (actuator := self.plan.actuators.get(miner_id)) is not None:
                    actuator.wake()
                self.plan.async_decide()
            self.plan.async_miner_polled(miner_id)

        return _updated

    @callback
    def _on_user_change(self, miner_id: str | None, change: str, mining: bool | None) -> None:
        if miner_id is not None and miner_id in self.plan.config.miners:
            self.plan.async_user_changed(miner_id, change, mining)
