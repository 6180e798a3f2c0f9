"""A plan's calendar: the curtailment windows planned for the next 48 hours.

Home Assistant translates entity states, not calendar events: the events' summaries and
descriptions are read from this integration's translations in the configured language (its
calendar's `message` texts), again whenever the language changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .curtailment import CurtailmentWindow, Reason
from .plan import PlanConfigEntry
from .plan.entity import PlanEntity

PARALLEL_UPDATES = 0


def _event(window: CurtailmentWindow, texts: Mapping[Reason, str]) -> CalendarEvent:
    start, end = dt_util.as_local(window.start), dt_util.as_local(window.end)
    if end.replace(tzinfo=None) < start.replace(tzinfo=None):
        # A window across the autumn clock change (01:30 summer time to 01:10 winter time):
        # Home Assistant compares calendar times by the wall clock and would refuse it.
        end = start
    return CalendarEvent(
        start=start,
        end=end,
        summary=texts[window.reason],
        # Every reason the window has, the one it is named for first.
        description=", ".join(
            texts[reason]
            for reason in sorted(
                window.reasons, key=lambda r: (r is not window.reason, list(Reason).index(r))
            )
        ),
        uid=f"{window.reason.value}-{window.start.isoformat()}",
    )


class PlanCalendar(PlanEntity, CalendarEntity):
    """Upcoming windows, as the engine predicts them from the plan's feeds."""

    _texts: dict[Reason, str]

    async def async_added_to_hass(self) -> None:
        # Read before the first coordinator update can write an event.
        await self._async_read_texts()
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, self._on_config_update)
        )

    async def _async_read_texts(self) -> None:
        translations = await async_get_translations(
            self.hass, self.hass.config.language, "entity", {DOMAIN}
        )
        prefix = (
            f"component.{DOMAIN}.entity.calendar.{self.entity_description.translation_key}"
            ".state_attributes.message.state."
        )
        self._texts = {reason: translations.get(prefix + reason, reason) for reason in Reason}

    @callback
    def _on_config_update(self, event: Event) -> None:
        if "language" in event.data:
            self.coordinator.config_entry.async_create_task(
                self.hass, self._async_language_changed(), "home_miner calendar language"
            )

    async def _async_language_changed(self) -> None:
        await self._async_read_texts()
        self.async_write_ha_state()

    @property
    def event(self) -> CalendarEvent | None:
        now = dt_util.utcnow()
        upcoming = (w for w in self.coordinator.data.windows if w.end > now)
        window = next(upcoming, None)
        return None if window is None else _event(window, self._texts)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        return [
            _event(window, self._texts)
            for window in self.coordinator.data.windows
            if window.start < end_date and window.end > start_date
        ]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PlanConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities(
        [
            PlanCalendar(
                entry.runtime_data,
                CalendarEntityDescription(key="windows", translation_key="windows"),
            )
        ]
    )
