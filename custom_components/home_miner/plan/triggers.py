"""Everything that calls for a new decision of a plan, wired to Home Assistant.

Price and DR entities changing state, the VTN poll bringing new events, calendars read again,
miners joining, leaving or going unavailable, and the user switching a miner by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import CALLBACK_TYPE, Event, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import (
    EventStateChangedData,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, SIGNAL_MINERS_CHANGED
from . import const
from .actuator import miner_coordinator

if TYPE_CHECKING:
    from .coordinator import PlanCoordinator

_SWITCH_SERVICES = frozenset({"turn_on", "turn_off", "toggle"})


@callback
def _is_switch_call(data: Mapping[str, Any]) -> bool:
    return data.get("domain") == "switch" and data.get("service") in _SWITCH_SERVICES


class PlanTriggers:
    """Subscribes a plan to its triggers; every subscription ends when its entry unloads."""

    def __init__(self, plan: PlanCoordinator) -> None:
        self.plan = plan
        self.hass = plan.hass
        self._unsub_miners: list[CALLBACK_TYPE] = []
        self._available: dict[str, bool] = {}
        self._switches: dict[str, str] = {}

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
        if plan.config.calendars:
            entry.async_on_unload(
                async_track_time_interval(hass, self._on_calendar_tick, const.CALENDAR_REFRESH)
            )
        entry.async_on_unload(
            async_track_time_interval(hass, self._on_energy_tick, const.ENERGY_TICK)
        )
        entry.async_on_unload(
            hass.bus.async_listen(
                EVENT_CALL_SERVICE, self._on_service_call, event_filter=_is_switch_call
            )
        )
        entry.async_on_unload(
            async_dispatcher_connect(hass, SIGNAL_MINERS_CHANGED, self._on_miners_changed)
        )
        entry.async_on_unload(self._stop_watching_miners)
        self._watch_miners()

    def _background(self, job: Any, name: str) -> None:
        self.plan.config_entry.async_create_background_task(self.hass, job, f"{DOMAIN} {name}")

    @callback
    def _on_feed_state(self, event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] in self.plan.config.calendars:
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
        registry = er.async_get(self.hass)
        self._switches.clear()
        for miner_id in self.plan.config.miners:
            switch = registry.async_get_entity_id("switch", DOMAIN, f"{miner_id}_mining")
            if switch is not None:
                self._switches[switch] = miner_id
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
                self.plan.async_decide()

        return _updated

    @callback
    def _on_service_call(self, event: Event[Mapping[str, Any]]) -> None:
        target = event.data.get("service_data", {}).get("entity_id", [])
        for entity_id in [target] if isinstance(target, str) else target:
            if (miner_id := self._switches.get(entity_id)) is not None:
                self.plan.async_override_miner(miner_id)
