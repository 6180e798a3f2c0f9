"""The plan's calendar across the autumn clock change."""

from __future__ import annotations

from datetime import UTC, datetime

from homeassistant.core import HomeAssistant

from custom_components.home_miner.calendar import _event
from custom_components.home_miner.curtailment import CurtailmentWindow, Reason

TEXTS = {reason: reason.value for reason in Reason}


async def test_window_across_the_autumn_clock_change(hass: HomeAssistant) -> None:
    """01:30 summer time to 01:10 winter time runs 40 minutes, but ends earlier by the wall
    clock, which is how Home Assistant checks calendar events: the event is still made."""
    await hass.config.async_set_time_zone("America/Los_Angeles")
    window = CurtailmentWindow(
        start=datetime(2026, 11, 1, 8, 30, tzinfo=UTC),  # 01:30 PDT
        end=datetime(2026, 11, 1, 9, 10, tzinfo=UTC),  # 01:10 PST
        reason=Reason.TOU_PEAK,
        reasons=frozenset({Reason.TOU_PEAK}),
    )
    event = _event(window, TEXTS)
    # (Python never calls an ambiguous wall time equal to an instant of another zone.)
    assert event.start.timestamp() == window.start.timestamp()
    assert event.end.replace(tzinfo=None) >= event.start.replace(tzinfo=None)

    # Any other window keeps its times.
    window = CurtailmentWindow(
        start=datetime(2026, 11, 2, 1, 0, tzinfo=UTC),
        end=datetime(2026, 11, 2, 4, 0, tzinfo=UTC),
        reason=Reason.TOU_PEAK,
        reasons=frozenset({Reason.TOU_PEAK}),
    )
    event = _event(window, TEXTS)
    assert (event.start, event.end) == (window.start, window.end)
