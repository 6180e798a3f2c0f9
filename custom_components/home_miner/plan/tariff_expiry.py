"""A repair issue from two weeks before a plan's URDB rate ends, while there is time to choose
the rate that replaces it; after the end the plan has no time-of-use periods at all."""

from __future__ import annotations

from datetime import datetime, timedelta
import re

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..curtailment import Tariff, UrdbTariff

WARN_BEFORE_END = timedelta(days=14)
_RATE_PAGE = "https://apps.openei.org/IURDB/rate/view/{label}"
_URDB_LABEL = re.compile(r"[0-9a-f]{24}")


def issue_id(entry: ConfigEntry) -> str:
    return f"urdb_rate_ends_{entry.entry_id}"


@callback
def async_watch_tariff_expiry(
    hass: HomeAssistant, entry: ConfigEntry, tariff: Tariff | None
) -> None:
    """Keep the plan's "rate ends" issue in step with its rate until the entry unloads."""
    entry.async_on_unload(lambda: ir.async_delete_issue(hass, DOMAIN, issue_id(entry)))
    if not isinstance(tariff, UrdbTariff) or tariff.end is None:
        return
    rate, end = tariff, tariff.end

    @callback
    def _update(now: datetime) -> None:
        if now < end - WARN_BEFORE_END:
            _at(end - WARN_BEFORE_END)
            return
        ended = now >= end
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id(entry),
            is_fixable=False,
            learn_more_url=_RATE_PAGE.format(label=rate.label)
            if rate.label and _URDB_LABEL.fullmatch(rate.label)
            else None,
            severity=ir.IssueSeverity.ERROR if ended else ir.IssueSeverity.WARNING,
            translation_key="urdb_rate_ended" if ended else "urdb_rate_ending",
            translation_placeholders={
                "plan": entry.title,
                "rate": rate.name or rate.label or "URDB",
                "utility": rate.utility or "?",
                "end": dt_util.as_local(end).date().isoformat(),
            },
        )
        if not ended:
            _at(end)

    def _at(when: datetime) -> None:
        entry.async_on_unload(async_track_point_in_utc_time(hass, _update, when))

    _update(dt_util.utcnow())
