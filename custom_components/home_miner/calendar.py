"""A plan's calendar: the curtailment windows planned for the next 48 hours."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .curtailment import CurtailmentWindow, Reason
from .plan import PlanConfigEntry
from .plan.entity import PlanEntity

PARALLEL_UPDATES = 0

SUMMARIES = {
    Reason.MANUAL: "Curtailed on request",
    Reason.DR_EVENT: "Demand-response event",
    Reason.CAPACITY_LIMIT: "Capacity limit",
    Reason.TOU_PEAK: "Time-of-use peak",
    Reason.PRICE_ABOVE_THRESHOLD: "Price above threshold",
    Reason.PRICE_UNAVAILABLE: "Price unavailable",
    Reason.NONE: "Curtailment",
}


def _event(window: CurtailmentWindow) -> CalendarEvent:
    start, end = dt_util.as_local(window.start), dt_util.as_local(window.end)
    if end.replace(tzinfo=None) < start.replace(tzinfo=None):
        # A window across the autumn clock change (01:30 summer time to 01:10 winter time):
        # Home Assistant compares calendar times by the wall clock and would refuse it.
        end = start
    return CalendarEvent(
        start=start,
        end=end,
        summary=SUMMARIES[window.reason],
        description=", ".join(sorted(reason.value for reason in window.reasons)),
        uid=f"{window.reason.value}-{window.start.isoformat()}",
    )


class PlanCalendar(PlanEntity, CalendarEntity):
    """Upcoming windows, as the engine predicts them from the plan's feeds."""

    @property
    def event(self) -> CalendarEvent | None:
        now = dt_util.utcnow()
        upcoming = (w for w in self.coordinator.data.windows if w.end > now)
        window = next(upcoming, None)
        return None if window is None else _event(window)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        return [
            _event(window)
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
